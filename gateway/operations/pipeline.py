"""One GraphQL operation from request to result, the same steps for every transport, cheapest
refusals first.

1. **Find the document**: a trusted document by id, an APQ hash looked up (or registered), or
   the query text. In persisted-only mode anything else is refused here, before parsing, unless
   the caller holds the bypass scope (the one step that may authenticate this early).
2. **Parse** with the token limit, cached by text with the document's analysis.
3. **Shape limits** (depth, aliases, directives, root fields) from the cached analysis; trusted
   documents, reviewed ahead of time, are exempt. No credential, SQL or upstream call yet.
4. **Select the operation** and check the transport may carry it (no mutation over GET).
5. **Authenticate**: the transport's principal source checks the credential once per request
   (or connection); a bad one fails the whole request, which is the transport's to answer.
6. **Introspection** is answered from the caller's scoped view of the schema.
7. **Validate** (cached on the document) and **coerce the variables**.
8. **Price and charge** the caller's budget (``gateway.demand``).
9. **Execute** with the deadline, on one typed ``Context`` built here and nowhere else.

A refusal at any step is an ``Outcome`` without ``data``, with its status (4xx) and headers; an
executed operation is 200 with ``data``, field errors classified (contract codes, masking).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import ExecutionResult, GraphQLError, GraphQLSyntaxError, OperationType
from graphql.execution.values import VariableValues, get_variable_values

from auth.api_keys import ApiKeys
from auth.principal import Principal
from contract.errors import ErrorCode
from datasources.event_fanout import EventFanout
from datasources.loaders import Backends, build_loaders
from datasources.resilience import Deadline
from datasources.tracing import span
from datasources.write_backends import WriteBackends
from gateway.demand.charge import FREE, Charge, Demand
from gateway.observability.record import note_operation
from gateway.operations import limits
from gateway.operations.analysis import OperationAnalysis
from gateway.operations.compiled import Execution, OperationPlan, Unsupported
from gateway.operations.documents import Document, DocumentCache, Validator
from gateway.operations.execution import execute_operation
from gateway.operations.idempotency_scope import check_header_key_scope, keyed_mutations
from gateway.operations.input_text import check_input_text
from gateway.operations.introspection import ScopedIntrospection
from gateway.operations.persisted import ApqStore, TrustedDocuments, sha256_hex
from gateway.operations.refusal import Refused, bad_request
from gateway.operations.request import OperationCall, Transport
from gateway.operations.shared_events import SharedEventExecutions
from schema import ManifoldSchema
from schema.context import Context, ResponseMeta
from schema.masking import classify_all, log_unexpected

#: graphql-core's own cap on variable coercion errors, so both coercions report alike.
MAX_COERCION_ERRORS = 50

#: Counts each execution by path ("compiled" or "interpreted") and why (a bounded reason).
ExecutionCounter = Callable[[str, str], None]


@dataclass(slots=True)
class Outcome:
    """What a transport answers with: the GraphQL response, and for transports that have them,
    an HTTP status and headers."""

    payload: dict[str, Any]
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    #: A refusal that is a GraphQL request error (``Refused.request_error``): HTTP answers it
    #: 200 under the legacy ``application/json`` media type.
    request_error: bool = False


@dataclass(frozen=True, slots=True)
class _Source:
    query: str
    #: The trusted document, already parsed, analysed and validated; None for any other text.
    trusted: Document | None = None
    #: An APQ hash to register once the query has executed.
    register_as: str | None = None


@dataclass(frozen=True, slots=True)
class Prepared:
    """An operation that passed every check and may run: what execution (or a subscription)
    needs, and nothing the transport would have to compute again."""

    call: OperationCall
    document: Document
    operation: OperationAnalysis
    principal: Principal
    variables: VariableValues
    charge: Charge
    register_as: str | None
    query: str


@dataclass(frozen=True, slots=True)
class PersistedPolicy:
    #: Serve only trusted documents, except to holders of ``bypass_scope``.
    only: bool = False
    bypass_scope: str = "operations:any"


class OperationPipeline:
    def __init__(
        self,
        *,
        schema: ManifoldSchema,
        backends: Backends,
        shape_limits: limits.ShapeLimits,
        validator: Validator,
        trusted: TrustedDocuments,
        apq: ApqStore | None,
        introspection: ScopedIntrospection | None,
        demand: Demand,
        persisted: PersistedPolicy,
        api_keys: ApiKeys | None = None,
        compiled: bool = True,
        count_execution: ExecutionCounter | None = None,
        writes: WriteBackends | None = None,
        events: EventFanout | None = None,
    ) -> None:
        self.schema = schema
        self.backends = backends
        self.limits = shape_limits
        self.documents = DocumentCache(shape_limits)
        self.validator = validator
        self.trusted = trusted
        self.apq = apq
        self.introspection = introspection
        self.demand = demand
        self.persisted = persisted
        self.api_keys = api_keys
        self.compiled = compiled
        self.count_execution = count_execution or (lambda _path, _reason: None)
        self.writes = writes
        self.keyed_mutations = keyed_mutations(schema._schema)
        self.events = events
        self.shared_events = SharedEventExecutions()

    async def run(self, call: OperationCall) -> Outcome:
        """Execute one query or mutation, or say why not.

        A bad or uncheckable credential (``AuthenticationError``, ``UpstreamError`` from the
        principal source) propagates: it fails the whole request, whatever the transport.
        """
        try:
            prepared = await self.prepare(call)
            if isinstance(prepared, Outcome):
                return prepared
            return await self.execute(prepared)
        except Refused as refused:
            return Outcome(
                refused.payload(call.request_id),
                refused.status,
                refused.headers,
                request_error=refused.request_error,
            )

    async def prepare(self, call: OperationCall) -> Prepared | Outcome:
        """Every step before execution; an ``Outcome`` when introspection answered already.

        Raises ``Refused`` for an operation that may not run.
        """
        source = await self._source(call)
        with span("parse"):
            document = source.trusted or self._parse(source.query)
            if source.trusted is None:
                self._check_shape(document)
        operation = self._select(document, call)
        name = operation.node.name
        note_operation(
            operation.kind.value, name.value if name else None, trusted=source.trusted is not None
        )
        principal = await call.principal()
        if self.introspection is not None and operation.asks_introspection:
            answer = await self.introspection.answer(
                document.node,
                operation,
                caller=principal,
                variables=call.operation.variables,
                operation_name=call.operation.operation_name,
            )
            return self.answer(answer, call.request_id, ResponseMeta(), FREE)
        with span("validate"):
            errors = document.validated(self.validator)
            if errors:
                raise Refused(400, errors)
            variables = self._coerce(operation, call.operation.variables)
            check_input_text(document.text_problems(), operation.node, variables)
            check_header_key_scope(operation, self.keyed_mutations, call.idempotency_key)
        with span("charge"):
            charge = await self.demand.charge(
                self.schema._schema,
                operation.node,
                document.analysis.fragments,
                variables,
                principal=principal,
                client_ip=call.client_ip,
            )
        return Prepared(
            call=call,
            document=document,
            operation=operation,
            principal=principal,
            variables=variables,
            charge=charge,
            register_as=source.register_as,
            query=source.query,
        )

    def context(self, prepared: Prepared) -> Context:
        """The one place a resolver context is made, for every transport."""
        return self.event_context(prepared, prepared.call.deadline)

    def event_context(self, prepared: Prepared, deadline: Deadline) -> Context:
        """A context with its own ``deadline``: each event of a subscription gets one."""
        call = prepared.call
        return Context(
            principal=prepared.principal,
            loaders=build_loaders(self.backends, deadline=deadline, request_id=call.request_id),
            request_id=call.request_id,
            deadline=deadline,
            response=ResponseMeta(headers=dict(prepared.charge.headers)),
            api_keys=self.api_keys,
            cost=prepared.charge.status,
            writes=self.writes,
            idempotency_key=call.idempotency_key,
            events=self.events,
        )

    async def execute(self, prepared: Prepared) -> Outcome:
        """Execute a prepared query or mutation (a subscription's events: ``subscription``)."""
        context = self.context(prepared)
        operation = prepared.call.operation
        plan = self._plan(prepared)
        with span("execute"):
            if isinstance(plan, OperationPlan):
                self.count_execution("compiled", "")
                result = await Execution(
                    plan,
                    context=context,
                    variables=prepared.variables,
                    operation_extensions=operation.extensions,
                ).run()
            else:
                self.count_execution("interpreted", plan)
                result = await execute_operation(
                    self.schema,
                    prepared.document.node,
                    operation_name=operation.operation_name,
                    variables=operation.variables,
                    context=context,
                    operation_extensions=operation.extensions,
                )
        outcome = self.answer(result, context.request_id, context.response, prepared.charge)
        if prepared.register_as is not None and self.apq is not None:
            # Registered only once it executed: junk and invalid documents never fill the cache.
            await self.apq.register(prepared.register_as, prepared.query)
        return outcome

    def _plan(self, prepared: Prepared) -> OperationPlan | str:
        """The operation's compiled plan, built on its first execution and kept with the
        document; else why it runs interpreted."""
        if not self.compiled:
            return "disabled"
        plans = prepared.document.plans
        name = prepared.call.operation.operation_name
        plan = plans.get(name)
        if plan is None:
            try:
                plan = OperationPlan(
                    self.schema,
                    prepared.operation.node,
                    prepared.document.analysis.fragments,
                    hide_suggestions=self.validator.hide_suggestions,
                )
            except Unsupported as unsupported:
                plan = unsupported.reason
            plans[name] = plan
        return plan

    @staticmethod
    def answer(
        result: ExecutionResult, request_id: str, response: ResponseMeta, charge: Charge
    ) -> Outcome:
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            errors = list(result.errors)
            log_unexpected(errors, request_id)
            formatted: list[dict[str, Any]] = [
                dict(error.formatted) for error in classify_all(errors, request_id)
            ]
            payload["errors"] = in_response_order(formatted, result.data)
        if charge.report is not None:
            payload["extensions"] = {"cost": charge.report}
        return Outcome(payload, response.status or 200, response.headers)

    async def _source(self, call: OperationCall) -> _Source:
        """The query text, its trusted document if it is one, and a hash to register."""
        operation = call.operation
        sha256 = operation.persisted_hash
        document_id = operation.document_id or (sha256 if operation.query is None else None)
        if document_id is not None:
            trusted = self.trusted.get(document_id)
            if trusted is not None:
                return _Source(trusted.query, trusted=trusted.document)
        if self.persisted.only:
            caller = await call.principal()
            if self.persisted.bypass_scope not in caller.scopes:
                raise Refused.because(
                    400,
                    ErrorCode.OPERATION_NOT_ALLOWED,
                    "This gateway serves only persisted operations.",
                )
        if operation.document_id is not None:
            raise Refused.because(400, ErrorCode.PERSISTED_QUERY_NOT_FOUND, "Unknown documentId.")
        if sha256 is not None:
            return await self._apq_source(sha256, operation.query)
        if operation.query is None:
            raise bad_request("No GraphQL query found in the request.")
        return _Source(operation.query)

    async def _apq_source(self, sha256: str, query: str | None) -> _Source:
        if self.apq is None:
            raise Refused.because(
                400,
                ErrorCode.PERSISTED_QUERY_NOT_FOUND,
                "Automatic persisted queries are disabled.",
            )
        if query is None:
            registered = await self.apq.get(sha256)
            if registered is None:
                raise Refused.because(
                    400, ErrorCode.PERSISTED_QUERY_NOT_FOUND, "PersistedQueryNotFound"
                )
            return _Source(registered)
        if sha256_hex(query) != sha256.lower():
            raise bad_request("provided sha does not match query")
        return _Source(query, register_as=sha256)

    def _parse(self, query: str) -> Document:
        try:
            return self.documents.parse(query)
        except GraphQLSyntaxError as error:
            code = (
                ErrorCode.MAX_TOKENS_LIMIT
                if limits.is_token_limit_error(error)
                else ErrorCode.GRAPHQL_PARSE_FAILED
            )
            raise Refused(
                400,
                [
                    GraphQLError(
                        error.message,
                        source=error.source,
                        positions=error.positions,
                        extensions={"code": code.value},
                    )
                ],
            ) from None

    def _check_shape(self, document: Document) -> None:
        violations = limits.check(
            document.analysis.shape, self.limits, over_tokens=document.over_tokens
        )
        if violations:
            raise Refused(
                400,
                [
                    GraphQLError(violation.message, extensions={"code": violation.code.value})
                    for violation in violations
                ],
            )

    @staticmethod
    def _select(document: Document, call: OperationCall) -> OperationAnalysis:
        name = call.operation.operation_name
        operation = document.analysis.operation(name)
        if operation is None:
            raise Refused.because(
                400,
                ErrorCode.GRAPHQL_VALIDATION_FAILED,
                f"Unknown operation named '{name}'."
                if name
                else "Must provide operation name if query contains multiple operations.",
            )
        if operation.kind not in call.transport.allows:
            raise _not_on(call.transport, operation.kind)
        return operation

    def _coerce(
        self, operation: OperationAnalysis, raw: Mapping[str, Any] | None
    ) -> VariableValues:
        coerced = get_variable_values(
            self.schema._schema,
            operation.node.variable_definitions or (),
            dict(raw or {}),
            max_errors=MAX_COERCION_ERRORS,
            hide_suggestions=self.validator.hide_suggestions,
        )
        if isinstance(coerced, list):
            # The caller's input, not an invalid document: BAD_USER_INPUT, as Apollo Server
            # reports it. Nothing executed, so nothing is charged.
            raise Refused(400, [_as_bad_user_input(error) for error in coerced], request_error=True)
        return coerced


def in_response_order(errors: list[dict[str, Any]], data: Any) -> list[dict[str, Any]]:
    """Field errors in the order their paths appear in ``data``.

    The executor reports errors as fields fail, which for fields waiting on different
    backends is whichever answered first: the same request could list its errors in a
    different order each time. Sorting by where each error sits in the answer makes the order
    a function of the answer alone (and the order a reader scans it in).
    """
    if len(errors) < 2:
        return errors

    def position(error: dict[str, Any]) -> tuple[tuple[int, int | str], ...]:
        key: list[tuple[int, int | str]] = []
        value = data
        for segment in error.get("path") or ():
            if isinstance(value, dict) and segment in value:
                key.append((0, list(value).index(segment)))
                value = value[segment]
            elif isinstance(value, list) and isinstance(segment, int) and segment < len(value):
                key.append((0, segment))
                value = value[segment]
            else:  # below a position nulled by the error: only its own path orders it
                key.append((1, segment if isinstance(segment, int) else 0))
                key.append((2, str(segment)))
                value = None
        return tuple(key)

    return sorted(errors, key=position)


def _not_on(transport: Transport, kind: OperationType) -> Refused:
    if transport is Transport.HTTP_GET:
        advice = (
            "send mutations with POST"
            if kind is OperationType.MUTATION
            else "subscribe over WebSocket or Server-Sent Events"
        )
        return Refused.because(
            405,
            ErrorCode.OPERATION_NOT_ALLOWED,
            f"Only queries may be sent over GET: {advice}.",
            headers={"Allow": "POST"},
        )
    return bad_request(
        f"{kind.value.capitalize()}s are not served over {transport.value}: subscribe over "
        "WebSocket (graphql-transport-ws) or Server-Sent Events."
    )


def _as_bad_user_input(error: GraphQLError) -> GraphQLError:
    if (error.extensions or {}).get("code"):
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
