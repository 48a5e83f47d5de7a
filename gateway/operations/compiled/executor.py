"""Running an operation plan: the same results as graphql-core's executor, with less work.

The interpreted path pays, for every field of every object, graphql-core's generic dispatch
(collect, build a resolve info, call Strawberry's wrapper, complete by type) and one task per
concurrent awaitable. Here a field Strawberry resolves by reading an attribute is one
``getattr`` and, for a string or a number, no call at all; only fields with a resolver of their
own get an ``Info`` and a call, exactly as graphql-core would make it.

Asynchronous resolvers (the ones that ask a dataloader) are driven without a task each: every
coroutine of one wave is started, so the dataloaders see all their keys before the loop runs
their batch (one SQL statement or REST call per level, as on the interpreted path), and each
is resumed when what it awaits is done. Completion rules are graphql-core's, step for step:
non-null violations propagate to the nearest nullable field or list item, errors are located
(nodes, path) as ``located_error`` locates them, and an error inside a position already nulled
is dropped, as graphql-core's ``CollectedErrors`` drops it. A resolver must therefore not rely
on running in a task of its own (``asyncio.current_task``, ``asyncio.timeout``): deadlines
belong in the dataloaders, which run their batches in tasks.
"""

from __future__ import annotations

import asyncio
import inspect
from collections import deque
from collections.abc import Awaitable, Coroutine, Sequence
from dataclasses import dataclass
from enum import Enum
from types import CoroutineType, GeneratorType
from typing import Any

from graphql import ExecutionResult, GraphQLError, GraphQLObjectType, located_error
from graphql.execution.executor import (
    Executor,
    default_type_resolver,
    invalid_return_type_error,
)
from graphql.execution.values import VariableValues, get_argument_values
from graphql.pyutils import Path, Undefined, is_iterable
from graphql.type import GraphQLResolveInfoHelpers
from strawberry.exceptions import (
    PermissionReturnedAwaitableInSyncContextError,
    PermissionReturnedNonBooleanError,
)
from strawberry.execution import optimized_is_awaitable
from strawberry.schema.schema import _OperationContextAwareGraphQLResolveInfo
from strawberry.types.arguments import convert_arguments
from strawberry.utils.await_maybe import await_maybe

from gateway.operations.compiled.plan import (
    INT_MAX,
    INT_MIN,
    Completion,
    DirectResolver,
    FieldPlan,
    OperationPlan,
    fast_leaf,
)

#: Argument values a resolver cannot change under the next caller's feet.
#: ``Path`` and the resolve info are named tuples, whose generated ``__new__`` is a Python
#: frame; building them as plain tuples of their class takes a third of the time, and the
#: executor builds one path per object and list item.
_new_tuple = tuple.__new__

_IMMUTABLE = frozenset({type(None), int, str, bool, float})

#: The nearest nullable position above a value: ``(container, key, path)``, or ``ROOT`` when
#: a null would reach ``data`` itself.
Anchor = tuple[Any, Any, Path] | None
ROOT: Anchor = None


@dataclass(slots=True, eq=False)
class _Pending:
    """A field (or list item) whose resolver returned an awaitable, and where its value goes."""

    awaitable: Any
    plan: FieldPlan
    completion: Completion
    path: Path
    container: Any
    key: Any
    anchor: Anchor
    #: What the driven coroutine awaits now.
    waiting: Any = None


