"""One GraphQL operation from request to result, cheapest refusals first.

1. The document is found: a trusted document by id, an APQ hash looked up (or registered), or
   the query text. In persisted-only mode anything else is refused here, before parsing, unless
   the caller holds the bypass scope.
2. It is parsed with the token limit (cached by text) and its shape is checked (depth, aliases,
   directives, root fields) — no authentication, SQL or upstream call has happened yet.
3. A mutation over GET is refused (405). Introspection is answered from the caller's view of
   the schema (``schema.visibility``); anything else is executed by Strawberry, which receives
   the parsed document (``schema.prepared``) rather than parsing again.

The result is classified (contract codes, masking) and given a status: a document that never
executed is a 400 without ``data`` (variables that do not coerce carry ``BAD_USER_INPUT``), an
unexpected failure before execution a 500, anything that executed a 200. Schema extensions
(cost and rate limits) may still override the status and add headers through
``context.response``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSyntaxError,
    get_operation_ast,
)
from graphql import (
    OperationType as AstOperationType,
)
from starlette.responses import Response
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType

from auth.principal import Principal
from gateway import limits
from gateway.errors import ErrorCode
from gateway.http_protocol import OperationRequest, RequestRejected, bad_request, error_payload
from gateway.introspection import IntrospectionRefused, ScopedIntrospection, root_fields
from gateway.persisted import ApqStore, TrustedDocuments, sha256_hex
from gateway.settings import Settings
from schema import DOCUMENT_CACHE_SIZE, ManifoldSchema
from schema.context import Context
from schema.errors import classify_all, error_code
from schema.prepared import PreparedDocument

PrincipalSource = Callable[[], Awaitable[Principal]]
ContextFactory = Callable[[Principal, PreparedDocument, Response], Awaitable[Context]]

_NEVER_EXECUTED_CLIENT_ERROR = 400


@dataclass(slots=True)
class Outcome:
    payload: dict[str, Any]
    status: int
    response: Response  # the context's response: status and headers set by extensions


class OperationPipeline:
    def __init__(self, *, settings: Settings, schema: ManifoldSchema, apq: ApqStore | None) -> None:
        self.settings = settings
        self.schema = schema
        self.limits = limits.ShapeLimits.from_settings(settings)
        self.apq = apq
        self.trusted = TrustedDocuments.load(
            settings.persisted_manifest,
            validate=lambda document: schema.caches.validate(
                schema._schema, document, schema.validation_rules
            ),
        )
        self.introspection = (
            ScopedIntrospection(settings=settings, schema=schema)
            if settings.introspection_enabled and settings.introspection_by_scope
            else None
        )
        self._parse: Callable[[str], tuple[DocumentNode, bool]] = lru_cache(
            maxsize=DOCUMENT_CACHE_SIZE
        )(lambda query: limits.parse_limited(query, self.limits))

    async def run(
        self,
        operation: OperationRequest,
        *,
        method: str,
        principal: PrincipalSource,
        make_context: ContextFactory,
        request_id: str,
    ) -> Outcome:
        response = Response()
        response.status_code = None  # type: ignore[assignment]  # unset unless an extension sets it
        del response.headers["content-length"]
        try:
            return await self._run(
                operation,
                method=method,
                principal=principal,
                make_context=make_context,
                request_id=request_id,
                response=response,
            )
        except RequestRejected as rejected:
            response.headers.update(rejected.headers)
            return Outcome(
                error_payload(rejected.code, rejected.message), rejected.status, response
            )
        except _Refused as refused:
            errors = [error.formatted for error in refused.errors]
            return Outcome({"errors": errors}, _NEVER_EXECUTED_CLIENT_ERROR, response)

    async def _source(
        self, operation: OperationRequest, principal: PrincipalSource
    ) -> tuple[str, DocumentNode | None, str | None]:
        """The query text, its trusted document if it is one, and a hash to register."""
        sha256 = operation.persisted_hash
        document_id = operation.document_id or (sha256 if operation.query is None else None)
        if document_id is not None:
            trusted = self.trusted.get(document_id)
            if trusted is not None:
                return trusted.query, trusted.document, None
        if self.settings.persisted_only:
            caller = await principal()
            if self.settings.persisted_bypass_scope not in caller.scopes:
                raise RequestRejected(
                    400,
                    ErrorCode.OPERATION_NOT_ALLOWED,
                    "This gateway serves only persisted operations.",
                )
        if operation.document_id is not None:
            raise RequestRejected(400, ErrorCode.PERSISTED_QUERY_NOT_FOUND, "Unknown documentId.")
        if sha256 is not None:
            if self.apq is None:
                raise RequestRejected(
                    400,
                    ErrorCode.PERSISTED_QUERY_NOT_FOUND,
                    "Automatic persisted queries are disabled.",
                )
            if operation.query is None:
                query = await self.apq.get(sha256)
                if query is None:
                    raise RequestRejected(
                        400, ErrorCode.PERSISTED_QUERY_NOT_FOUND, "PersistedQueryNotFound"
                    )
                return query, None, None
            if sha256_hex(operation.query) != sha256.lower():
                raise bad_request("provided sha does not match query")
            return operation.query, None, sha256
        if operation.query is None:
            raise bad_request("No GraphQL query found in the request.")
        return operation.query, None, None

    def _parse_checked(self, query: str) -> DocumentNode:
        try:
            document, over_tokens = self._parse(query)
        except GraphQLSyntaxError as error:
            code = (
                ErrorCode.MAX_TOKENS_LIMIT
                if limits.is_token_limit_error(error)
                else ErrorCode.GRAPHQL_PARSE_FAILED
            )
            raise _Refused(
                GraphQLError(
                    error.message,
                    source=error.source,
                    positions=error.positions,
                    extensions={"code": code.value},
                )
            ) from None
        violations = limits.check(document, self.limits, over_tokens=over_tokens)
        if violations:
            raise _Refused(
                *(
                    GraphQLError(violation.message, extensions={"code": violation.code.value})
                    for violation in violations
                )
            )
        return document

    async def _run(
        self,
        operation: OperationRequest,
        *,
        method: str,
        principal: PrincipalSource,
        make_context: ContextFactory,
        request_id: str,
        response: Response,
    ) -> Outcome:
        query, trusted, to_register = await self._source(operation, principal)
        document = trusted if trusted is not None else self._parse_checked(query)
        outcome = await self._execute(
            operation,
            query=query,
            document=document,
            trusted=trusted is not None,
            method=method,
            principal=principal,
            make_context=make_context,
            request_id=request_id,
            response=response,
        )
        if to_register is not None and self.apq is not None and outcome.status == 200:
            # Registered only once it executed: junk and invalid documents never fill the cache.
            await self.apq.register(to_register, query)
        return outcome

    async def _execute(
        self,
        operation: OperationRequest,
        *,
        query: str,
        document: DocumentNode,
        trusted: bool,
        method: str,
        principal: PrincipalSource,
        make_context: ContextFactory,
        request_id: str,
        response: Response,
    ) -> Outcome:
        selected = get_operation_ast(document, operation.operation_name)
        if selected is None:
            message = (
                f"Unknown operation named '{operation.operation_name}'."
                if operation.operation_name
                else "Must provide operation name if query contains multiple operations."
            )
            raise _Refused(
                GraphQLError(
                    message, extensions={"code": ErrorCode.GRAPHQL_VALIDATION_FAILED.value}
                )
            )
        if method == "GET" and selected.operation is not AstOperationType.QUERY:
            raise RequestRejected(
                405,
                ErrorCode.OPERATION_NOT_ALLOWED,
                f"Only queries may be sent over GET: send {selected.operation.value}s with POST.",
                headers={"Allow": "POST"},
            )

        caller = await principal()
        roots = root_fields(document, selected)
        if self.introspection is not None and self.introspection.asks(roots):
            try:
                answer = await self.introspection.answer(
                    document,
                    roots=roots,
                    caller=caller,
                    variables=operation.variables,
                    operation_name=operation.operation_name,
                )
            except IntrospectionRefused as refused:
                raise _Refused(refused.error) from None
            return self._outcome(answer, request_id, response)

        prepared = PreparedDocument(document, validated=trusted)
        context = await make_context(caller, prepared, response)
        try:
            result = await self.schema.execute(
                query,
                variable_values=operation.variables,
                context_value=context,
                operation_name=operation.operation_name,
                allowed_operation_types=OperationType.from_http(method),  # type: ignore[arg-type]
                operation_extensions=operation.extensions,
            )
        except (MissingQueryError, CannotGetOperationTypeError, InvalidOperationTypeError) as error:
            raise bad_request(str(error) or "The operation cannot be executed.") from None
        return self._outcome(result, context.request_id, response)

    def _outcome(
        self, result: ExecutionResult, request_id: str | None, response: Response
    ) -> Outcome:
        raw = list(result.errors or [])
        # Variable coercion fails inside graphql-core's execute, before any resolver.
        variables_refused = (
            not isinstance(result, PreExecutionError)
            and result.data is None
            and bool(raw)
            and all(error.path is None for error in raw)
        )
        if variables_refused:
            raw = [_as_bad_user_input(error) for error in raw]
        errors = classify_all(raw, request_id) if raw else []
        payload: dict[str, Any] = {}
        status = 200
        never_executed = isinstance(result, PreExecutionError) or variables_refused
        if never_executed:
            codes = {error.extensions.get("code") for error in errors if error.extensions}
            status = 500 if ErrorCode.INTERNAL_SERVER_ERROR.value in codes else 400
        else:
            payload["data"] = result.data
        if errors:
            payload["errors"] = [error.formatted for error in errors]
        if result.extensions:
            payload["extensions"] = result.extensions
        return Outcome(payload, status, response)


def _as_bad_user_input(error: GraphQLError) -> GraphQLError:
    """A variable value that does not coerce is the caller's input, not an invalid document:
    ``BAD_USER_INPUT`` (as Apollo Server reports it). Errors with their own code keep it."""
    if error_code(error) is not ErrorCode.GRAPHQL_VALIDATION_FAILED:
        return error
    return GraphQLError(
        error.message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=error.original_error,
        extensions={**(error.extensions or {}), "code": ErrorCode.BAD_USER_INPUT.value},
    )


class _Refused(Exception):
    """A document refused before execution (parse, limits, validation): 400 with its errors."""

    def __init__(self, *errors: GraphQLError) -> None:
        super().__init__(errors[0].message)
        self.errors = list(errors)
