"""``/graphql`` over HTTP: reads GET, POST and batches into operations for the pipeline, and
writes their outcomes back as GraphQL-over-HTTP answers.

Everything between reading and writing is the operation pipeline's (``gateway.operations``),
which every transport shares; this module owns only what HTTP has and the others do not: the
method, the body and the media types (``media_types``), CSRF prevention, the request-wide
credential check (a bad credential is a 401 for the whole request, RFC 6750, with a challenge
naming the credential's scheme), statuses, and cache headers.

Every answer, refusals of the method or the ``Accept`` header included, has the contract's
JSON error shape: a client never has to parse a framework's plain-text error page.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import Receive, Scope, Send

from auth.credentials import Authenticator
from auth.principal import Principal
from contract.errors import (
    API_KEY_SCHEME,
    AuthenticationError,
    ErrorCode,
    UpstreamError,
    UpstreamTimeoutError,
)
from datasources.resilience import Deadline
from datasources.tracing import span
from gateway.http import csrf
from gateway.http.admission import request_deadline
from gateway.http.cache_headers import cache_headers
from gateway.http.graphiql import CONTENT_SECURITY_POLICY, GraphiQLPage
from gateway.http.idempotency_header import idempotency_key
from gateway.http.media_types import (
    GRAPHQL_RESPONSE,
    JSON,
    answer_status,
    negotiate,
    response_media_type,
)
from gateway.http.protocol import read_operations
from gateway.observability.record import note_errors, note_principal
from gateway.operations.pipeline import OperationPipeline, Outcome
from gateway.operations.refusal import Refused
from gateway.operations.request import OperationCall, PrincipalSource, Transport
from gateway.settings import Settings
from schema.masking import MASKED_MESSAGE

logger = logging.getLogger("manifold.errors")

#: ``Retry-After`` when credentials cannot be checked because the identity provider is down.
AUTH_RETRY_AFTER_SECONDS = 5

_OPERATION_PARAMS = ("query", "documentId", "extensions")

#: The methods ``/graphql`` serves; anything else (HEAD, OPTIONS without CORS, PUT…) is a 405.
ALLOWED_METHODS = ("GET", "POST")


def challenge(error: AuthenticationError) -> str:
    """The ``WWW-Authenticate`` challenge for a refused credential, in its own scheme: RFC 6750
    for bearer tokens, and the same parameters for API keys, plus the header they go in."""
    description = error.message.replace("\\", "/").replace('"', "'")
    parameters = f'error="{error.reason}", error_description="{description}"'
    if error.scheme == API_KEY_SCHEME:
        return f'{API_KEY_SCHEME} header="X-API-Key", {parameters}'
    return f"{error.scheme} {parameters}"


def unauthenticated_response(error: AuthenticationError) -> Response:
    """A bad credential fails the whole request (RFC 6750), never degrading to anonymous."""
    note_errors({"errors": [{"extensions": {"code": ErrorCode.UNAUTHENTICATED}}]})
    return JSONResponse(
        {"errors": [{"message": error.message, "extensions": {"code": ErrorCode.UNAUTHENTICATED}}]},
        status_code=401,
        headers={"WWW-Authenticate": challenge(error)},
    )


def request_principal(
    authenticator: Authenticator, request: Request, deadline: Deadline
) -> PrincipalSource:
    """The request's caller, authenticated once, only when an operation gets that far."""
    found: list[Principal] = []

    async def principal() -> Principal:
        if not found:
            try:
                # Checking a credential may need the database or the identity provider: it
                # gets what is left of the request's deadline, like every other call.
                with span("authenticate"):
                    async with asyncio.timeout(deadline.remaining()):
                        caller = await authenticator.authenticate(
                            request.headers, request.query_params
                        )
            except TimeoutError:
                raise UpstreamTimeoutError(
                    "credentials could not be checked in time; retry shortly"
                ) from None
            note_principal(caller.kind.value)
            found.append(caller)
        return found[0]

    return principal


