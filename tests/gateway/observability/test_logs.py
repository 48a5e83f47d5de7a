"""Logs: one access line per request with the fields an operator filters on, JSON with a
timestamp and ids in prod, credentials redacted on every line, upstream calls only at DEBUG."""

from __future__ import annotations

import json
import logging
from typing import Any

from gateway.observability.log import JsonFormatter, RequestIdFilter, configure_logging
from gateway.observability.redaction import RedactApiKeys

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def access_fields(caplog) -> dict[str, Any]:
    (record,) = [r for r in caplog.records if r.name == "manifold.access"]
    return {**record.fields, "request_id": record.request_id, "trace_id": record.trace_id}


async def test_one_access_line_names_the_request_caller_operation_status_and_codes(gateway, caplog):
    caplog.set_level(logging.INFO, logger="manifold.access")
    token = gateway.token("log-subject", "users:read")

    await gateway.execute(
        "query Mine { me { id } nope }",
        token=token,
        headers={"X-Request-ID": "req-42", "traceparent": TRACEPARENT},
    )

    fields = access_fields(caplog)
    assert fields["request_id"] == "req-42"
    assert fields["trace_id"] == "0af7651916cd43dd8448eb211c80319c"
    assert fields["method"] == "POST"
    assert fields["path"] == "/graphql"
    assert fields["status"] == 400
    assert fields["error_codes"] == ["GRAPHQL_VALIDATION_FAILED"]
    assert fields["duration_ms"] > 0


async def test_the_access_line_names_the_principal_kind_and_operation(gateway, caplog):
    caplog.set_level(logging.INFO, logger="manifold.access")

    await gateway.execute("query Mine { me { id } }", token=gateway.token("log-subject"))

    fields = access_fields(caplog)
    assert fields["principal"] == "user"
    assert fields["operation_type"] == "query"
    assert fields["operation_name"] == "Mine"
    assert fields["status"] == 200


def test_a_json_line_has_a_timestamp_level_ids_and_the_lines_fields():
    record = logging.LogRecord(
        "manifold.access", logging.INFO, __file__, 1, "POST %s", ("/x",), None
    )
    record.fields = {"status": 200}
    RequestIdFilter().filter(record)

    line = json.loads(JsonFormatter().format(record))

    assert line["timestamp"].endswith("+00:00")
    assert line["level"] == "info"
    assert line["message"] == "POST /x"
    assert line["status"] == 200
    assert {"request_id", "trace_id"} <= set(line)


def test_a_key_in_a_json_line_is_redacted():
    record = logging.LogRecord(
        "any", logging.INFO, __file__, 1, "saw %s", ("mfk_abcdefabcdef_" + "S" * 40,), None
    )
    RedactApiKeys().filter(record)

    assert "S" * 40 not in JsonFormatter().format(record)


def test_httpx_request_lines_are_below_info():
    configure_logging("json", "INFO")

    assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)
    assert not logging.getLogger("manifold.upstream").isEnabledFor(logging.DEBUG)
