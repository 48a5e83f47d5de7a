"""Reading graphql-transport-ws frames: every malformed frame is a close code, never a crash."""

from __future__ import annotations

import pytest

from gateway.subscriptions import protocol
from gateway.subscriptions.protocol import CloseCode, ProtocolViolation


def test_connection_init_carries_its_payload():
    message = protocol.parse('{"type":"connection_init","payload":{"Authorization":"Bearer x"}}')
    assert message == protocol.ConnectionInit({"Authorization": "Bearer x"})


def test_connection_init_without_payload_has_an_empty_one():
    assert protocol.parse('{"type":"connection_init"}') == protocol.ConnectionInit({})


def test_subscribe_carries_its_id_and_request():
    message = protocol.parse('{"id":"a1","type":"subscribe","payload":{"query":"{ me { id } }"}}')
    assert message == protocol.Subscribe("a1", {"query": "{ me { id } }"})


def test_complete_names_its_operation():
    assert protocol.parse('{"id":"a1","type":"complete"}') == protocol.Complete("a1")


def test_ping_and_pong_are_read_with_or_without_payload():
    assert protocol.parse('{"type":"ping"}') == protocol.Ping(None)
    assert protocol.parse('{"type":"pong","payload":{"t":1}}') == protocol.Pong({"t": 1})


@pytest.mark.parametrize(
    "frame",
    [
        "not json",
        "[]",
        '"subscribe"',
        "{}",
        '{"type":"start","id":"1"}',  # the legacy subscriptions-transport-ws protocol
        '{"type":"next","id":"1","payload":{}}',  # server-only
        '{"type":"subscribe","payload":{"query":"{ a }"}}',  # no id
        '{"type":"subscribe","id":7,"payload":{"query":"{ a }"}}',  # id not a string
        '{"type":"subscribe","id":"","payload":{"query":"{ a }"}}',
        '{"type":"subscribe","id":"' + "x" * 129 + '","payload":{}}',
        '{"type":"subscribe","id":"1","payload":"{ a }"}',  # payload not an object
        '{"type":"subscribe","id":"1"}',
        '{"type":"connection_init","payload":[1]}',
        '{"type":"complete"}',
        '{"type":null}',
    ],
)
def test_a_malformed_frame_is_a_bad_request_close(frame):
    with pytest.raises(ProtocolViolation) as raised:
        protocol.parse(frame)
    assert raised.value.code == CloseCode.BAD_REQUEST
    assert raised.value.reason.startswith("Invalid message received")


def test_invalid_utf8_bytes_are_a_bad_request_close():
    with pytest.raises(ProtocolViolation):
        protocol.parse(b"\xff\xfe")


def test_server_messages_are_the_protocol_s_json():
    assert protocol.next_message("1", {"data": None}) == (
        b'{"id":"1","type":"next","payload":{"data":null}}'
    )
    assert protocol.complete_message("1") == b'{"id":"1","type":"complete"}'
    assert protocol.error_message("1", [{"message": "m"}]) == (
        b'{"id":"1","type":"error","payload":[{"message":"m"}]}'
    )