def graphiql_response(page: GraphiQLPage) -> Response:
    return HTMLResponse(
        page.html,
        headers={
            # With a development token inside, no cache may keep the page.
            "Cache-Control": "no-store" if page.holds_credential else "no-cache",
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )


class GraphQLView:
    def __init__(
        self, *, settings: Settings, pipeline: OperationPipeline, authenticator: Authenticator
    ) -> None:
        self.settings = settings
        self.pipeline = pipeline
        self.authenticator = authenticator
        token = settings.graphiql_token
        self.graphiql = (
            GraphiQLPage(
                endpoint="/graphql", token=None if token is None else token.get_secret_value()
            )
            if settings.graphiql_enabled
            else None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive=receive)
        response: Response
        try:
            response = await self.handle(request, negotiate(request.headers.get("accept")))
        except AuthenticationError as error:
            response = unauthenticated_response(error)
        except UpstreamError as error:
            # Credentials could not be checked (the identity provider is down): retry later.
            refused = Refused.because(
                503,
                error.code,
                error.message,
                headers={"Retry-After": str(AUTH_RETRY_AFTER_SECONDS)},
            )
            response = self.respond(request, refused.payload(), refused.status, refused.headers)
        except Refused as refused:
            response = self.respond(request, refused.payload(), refused.status, refused.headers)
        except Exception:
            # Outside execution (protocol, persisted operations): masked like a resolver crash.
            request_id = _request_id(request)
            logger.exception(
                "unexpected failure serving /graphql", extra={"request_id": request_id}
            )
            body = Refused.because(500, ErrorCode.INTERNAL_SERVER_ERROR, MASKED_MESSAGE).payload()
            body["errors"][0]["extensions"]["requestId"] = request_id
            response = self.respond(request, body, 500)
        cache_headers(request, response)
        await response(scope, receive, send)

    def wants_ide(self, request: Request) -> bool:
        return (
            request.method == "GET"
            and not any(name in request.query_params for name in _OPERATION_PARAMS)
            and "text/html" in request.headers.get("accept", "")
        )

    async def handle(self, request: Request, answer_type: str | None) -> Response:
        if request.method not in ALLOWED_METHODS:
            raise Refused.because(
                405,
                ErrorCode.OPERATION_NOT_ALLOWED,
                f"{request.method} is not served on /graphql: use GET for queries or POST.",
                headers={"Allow": ", ".join(ALLOWED_METHODS)},
            )
        if self.graphiql is not None and self.wants_ide(request):
            return graphiql_response(self.graphiql)
        if answer_type is None:
            raise Refused.because(
                406,
                ErrorCode.BAD_USER_INPUT,
                f"Cannot answer in any media type the Accept header allows: accept "
                f"{GRAPHQL_RESPONSE} or {JSON}.",
            )
        settings = self.settings
        if settings.csrf_prevention and csrf.could_be_cross_site(request.method, request.headers):
            raise Refused.because(400, ErrorCode.OPERATION_NOT_ALLOWED, csrf.MESSAGE)
        key = idempotency_key(request.headers) if request.method == "POST" else None
        operations, is_batch = await read_operations(
            request,
            max_body_bytes=settings.max_body_bytes,
            batch_max_operations=settings.batch_max_operations,
        )
        # One deadline for the whole HTTP request, batches included: it starts when the
        # request arrives (admission makes it, so queueing counts), and every operation's
        # backend calls share what is left of it.
        deadline = request_deadline(request.scope) or Deadline(settings.request_timeout_seconds)
        principal = request_principal(self.authenticator, request, deadline)
        transport = Transport.HTTP_GET if request.method == "GET" else Transport.HTTP_POST
        request_id = _request_id(request)
        client = request.client
        outcomes: list[Outcome] = []
        for operation in operations:  # in order: a batch shares one database connection
            with span("graphql.operation"):
                outcomes.append(
                    await self.pipeline.run(
                        OperationCall(
                            operation=operation,
                            transport=transport,
                            principal=principal,
                            deadline=deadline,
                            request_id=request_id,
                            client_ip=client.host if client else None,
                            idempotency_key=key,
                        )
                    )
                )
        if not is_batch:
            (outcome,) = outcomes
            status = answer_status(answer_type, outcome.status, request_error=outcome.request_error)
            return self.respond(request, outcome.payload, status, outcome.headers)
        # A batch is 200 whatever each operation's fate (each reports its own refusal in its
        # errors); the last operation's headers describe the budget as it is now.
        return self.respond(
            request,
            [outcome.payload for outcome in outcomes],
            200,
            _merged_headers(outcomes),
        )

    @staticmethod
    def respond(
        request: Request, body: Any, status: int, headers: dict[str, str] | None = None
    ) -> Response:
        note_errors(body)
        response = Response(
            orjson.dumps(body),
            status_code=status,
            media_type=response_media_type(request.headers.get("accept")),
        )
        for name, value in (headers or {}).items():
            response.headers[name] = value
        return response


def _merged_headers(outcomes: list[Outcome]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for outcome in outcomes:
        headers.update(outcome.headers)
    return headers


def _request_id(request: Request) -> str:
    request_id: str = request.scope.get("state", {}).get("request_id", "")
    return request_id
