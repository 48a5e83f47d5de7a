"""The ``graphql-transport-ws`` protocol (the ``graphql-ws`` library's): its messages, read
strictly, and its close codes.

Reading is pure (text in, a message or a protocol violation out), so every malformed frame a
client could send is decided here and tested without a socket: not JSON, not an object, an
unknown ``type``, a missing or non-string ``id``, a payload of the wrong shape. A violation is
the protocol's close code 4400 with a short reason; nothing about a bad frame raises past this
module.

https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import orjson

SUBPROTOCOL = "graphql-transport-ws"
#: The id a client may give one operation: graphql-ws's are UUIDs; a bound keeps logs sane.
MAX_ID_LENGTH = 128


class CloseCode(IntEnum):
    """Every code this transport closes with (docs/subscriptions.md has the table)."""

    NORMAL = 1000
    GOING_AWAY = 1001  # the replica is draining: reconnect (to another one)
    POLICY_VIOLATION = 1008  # a slow consumer: too far behind
    MESSAGE_TOO_BIG = 1009
    TRY_AGAIN_LATER = 1013  # this process serves its maximum of connections
    INTERNAL_SERVER_ERROR = 4500
    BAD_REQUEST = 4400  # a frame that is not the protocol
    UNAUTHORIZED = 4401  # subscribe before connection_ack; the token expired
    FORBIDDEN = 4403  # a bad credential at connection_init; a key revoked while connected
    SUBPROTOCOL_NOT_ACCEPTABLE = 4406
    CONNECTION_INITIALISATION_TIMEOUT = 4408
    SUBSCRIBER_ALREADY_EXISTS = 4409
    TOO_MANY_REQUESTS = 4429  # a second connection_init, or a flood of messages


class ProtocolViolation(Exception):
    def __init__(self, code: CloseCode, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ConnectionInit:
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Ping:
    payload: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Pong:
    payload: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Subscribe:
    id: str
    #: ``query``, ``operationName``, ``variables``, ``extensions`` (and ``documentId``), as a
    #: GraphQL-over-HTTP request names them.
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Complete:
    id: str


ClientMessage = ConnectionInit | Ping | Pong | Subscribe | Complete


def bad(reason: str) -> ProtocolViolation:
    return ProtocolViolation(CloseCode.BAD_REQUEST, reason)


def parse(frame: str | bytes) -> ClientMessage:
    """One client frame as a message, or ``ProtocolViolation`` (4400)."""
    try:
        data = orjson.loads(frame)
    except orjson.JSONDecodeError:
        raise bad("Invalid message received: not JSON") from None
    if not isinstance(data, dict):
        raise bad("Invalid message received: not an object")
    kind = data.get("type")
    if kind == "connection_init":
        return ConnectionInit(_optional_object(data, "payload") or {})
    if kind == "ping":
        return Ping(_optional_object(data, "payload"))
    if kind == "pong":
        return Pong(_optional_object(data, "payload"))
    if kind == "subscribe":
        payload = data.get("payload")
        if not isinstance(payload, dict):
            raise bad("Invalid message received: subscribe needs a payload object")
        return Subscribe(_id(data), payload)
    if kind == "complete":
        return Complete(_id(data))
    if isinstance(kind, str) and kind in _SERVER_ONLY:
        raise bad(f"Invalid message received: {kind} is sent by servers only")
    raise bad("Invalid message received: unknown type")


_SERVER_ONLY = frozenset({"connection_ack", "next", "error"})


def _id(data: dict[str, Any]) -> str:
    value = data.get("id")
    if not isinstance(value, str) or not value or len(value) > MAX_ID_LENGTH:
        raise bad(f"Invalid message received: id must be a string of 1 to {MAX_ID_LENGTH}")
    return value


def _optional_object(data: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad(f"Invalid message received: {key} must be an object")
    return value


def ack() -> bytes:
    return b'{"type":"connection_ack"}'


def pong(payload: dict[str, Any] | None = None) -> bytes:
    return orjson.dumps({"type": "pong", **({"payload": payload} if payload else {})})


def ping() -> bytes:
    return b'{"type":"ping"}'


def next_message(operation_id: str, payload: dict[str, Any]) -> bytes:
    return orjson.dumps({"id": operation_id, "type": "next", "payload": payload})


def error_message(operation_id: str, errors: list[dict[str, Any]]) -> bytes:
    return orjson.dumps({"id": operation_id, "type": "error", "payload": errors})


def complete_message(operation_id: str) -> bytes:
    return orjson.dumps({"id": operation_id, "type": "complete"})
