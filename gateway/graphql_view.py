"""``/graphql`` over HTTP: Strawberry's ASGI view with our context, auth and serialization."""

from __future__ import annotations

import orjson
from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from auth.principal import Principal
from datasources.loaders import build_loaders
from gateway.errors import AuthenticationError, ErrorCode
from gateway.resources import Resources
from schema.context import Context
from schema.errors import classify_all


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
        super().__init__(
            resources.schema,
            graphql_ide="graphiql" if resources.settings.graphiql_enabled else None,
        )
        self.resources = resources

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive=receive)
        response: Response
        try:
            response = await self.run(request)
        except AuthenticationError as error:
            response = unauthenticated_response(error)
        except HTTPException as error:
            response = PlainTextResponse(error.reason, status_code=error.status_code)
        await response(scope, receive, send)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        principal: Principal = await self.resources.authenticator.authenticate(
            request.headers, request.query_params
        )
        return Context(
            request=request,
            response=response,
            principal=principal,
            loaders=build_loaders(
                database=self.resources.database, metrics=self.resources.metrics.datasources
            ),
            request_id=request.scope.get("state", {}).get("request_id", ""),
            budgets=self.resources.budgets,
            api_keys=self.resources.api_keys,
        )

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        if result.errors:
            result.errors = classify_all(
                result.errors, request.scope.get("state", {}).get("request_id")
            )
        return await super().process_result(request, result)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)
