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

Request-level problems are ``Refused``, the pipeline's own refusal: a status, a contract code,
a safe message.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import ClientDisconnect, Request

from contract.errors import ErrorCode
from gateway.http.media_types import JSON, media_type
from gateway.operations.refusal import Refused, bad_request
from gateway.operations.request import OperationRequest


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The body, refused with 413 as soon as it is known to exceed ``max_bytes``."""
    too_large = Refused.because(
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


def operation_from(data: object) -> OperationRequest:
    """One operation of a JSON request (a POST body, a GET query string, a subscribe payload)."""
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
    return operation_from(data)


async def read_operations(
    request: Request, *, max_body_bytes: int, batch_max_operations: int
) -> tuple[list[OperationRequest], bool]:
    """The operations of a request, and whether it was a batch."""
    if request.method == "GET":
        return [_from_query_string(request)], False
    if media_type(request.headers.get("content-type")) != JSON:
        raise Refused.because(
            415,
            ErrorCode.BAD_USER_INPUT,
            "Unsupported Content-Type: send application/json.",
            headers={"Accept-Post": JSON},
        )
    data = _json(await read_body(request, max_body_bytes), "The request body")
    if not isinstance(data, list):
        return [operation_from(data)], False
    if batch_max_operations == 0:
        raise bad_request("Batched requests are not enabled.")
    if not data:
        raise bad_request("A batch needs at least one operation.")
    if len(data) > batch_max_operations:
        raise bad_request(f"A batch may hold at most {batch_max_operations} operations.")
    return [operation_from(item) for item in data], True
