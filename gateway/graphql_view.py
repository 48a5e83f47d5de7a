"""``/graphql`` over HTTP: composes the protocol (``http_protocol``), CSRF prevention (``csrf``)
and the operation pipeline (``operations``) with our context, auth and serialization.

Strawberry's view is kept for what it does well (GraphiQL's page); the request path is ours,
because the GraphQL-over-HTTP status codes, limits and persisted operations all need to act
before Strawberry would parse anything.

Every answer says what a shared cache may do with it (``cache_headers``): an answer depends on
the caller's credentials, so it varies on them, and one to a caller who sent any is
``private, no-store`` (a CDN keeping it would hand one user's data to the next); refusals are
never stored. Anonymous successes stay cacheable, as GET and persisted queries invite.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL

from auth.principal import Principal
from datasources.loaders import build_loaders
from datasources.resilience import Deadline
from gateway import csrf
from gateway.errors import AuthenticationError, ErrorCode, UpstreamError, UpstreamTimeoutError
from gateway.http_protocol import (
    RequestRejected,
    error_payload,
    read_operations,
    response_media_type,
)
from gateway.operations import OperationPipeline, Outcome
from gateway.persisted import ApqStore
from gateway.resources import Resources
from schema.context import Context
from schema.errors import MASKED_MESSAGE
from schema.prepared import PreparedDocument

logger = logging.getLogger("manifold.errors")

#: ``Retry-After`` when credentials cannot be checked because the identity provider is down.
AUTH_RETRY_AFTER_SECONDS = 5

_OPERATION_PARAMS = ("query", "documentId", "extensions")
#: Request headers an answer depends on, besides ``Origin`` (which CORS adds to ``Vary``).
CREDENTIAL_HEADERS = ("Authorization", "X-API-Key")


def cache_headers(request: Request, response: Response) -> None:
    """``Vary`` on the credentials, and ``Cache-Control`` for credentialed or refused answers."""
    vary = [value.strip() for value in response.headers.get("Vary", "").split(",") if value]
    response.headers["Vary"] = ", ".join(
        [*vary, *(name for name in CREDENTIAL_HEADERS if name not in vary)]
    )
    if any(name in request.headers for name in CREDENTIAL_HEADERS):
        response.headers["Cache-Control"] = "private, no-store"
    elif response.status_code >= 400:
        response.headers["Cache-Control"] = "no-store"  # a CDN must not keep a refusal


def unauthenticated_response(error: AuthenticationError) -> Response:
    """A bad credential fails the whole request (RFC 6750), never degrading to anonymous."""
    description = error.message.replace('"', "'")
    return JSONResponse(
        {"errors": [{"message": error.message, "extensions": {"code": ErrorCode.UNAUTHENTICATED}}]},
        status_code=401,
        headers={
            "WWW-Authenticate": f'Bearer error="invalid_token", error_description="{description}"'
        },
    )


class GraphQLView(GraphQL[Context, None]):
    def __init__(self, resources: Resources) -> None:
        settings = resources.settings
        super().__init__(
            resources.schema,
            graphql_ide="graphiql" if settings.graphiql_enabled else None,
        )
        self.resources = resources
        self.pipeline = OperationPipeline(
            settings=settings,
            schema=resources.schema,
            apq=ApqStore(resources.cache, ttl_seconds=settings.apq_ttl_seconds)
            if settings.apq_enabled
            else None,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive=receive)
        response: Response
        try:
            response = await self.handle(request)
        except AuthenticationError as error:
            response = unauthenticated_response(error)
        except UpstreamError as error:
            # Credentials could not be checked (the identity provider is down): retry later.
            response = self.respond(request, error_payload(error.code, error.message), 503)
            response.headers["Retry-After"] = str(AUTH_RETRY_AFTER_SECONDS)
        except RequestRejected as rejected:
            response = self.respond(
                request, error_payload(rejected.code, rejected.message), rejected.status
            )
            response.headers.update(rejected.headers)
        except Exception:
            # Outside execution (protocol, persisted operations): masked like a resolver crash.
            request_id = request.scope.get("state", {}).get("request_id", "")
            logger.exception(
                "unexpected failure serving /graphql", extra={"request_id": request_id}
            )
            body = error_payload(ErrorCode.INTERNAL_SERVER_ERROR, MASKED_MESSAGE)
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

    async def handle(self, request: Request) -> Response:
        if self.graphql_ide and self.wants_ide(request):
            return await self.render_graphql_ide(request)
        settings = self.resources.settings
        if settings.csrf_prevention and csrf.could_be_cross_site(request.headers):
            raise RequestRejected(400, ErrorCode.OPERATION_NOT_ALLOWED, csrf.MESSAGE)
        operations, is_batch = await read_operations(
            request,
            max_body_bytes=settings.max_body_bytes,
            batch_max_operations=settings.batch_max_operations,
        )
        principals: list[Principal] = []

        async def principal() -> Principal:
            """Authenticated once per request, and only when an operation gets that far."""
            if not principals:
                try:
                    # Checking a credential may need the database or the identity provider:
                    # it gets what is left of the request's deadline, like every other call.
                    async with asyncio.timeout(deadline.remaining()):
                        caller = await self.resources.authenticator.authenticate(
                            request.headers, request.query_params
                        )
                except TimeoutError:
                    raise UpstreamTimeoutError(
                        "credentials could not be checked in time; retry shortly"
                    ) from None
                principals.append(caller)
            return principals[0]

        # One deadline for the whole HTTP request, batches included: it starts when the
        # request is read, and every operation's backend calls share what is left of it.
        deadline = Deadline(settings.request_timeout_seconds)

        async def make_context(
            caller: Principal, prepared: PreparedDocument, response: Response
        ) -> Context:
            return self.build_context(request, response, caller, deadline, prepared)

        request_id = request.scope.get("state", {}).get("request_id", "")
        outcomes = [
            await self.pipeline.run(
                operation,
                method=request.method,
                principal=principal,
                make_context=make_context,
                request_id=request_id,
            )
            for operation in operations  # in order: a batch shares one database connection
        ]
        body: Any = [outcome.payload for outcome in outcomes] if is_batch else outcomes[0].payload
        return self.respond(
            request, body, 200 if is_batch else outcomes[0].status, outcomes, batch=is_batch
        )

    def build_context(
        self,
        request: Request,
        response: Response,
        principal: Principal,
        deadline: Deadline,
        prepared: PreparedDocument | None = None,
    ) -> Context:
        request_id = request.scope.get("state", {}).get("request_id", "")
        return Context(
            request=request,
            response=response,
            principal=principal,
            loaders=build_loaders(
                self.resources.backends, deadline=deadline, request_id=request_id
            ),
            request_id=request_id,
            deadline=deadline,
            prepared=prepared,
            budgets=self.resources.budgets,
            api_keys=self.resources.api_keys,
        )

    def respond(
        self,
        request: Request,
        body: Any,
        status: int,
        outcomes: list[Outcome] | None = None,
        *,
        batch: bool = False,
    ) -> Response:
        response = Response(
            orjson.dumps(body),
            status_code=status,
            media_type=response_media_type(request.headers.get("accept")),
        )
        for outcome in outcomes or ():
            # A schema extension (cost, rate limits) may set a status and headers. In a batch
            # the last operation's headers describe the budget as it is now, and the status
            # stays 200: each operation reports its own refusal in its own errors.
            for name, value in outcome.response.headers.items():
                response.headers[name] = value
            if outcome.response.status_code and not batch:
                response.status_code = outcome.response.status_code
        return response
