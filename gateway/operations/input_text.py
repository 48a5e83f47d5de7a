"""A pipeline step: every string an operation hands its resolvers must be text the database can
hold (``contract.text``), checked once, here, before anything executes or is written.

Strings reach resolvers two ways, and both are checked: as literals in the document (a GraphQL
escape such as ``"\\u0000"`` yields a NUL that the lexer cannot refuse) and as variable values,
after coercion, so defaults, list items and input-object fields are all seen. Literals are
checked once per cached document (``Document.text_problems``); variables on every request.

What strings become after decoding (a cursor's or a global id's contents) is the decoders' to
refuse; they parse to numbers and dates, never pass text on.

A refusal is ``BAD_USER_INPUT``, and, like a variable that fails to coerce, a GraphQL request
error: the request was well-formed, its values were not.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLError,
    Node,
    OperationDefinitionNode,
    StringValueNode,
    Undefined,
)
from graphql.execution.values import VariableValues

from contract.errors import ErrorCode
from contract.text import RULE, first_unsafe_character
from gateway.operations.refusal import Refused

__all__ = ["check_input_text", "literal_problems"]

#: Stop reporting after this many problems, as coercion does.
MAX_PROBLEMS = 50


def _problem(message: str, node: Node | None, field: list[str | int] | None = None) -> GraphQLError:
    extensions: dict[str, Any] = {"code": ErrorCode.BAD_USER_INPUT.value}
    if field is not None:
        # As a mutation's own input errors name theirs: ["input", "lines", 2, "quantity"].
        extensions["field"] = field
    return GraphQLError(message, nodes=[node] if node is not None else None, extensions=extensions)


def _string_values(root: Node) -> Iterator[StringValueNode]:
    """Every string value in ``root``'s tree (arguments, defaults, list and object values)."""
    stack: list[Node] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, StringValueNode):
            yield node
            continue
        for key in node.keys:
            if key == "loc":
                continue
            child = getattr(node, key, None)
            if isinstance(child, Node):
                stack.append(child)
            elif isinstance(child, tuple | list):
                stack.extend(item for item in child if isinstance(item, Node))


def literal_problems(document: DocumentNode) -> tuple[GraphQLError, ...]:
    """One error per string literal of ``document`` holding a character the rule refuses."""
    problems: list[GraphQLError] = []
    for literal in _string_values(document):
        character = first_unsafe_character(literal.value)
        if character is not None:
            problems.append(_problem(f"A string literal holds {character}: {RULE}.", literal))
            if len(problems) == MAX_PROBLEMS:
                break
    return tuple(problems)


def _strings(value: Any, name: str) -> Iterator[tuple[list[str | int], str]]:
    """``(path, string)`` for every string inside a coerced variable value; the path starts
    with the variable's name."""
    stack: list[tuple[Any, list[str | int]]] = [(value, [name])]
    while stack:
        current, where = stack.pop()
        if isinstance(current, str):
            yield where, current
        elif isinstance(current, Mapping):
            stack.extend((item, [*where, str(key)]) for key, item in current.items())
        elif isinstance(current, list | tuple):
            stack.extend((item, [*where, index]) for index, item in enumerate(current))
        elif dataclasses.is_dataclass(current) and not isinstance(current, type):
            # Scalars parsed into records (a GlobalID's type name and node id).
            stack.extend(
                (getattr(current, field.name), where) for field in dataclasses.fields(current)
            )


def _dotted(path: list[str | int]) -> str:
    """``input.scopes[1]``, as the message shows a path."""
    text = str(path[0])
    for part in path[1:]:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def _variable_problems(
    operation: OperationDefinitionNode, variables: VariableValues
) -> list[GraphQLError]:
    definitions = {
        definition.variable.name.value: definition
        for definition in operation.variable_definitions or ()
    }
    problems: list[GraphQLError] = []
    for name, value in variables.coerced.items():
        source = variables.sources.get(name)
        if source is not None and source.value is Undefined:
            continue  # the default, a literal of the document: reported with the literals
        for where, text in _strings(value, name):
            character = first_unsafe_character(text)
            if character is None:
                continue
            problems.append(
                _problem(
                    f'Variable "${name}" holds {character} at "{_dotted(where)}": {RULE}.',
                    definitions.get(name),
                    where,
                )
            )
            if len(problems) == MAX_PROBLEMS:
                return problems
            break  # one report per variable is enough to fix it
    return problems


def check_input_text(
    literal_errors: tuple[GraphQLError, ...],
    operation: OperationDefinitionNode,
    variables: VariableValues,
) -> None:
    """Refuse the operation when a literal (``literal_errors``, cached per document) or a
    coerced variable holds a character the text rule refuses."""
    problems = [*literal_errors, *_variable_problems(operation, variables)]
    if problems:
        raise Refused(400, problems[:MAX_PROBLEMS], request_error=True)