class Execution:
    """One execution of one plan; built per request."""

    def __init__(
        self,
        plan: OperationPlan,
        *,
        context: Any,
        variables: VariableValues,
        root_value: Any = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> None:
        self.plan = plan
        self.schema = plan.schema
        self.context = context
        self.variables = variables
        self.coerced = variables.coerced
        self.root_value = root_value
        self.operation_extensions = operation_extensions
        self.errors: list[GraphQLError] = []
        self.error_positions: set[Path | None] = set()
        self.pending: deque[_Pending] = deque()
        #: Non-null failures waiting for the loop to turn before they null a parent.
        self.deferred: list[tuple[Anchor, GraphQLError]] = []
        self.tracked: list[Awaitable[Any]] = []
        self.helpers = GraphQLResolveInfoHelpers(gather=self._gather, track=self.tracked.extend)
        self.data: dict[str, Any] | None = None
        strawberry = plan.strawberry
        self.info_class = strawberry.config.info_class
        self.config = strawberry.config
        self.scalar_registry = strawberry.schema_converter.scalar_registry

    async def run(self) -> ExecutionResult:
        try:
            self.data = self.object(self.plan.root(self.variables), self.root_value, None, ROOT)
        except GraphQLError as error:
            self.add_error(error, None)
            self.data = None
        if self.pending:
            await self.drain()
        if self.tracked:
            await asyncio.gather(*self.tracked, return_exceptions=True)
        return ExecutionResult(self.data, self.errors or None)

    # --- errors, as graphql-core's CollectedErrors keeps them ---------------------------------

    def add_error(self, error: GraphQLError, path: Path | None) -> None:
        if self.nulled(path):
            return
        self.error_positions.add(path)
        self.errors.append(error)

    def nulled(self, path: Path | None) -> bool:
        positions = self.error_positions
        if not positions:
            return False
        while path is not None:
            if path in positions:
                return True
            path = path.prev
        return None in positions

    def _propagate(self) -> None:
        """Null the positions that non-null failures reached since the loop last turned.

        On the interpreted path such a failure reaches its parent through the task that
        gathers its siblings, one turn of the event loop later; siblings that could run in
        that turn have run, and their own errors are kept. Deferring the nulls to the same
        moment keeps the same errors, in the same order.
        """
        deferred, self.deferred = self.deferred, []
        for anchor, error in deferred:
            self._null(anchor, error)

    def _null(self, anchor: Anchor, error: GraphQLError) -> None:
        """A non-null position failed after its parents were built: null the nearest nullable
        one, as the error would have on its way up the stack."""
        if anchor is None:
            self.add_error(error, None)
            self.data = None
            return
        container, key, path = anchor
        self.add_error(error, path)
        container[key] = None

    # --- completion ---------------------------------------------------------------------------

    def object(
        self,
        selection: Any,
        source: Any,
        path: Path | None,
        anchor: Anchor,
    ) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for plan in selection.fields:
            key = plan.key
            getter = plan.getter
            if getter is not None:
                completion = plan.completion
                try:
                    value = getter(source)
                except Exception as raw:
                    result[key] = self._field_error(
                        raw, plan, _new_tuple(Path, (path, key, plan.parent_type.name)), anchor
                    )
                    continue
                value_type = type(value)
                if (
                    value_type is completion.fast_type
                    or (completion.fast_int and value_type is int and INT_MIN <= value <= INT_MAX)
                    or (completion.leaf and fast_leaf(completion.leaf, value))
                ):
                    result[key] = value
                    continue
                result[key] = None
                field_path = _new_tuple(Path, (path, key, plan.parent_type.name))
                try:
                    child = plan.child
                    if (
                        completion.plain
                        and child is not None
                        and value is not None
                        and value is not Undefined
                        and not isinstance(value, Exception)
                    ):
                        result[key] = self.object(
                            child,
                            value,
                            field_path,
                            anchor if completion.non_null else (result, key, field_path),
                        )
                        continue
                    result[key] = self.complete(
                        completion,
                        plan,
                        field_path,
                        value,
                        anchor if completion.non_null else (result, key, field_path),
                    )
                except Exception as raw:
                    result[key] = self._field_error(raw, plan, field_path, anchor)
                continue
            result[key] = None
            result[key] = self.call(plan, source, path, result, anchor)
        return result

    def call(
        self, plan: FieldPlan, source: Any, parent_path: Path | None, container: Any, anchor: Anchor
    ) -> Any:
        key = plan.key
        path = _new_tuple(Path, (parent_path, key, plan.parent_type.name))
        if plan.is_typename:
            return plan.parent_type.name
        completion = plan.completion
        try:
            arguments = plan.static_arguments
            if arguments is None:
                arguments = get_argument_values(
                    plan.definition,
                    plan.nodes[0],
                    self.variables,
                    plan.details[0].fragment_variable_values,
                    self.plan.hide_suggestions,
                )
            direct = plan.direct
            if direct is not None:
                result = self.direct_call(direct, plan, source, path, arguments)
            else:
                assert plan.resolve is not None
                result = plan.resolve(source, self.info(plan, path), **arguments)
            if type(result) not in _NEVER_AWAITABLE and _is_awaitable(result):
                self.pending.append(
                    _Pending(result, plan, completion, path, container, key, anchor)
                )
                return None
            return self.complete(
                completion,
                plan,
                path,
                result,
                anchor if completion.non_null else (container, key, path),
            )
        except Exception as raw:
            return self._field_error(raw, plan, path, anchor)

    def direct_call(
        self,
        direct: DirectResolver,
        plan: FieldPlan,
        source: Any,
        path: Path,
        arguments: dict[str, Any],
    ) -> Any:
        """What Strawberry's wrapper would return for this field, made the way it makes it:
        converted arguments, the reserved parameters, then the permission checks (inside the
        coroutine for an async resolver, as ``PermissionExtension.resolve_async`` runs them)."""
        info = None
        if direct.needs_info:
            info = self.info_class(_raw_info=self.info(plan, path), _field=direct.strawberry_field)
        if direct.is_async:
            if direct.arguments or direct.permissions:
                # Strawberry converts an async resolver's arguments inside its coroutine: a bad
                # one fails when the coroutine first runs, not while its siblings are called.
                return _guarded(self, direct, source, info, arguments)
            # Nothing to convert or check: the resolver's own coroutine, one frame fewer to
            # resume at every step it awaits.
            kwargs, args = self.resolver_arguments(direct, source, info, arguments)
            return direct.function(*args, **kwargs)
        kwargs, args = self.resolver_arguments(direct, source, info, arguments)
        extension_kwargs = _extension_arguments(kwargs) if direct.permissions else kwargs
        for extension, permission in direct.permissions:
            allowed = permission.has_permission(source, info, **extension_kwargs)
            if inspect.isawaitable(allowed):
                if inspect.iscoroutine(allowed):
                    allowed.close()
                raise PermissionReturnedAwaitableInSyncContextError(permission)
            if not isinstance(allowed, bool):
                raise PermissionReturnedNonBooleanError(permission, allowed)
            if not allowed:
                return extension._on_unauthorized(permission)
        return direct.function(*args, **kwargs)

    def resolver_arguments(
        self, direct: DirectResolver, source: Any, info: Any, arguments: dict[str, Any]
    ) -> tuple[dict[str, Any], tuple[Any, ...]]:
        """The resolver's keyword arguments and its positional ones."""
        if not direct.arguments:
            kwargs: dict[str, Any] = {}
        elif direct.converted is not None and arguments is direct.converted_from:
            kwargs = dict(direct.converted)
        else:
            kwargs = convert_arguments(
                arguments, direct.arguments, self.scalar_registry, self.config, info
            )
            if all(
                type(value) in _IMMUTABLE or isinstance(value, Enum) for value in kwargs.values()
            ):
                # Arguments written in the document convert to the same values every time.
                direct.remember(arguments, kwargs)
        for name in direct.source_parameters:
            kwargs[name] = source
        if direct.info_parameter is not None:
            kwargs[direct.info_parameter] = info
        return kwargs, (source,) if direct.pass_self else ()

    def _field_error(self, raw: Exception, plan: FieldPlan, path: Path, anchor: Anchor) -> Any:
        """The field's value after ``raw``: null, or raised on up when it may not be null."""
        error = located_error(raw, plan.nodes, path.as_list())
        if plan.completion.non_null:
            raise error
        self.add_error(error, path)
        return None

    def complete(
        self, completion: Completion, plan: FieldPlan, path: Path, value: Any, anchor: Anchor
    ) -> Any:
        if isinstance(value, Exception):
            raise value
        if value is None or value is Undefined:
            if completion.non_null:
                msg = (
                    "Cannot return null for non-nullable field"
                    f" {plan.parent_type.name}.{plan.name}."
                )
                raise TypeError(msg)
            return None
        item = completion.item
        if item is not None:
            return self.complete_list(item, plan, path, value, anchor)
        if completion.leaf:
            if fast_leaf(completion.leaf, value):
                return value
            return Executor.complete_leaf_value(completion.named, value)
        object_type = completion.object_type
        if object_type is None:
            object_type = self.runtime_type(completion, plan, path, value)
            is_type_of = object_type.is_type_of
            if is_type_of is not None and not is_type_of(value, self.info(plan, path)):
                raise invalid_return_type_error(object_type, value, plan.details)
            selection = self.plan.children(plan, object_type, self.variables)
            return self.object(selection, value, path, anchor)
        is_type_of = completion.is_type_of
        if is_type_of is not None and not is_type_of(
            value, self.info(plan, path) if completion.is_type_of_needs_info else None
        ):
            raise invalid_return_type_error(object_type, value, plan.details)
        selection = plan.child or self.plan.children(plan, object_type, self.variables)
        return self.object(selection, value, path, anchor)

    def complete_list(
        self, completion: Completion, plan: FieldPlan, path: Path, value: Any, anchor: Anchor
    ) -> list[Any]:
        if type(value) is not list and not is_iterable(value):
            msg = (
                "Expected Iterable, but did not find one for field"
                f" '{plan.parent_type.name}.{plan.name}'."
            )
            raise GraphQLError(msg)
        leaf = completion.leaf
        non_null = completion.non_null
        child = plan.child if completion.plain else None
        results: list[Any] = []
        for index, item in enumerate(value):
            if leaf and fast_leaf(leaf, item):
                results.append(item)
                continue
            results.append(None)
            item_path = _new_tuple(Path, (path, index, None))
            try:
                if (
                    child is not None
                    and item is not None
                    and item is not Undefined
                    and not isinstance(item, Exception)
                    and (type(item) in _NEVER_AWAITABLE or not _is_awaitable(item))
                ):
                    results[index] = self.object(
                        child, item, item_path, anchor if non_null else (results, index, item_path)
                    )
                    continue
                if _is_awaitable(item):
                    self.pending.append(
                        _Pending(item, plan, completion, item_path, results, index, anchor)
                    )
                    continue
                results[index] = self.complete(
                    completion,
                    plan,
                    item_path,
                    item,
                    anchor if non_null else (results, index, item_path),
                )
            except Exception as raw:
                error = located_error(raw, plan.nodes, item_path.as_list())
                if non_null:
                    raise error from None
                self.add_error(error, item_path)
        return results

    def runtime_type(
        self, completion: Completion, plan: FieldPlan, path: Path, value: Any
    ) -> GraphQLObjectType:
        """The object type of a value of an abstract type, checked as graphql-core checks it."""
        abstract: Any = completion.named
        info = self.info(plan, path)
        resolve_type = abstract.resolve_type or default_type_resolver
        name = resolve_type(value, info, abstract)
        if optimized_is_awaitable(name):
            raise TypeError("asynchronous type resolution is not compiled")  # pragma: no cover
        checker = Executor.ensure_valid_runtime_type
        runtime: GraphQLObjectType = checker(
            self,  # type: ignore[arg-type]  # reads only .schema
            name,
            abstract,
            plan.details,
            info,
            value,
        )
        return runtime

    def info(self, plan: FieldPlan, path: Path) -> Any:
        return _new_tuple(
            _OperationContextAwareGraphQLResolveInfo,
            (
                plan.name,
                plan.nodes,
                plan.definition.type,
                plan.parent_type,
                path,
                self.schema,
                self.plan.fragment_definitions,
                self.root_value,
                self.plan.operation,
                self.coerced,
                self.context,
                optimized_is_awaitable,
                None,
                self.helpers,
                self.operation_extensions or {},
            ),
        )

    # --- the asynchronous part ----------------------------------------------------------------

    async def drain(self) -> None:
        """Drive every pending resolver to its end, wave after wave, without a task each."""
        pending = self.pending
        waiting: deque[_Pending] = deque()
        try:
            while pending or waiting:
                while pending:
                    self._advance(pending.popleft(), waiting, None)
                if waiting:
                    item = waiting.popleft()
                    awaited = item.waiting
                    if awaited is None or not awaited.done():
                        self._propagate()  # the loop turns: failures reach their parents now
                        await _settled(awaited)
                    self._advance(item, waiting, awaited)
            self._propagate()
        finally:
            for item in (*pending, *waiting):
                awaitable = item.awaitable
                if isinstance(awaitable, Coroutine):
                    awaitable.close()

    def _advance(self, item: _Pending, waiting: deque[_Pending], awaited: Any) -> None:
        awaitable = item.awaitable
        if type(awaitable) is not CoroutineType and not isinstance(awaitable, Coroutine):
            # A bare future (or another awaitable): wait for it, then take its result.
            if awaited is None:
                future = asyncio.ensure_future(awaitable)
                item.awaitable = future
                if not future.done():
                    item.waiting = future
                    waiting.append(item)
                    return
            future = item.awaitable
            try:
                value = future.result()
            except Exception as raw:
                self._settle(item, None, raw)
                return
            self._settle(item, value, None)
            return
        try:
            yielded = awaitable.send(None)
        except StopIteration as stop:
            self._settle(item, stop.value, None)
            return
        except Exception as raw:
            self._settle(item, None, raw)
            return
        if yielded is not None and not hasattr(yielded, "_asyncio_future_blocking"):
            awaitable.close()
            self._settle(item, None, RuntimeError(f"Task got bad yield: {yielded!r}"))
            return
        if yielded is not None:
            yielded._asyncio_future_blocking = False  # what a task does with what it is given
        item.waiting = yielded
        waiting.append(item)

    def _settle(self, item: _Pending, value: Any, raw: Exception | None) -> None:
        plan, completion, path = item.plan, item.completion, item.path
        if self.error_positions and self.nulled(path):
            return  # a parent was nulled meanwhile: graphql-core would have cancelled this
        try:
            if raw is not None:
                raise raw
            item.container[item.key] = self.complete(
                completion,
                plan,
                path,
                value,
                item.anchor if completion.non_null else (item.container, item.key, path),
            )
        except Exception as error:
            located = located_error(error, plan.nodes, path.as_list())
            if completion.non_null:
                self.deferred.append((item.anchor, located))
            else:
                self.add_error(located, path)
                item.container[item.key] = None

    @staticmethod
    async def _gather(awaitables: Sequence[Awaitable[Any]]) -> list[Any]:
        return list(await asyncio.gather(*awaitables))


async def _guarded(
    execution: Execution,
    direct: DirectResolver,
    source: Any,
    info: Any,
    arguments: dict[str, Any],
) -> Any:
    """An async resolver as Strawberry's async wrapper runs it: arguments converted, then the
    permission checks (``PermissionExtension.resolve_async``), then the resolver."""
    kwargs, args = execution.resolver_arguments(direct, source, info, arguments)
    extension_kwargs = _extension_arguments(kwargs)
    for extension, permission in direct.permissions:
        allowed = await await_maybe(permission.has_permission(source, info, **extension_kwargs))
        if not isinstance(allowed, bool):
            if inspect.iscoroutine(allowed):
                allowed.close()
            raise PermissionReturnedNonBooleanError(permission, allowed)
        if not allowed:
            return extension._on_unauthorized(permission)
    return await direct.function(*args, **kwargs)


#: Classes whose instances graphql-core's awaitable check always rejects, learnt as they are
#: seen: for a plain object that check ends in a failing ``hasattr(value, "__await__")``,
#: which costs more than completing most objects.
_NEVER_AWAITABLE: set[type] = set()


def _is_awaitable(value: Any) -> bool:
    """graphql-core's awaitable check, remembering classes that can never pass it."""
    if optimized_is_awaitable(value):
        return True
    kind = type(value)
    if _never_awaitable(kind):
        _NEVER_AWAITABLE.add(kind)
    return False


def _never_awaitable(kind: type) -> bool:
    """Whether no instance of ``kind`` can be awaited: the class has no ``__await__``, is no
    coroutine or generator, and looks attributes up the ordinary way (no ``__getattr__``, which
    could answer for ``__await__`` per instance). An ``__await__`` stored on one instance is
    not looked for: ``await`` reads it from the class, so such a value was never awaitable."""
    return (
        not hasattr(kind, "__await__")
        and not issubclass(kind, (CoroutineType, GeneratorType))
        and not hasattr(kind, "__getattr__")
        and kind.__getattribute__ is object.__getattribute__
    )


def _extension_arguments(kwargs: dict[str, Any]) -> dict[str, Any]:
    """What Strawberry hands a field's extensions: every argument but a parameter named info."""
    return {name: value for name, value in kwargs.items() if name != "info"}


async def _settled(awaited: Any) -> None:
    """Wait for what a driven coroutine awaits, leaving its outcome for the coroutine."""
    if awaited is None:
        await asyncio.sleep(0)
        return
    if awaited.done():
        return
    try:
        await awaited
    except BaseException:
        if not awaited.done():
            raise  # our own cancellation, not the awaited one's failure
        return
