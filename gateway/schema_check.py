"""``gateway schema check OLD.graphql``: what changed between a published SDL and this build.

graphql-core's ``find_breaking_changes`` (removed fields or types, changed types, new required
arguments…: existing clients break) and ``find_dangerous_changes`` (new enum values, changed
defaults…: clients may behave differently). Both sides are compared as SDL, so the check sees
exactly what ``gateway schema export`` publishes.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphql import (
    BreakingChange,
    DangerousChange,
    GraphQLSchema,
    build_schema,
    find_breaking_changes,
    find_dangerous_changes,
)


@dataclass(frozen=True, slots=True)
class SchemaChanges:
    breaking: list[BreakingChange]
    dangerous: list[DangerousChange]

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
    """Changes from ``old_sdl`` to ``new_sdl``; raises ``GraphQLError`` for an invalid SDL."""
    old: GraphQLSchema = build_schema(old_sdl)
    new: GraphQLSchema = build_schema(new_sdl)
    return SchemaChanges(
        breaking=find_breaking_changes(old, new), dangerous=find_dangerous_changes(old, new)
    )
