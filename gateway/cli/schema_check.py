"""``gateway schema check OLD.graphql``: what changed between a published SDL and this build.

graphql-core's ``find_breaking_changes`` (removed fields or types, changed types, new required
arguments…: existing clients break) and ``find_dangerous_changes`` (new enum values, changed
defaults…: clients may behave differently). Both sides are compared as SDL, so the check sees
exactly what ``gateway schema export`` publishes.

graphql-core ignores directives on fields, but ``@requiresScopes`` is part of the contract: a
field that gains a scope requirement (or whose requirement becomes stricter or different) now
answers FORBIDDEN to callers that used to read it, which breaks them; a requirement removed or
relaxed makes data more widely readable, which is dangerous. The requirement is read from the
SDL's AST on both sides: ``scopes: [[a, b], [c]]`` means (a and b) or c.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from graphql import (
    BreakingChange,
    DangerousChange,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    InterfaceTypeDefinitionNode,
    InterfaceTypeExtensionNode,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    build_ast_schema,
    find_breaking_changes,
    find_dangerous_changes,
    parse,
    value_from_ast_untyped,
)

REQUIRES_SCOPES = "requiresScopes"

#: Alternatives, any one of which suffices; each is a set of scopes all required together.
Requirement = frozenset[frozenset[str]]


class ScopeChangeType(Enum):
    SCOPE_REQUIREMENT_ADDED = "SCOPE_REQUIREMENT_ADDED"
    SCOPE_REQUIREMENT_CHANGED = "SCOPE_REQUIREMENT_CHANGED"
    SCOPE_REQUIREMENT_REMOVED = "SCOPE_REQUIREMENT_REMOVED"
    SCOPE_REQUIREMENT_RELAXED = "SCOPE_REQUIREMENT_RELAXED"


@dataclass(frozen=True, slots=True)
class ScopeChange:
    type: ScopeChangeType
    description: str


class InvalidSchema(ValueError):
    """One side of the comparison is not a valid SDL; ``which`` says which ("old" or "new")."""

    def __init__(self, which: str, message: str) -> None:
        super().__init__(message)
        self.which = which
        self.message = message


@dataclass(frozen=True, slots=True)
class SchemaChanges:
    breaking: list[BreakingChange | ScopeChange]
    dangerous: list[DangerousChange | ScopeChange]

    @property
    def is_breaking(self) -> bool:
        return bool(self.breaking)

    def report(self) -> str:
        lines = [f"BREAKING  {change.type.name}: {change.description}" for change in self.breaking]
        lines += [
            f"DANGEROUS {change.type.name}: {change.description}" for change in self.dangerous
        ]
        if not lines:
            return "no breaking or dangerous changes"
        summary = f"{len(self.breaking)} breaking, {len(self.dangerous)} dangerous change(s)"
        return "\n".join([*lines, summary])


def compare(old_sdl: str, new_sdl: str) -> SchemaChanges:
    """Changes from ``old_sdl`` to ``new_sdl``; raises ``InvalidSchema`` for an invalid SDL."""
    old_document, old = _read("old", old_sdl)
    new_document, new = _read("new", new_sdl)
    scope_breaking, scope_dangerous = scope_changes(
        field_requirements(old_document), field_requirements(new_document)
    )
    return SchemaChanges(
        breaking=[*find_breaking_changes(old, new), *scope_breaking],
        dangerous=[*find_dangerous_changes(old, new), *scope_dangerous],
    )


def _read(which: str, sdl: str) -> tuple[DocumentNode, GraphQLSchema]:
    """graphql-core reports a bad SDL as ``GraphQLError`` (syntax) or ``TypeError`` (unknown
    types, invalid definitions): both become one ``InvalidSchema`` with a one-line message."""
    try:
        document = parse(sdl)
        return document, build_ast_schema(document)
    except GraphQLError as error:
        where = ""
        if error.locations:
            where = f" (line {error.locations[0].line}, column {error.locations[0].column})"
        raise InvalidSchema(which, f"{error.message}{where}") from None
    except TypeError as error:
        raise InvalidSchema(which, " ".join(str(error).split())) from None


def field_requirements(document: DocumentNode) -> dict[str, Requirement]:
    """``{"Type.field": requirement}`` for every field carrying ``@requiresScopes``."""
    found: dict[str, Requirement] = {}
    for definition in document.definitions:
        if not isinstance(
            definition,
            ObjectTypeDefinitionNode
            | ObjectTypeExtensionNode
            | InterfaceTypeDefinitionNode
            | InterfaceTypeExtensionNode,
        ):
            continue
        for field in definition.fields or ():
            for directive in field.directives or ():
                if directive.name.value != REQUIRES_SCOPES:
                    continue
                for argument in directive.arguments or ():
                    if argument.name.value == "scopes":
                        found[f"{definition.name.value}.{field.name.value}"] = _requirement(
                            value_from_ast_untyped(argument.value)
                        )
    return found


def _requirement(value: object) -> Requirement:
    """``[["a", "b"], ["c"]]`` as sets; a bare scope or a flat list is read as one group."""
    if isinstance(value, str):
        value = [[value]]
    groups = value if isinstance(value, list) else []
    return frozenset(
        frozenset(str(scope) for scope in (group if isinstance(group, list) else [group]))
        for group in groups
    )


def _satisfies_all(new: Requirement, old: Requirement) -> bool:
    """Every caller that met ``old`` meets ``new``: each old alternative covers a new one."""
    return all(any(candidate <= alternative for candidate in new) for alternative in old)


def describe(requirement: Requirement) -> str:
    alternatives = sorted(" and ".join(sorted(group)) for group in requirement)
    noun = "scope" if all(len(group) == 1 for group in requirement) else "scopes"
    return f"{noun} {' or '.join(alternatives)}"


def scope_changes(
    old: dict[str, Requirement], new: dict[str, Requirement]
) -> tuple[list[ScopeChange], list[ScopeChange]]:
    """(breaking, dangerous) scope changes of fields present in both schemas.

    A field present on one side only is graphql-core's business (removed or added field).
    """
    breaking: list[ScopeChange] = []
    dangerous: list[ScopeChange] = []
    for coordinate in sorted(set(old) | set(new)):
        before, after = old.get(coordinate), new.get(coordinate)
        if before == after:
            continue
        if before is None and after is not None:
            breaking.append(
                ScopeChange(
                    ScopeChangeType.SCOPE_REQUIREMENT_ADDED,
                    f"{coordinate} now requires {describe(after)}: "
                    "callers without it get FORBIDDEN",
                )
            )
        elif after is None and before is not None:
            dangerous.append(
                ScopeChange(
                    ScopeChangeType.SCOPE_REQUIREMENT_REMOVED,
                    f"{coordinate} no longer requires {describe(before)}: "
                    "its data becomes readable without it",
                )
            )
        elif before is not None and after is not None and _satisfies_all(after, before):
            dangerous.append(
                ScopeChange(
                    ScopeChangeType.SCOPE_REQUIREMENT_RELAXED,
                    f"{coordinate} now requires {describe(after)} instead of "
                    f"{describe(before)}: its data becomes more widely readable",
                )
            )
        elif before is not None and after is not None:
            breaking.append(
                ScopeChange(
                    ScopeChangeType.SCOPE_REQUIREMENT_CHANGED,
                    f"{coordinate} now requires {describe(after)} instead of "
                    f"{describe(before)}: callers without it get FORBIDDEN",
                )
            )
    return breaking, dangerous
