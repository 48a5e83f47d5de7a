"""GraphQL over HTTP: reading requests and shaping responses as the specification asks.

* ``GET`` carries ``query``, ``variables``, ``operationName``, ``extensions`` (and
  ``documentId``) in the query string and may only run queries; ``POST`` carries them as
  ``application/json`` (any other content type: 415).
* The body is limited before it is parsed: a ``Content-Length`` over the limit is refused
  unread, and a streamed body is cut off as soon as it passes the limit (413).
* Answers are ``application/graphql-response+json`` when the client accepts it, else
  ``application/json``. A request that never executes (unreadable, refused, unparsable, invalid,
  over a limit) is a 4xx without ``data``; a result with ``data`` is 200, even with errors.
* Batches (a JSON array) are off unless ``GATEWAY_BATCH_MAX_OPERATIONS`` allows them.

Request-level problems are ``RequestRejected``: a status, a contract code, a safe message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.requests import ClientDisconnect, Request

from gateway.csrf import media_type
from gateway.errors import ErrorCode

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


class RequestRejected(Exception):
    """The request is answered with an error before any operation executes."""

    def __init__(
        self,
        status: int,
        code: ErrorCode,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def bad_request(message: str) -> RequestRejected:
    return RequestRejected(400, ErrorCode.BAD_USER_INPUT, message)


@dataclass(slots=True)
class OperationRequest:
    """One GraphQL request (a batch holds several)."""

    query: str | None = None
    variables: dict[str, Any] | None = None
    operation_name: str | None = None
    extensions: dict[str, Any] = field(default_factory=dict)
    document_id: str | None = None

    @property
    def persisted_hash(self) -> str | None:
        persisted = self.extensions.get("persistedQuery")
        if not isinstance(persisted, dict):
            return None
        if persisted.get("version", 1) != 1:
            raise bad_request("Unsupported persisted query version.")
        sha256 = persisted.get("sha256Hash")
        if not isinstance(sha256, str) or not sha256:
            raise bad_request("persistedQuery.sha256Hash must be a non-empty string.")
        return sha256


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The body, refused with 413 as soon as it is known to exceed ``max_bytes``."""
    too_large = RequestRejected(
        413, ErrorCode.BAD_USER_INPUT, f"Request body exceeds the limit of {max_bytes} bytes."
    )
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > max_bytes:
                raise too_large
        except ValueError:
            raise bad_request("Content-Length is not a number.") from None
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_bytes:
                raise too_large
            chunks.append(chunk)
    except ClientDisconnect:
        raise bad_request("The client disconnected while sending the body.") from None
    return b"".join(chunks)


def _json(text: str | bytes, what: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        raise bad_request(f"{what} is not valid JSON.") from None


def _operation(data: object) -> OperationRequest:
    if not isinstance(data, dict):
        raise bad_request("A GraphQL request must be a JSON object.")
    query = data.get("query")
    variables = data.get("variables")
    operation_name = data.get("operationName")
    extensions = data.get("extensions")
    document_id = data.get("documentId")
    if not isinstance(query, str | None):
        raise bad_request("`query` must be a string.")
    if not isinstance(variables, dict | None):
        raise bad_request("`variables` must be an object.")
    if not isinstance(operation_name, str | None):
        raise bad_request("`operationName` must be a string.")
    if not isinstance(extensions, dict | None):
        raise bad_request("`extensions` must be an object.")
    if not isinstance(document_id, str | None):
        raise bad_request("`documentId` must be a string.")
    return OperationRequest(
        query=query or None,
        variables=variables,
        operation_name=operation_name or None,
        extensions=extensions or {},
        document_id=document_id or None,
    )


def _from_query_string(request: Request) -> OperationRequest:
    params = request.query_params
    data: dict[str, Any] = {
        key: params[key] for key in ("query", "operationName", "documentId") if key in params
    }
    for key in ("variables", "extensions"):
        if params.get(key):
            data[key] = _json(params[key], f"`{key}`")
    return _operation(data)


async def read_operations(
    request: Request, *, max_body_bytes: int, batch_max_operations: int
) -> tuple[list[OperationRequest], bool]:
    """The operations of a request, and whether it was a batch."""
    if request.method == "GET":
        return [_from_query_string(request)], False
    if media_type(request.headers.get("content-type")) != JSON:
        raise RequestRejected(
            415,
            ErrorCode.BAD_USER_INPUT,
            "Unsupported Content-Type: send application/json.",
            headers={"Accept-Post": JSON},
        )
    data = _json(await read_body(request, max_body_bytes), "The request body")
    if not isinstance(data, list):
        return [_operation(data)], False
    if batch_max_operations == 0:
        raise bad_request("Batched requests are not enabled.")
    if not data:
        raise bad_request("A batch needs at least one operation.")
    if len(data) > batch_max_operations:
        raise bad_request(f"A batch may hold at most {batch_max_operations} operations.")
    return [_operation(item) for item in data], True


def response_media_type(accept: str | None) -> str:
    """``application/graphql-response+json`` if accepted, before or without application/json."""
    if not accept:
        return JSON
    for part in accept.split(","):
        essence = media_type(part)
        if essence == GRAPHQL_RESPONSE:
            return GRAPHQL_RESPONSE
        if essence == JSON:
            return JSON
    return JSON


def error_payload(code: ErrorCode, message: str) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code.value}}]}
