"""Scope gating of fields, printed in the SDL as ``@requiresScopes`` and named in descriptions.

Schema directives are invisible to introspection, so the requirement is also appended to the
field's description, which GraphiQL shows.
"""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.schema_directive import Location

from auth.access import Requirement, describe, require, scopes_as_lists
from schema.context import Context


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="requiresScopes",
    description="The field answers only to callers holding all scopes of one inner list.",
)
class RequiresScopesDirective:
    scopes: list[list[str]]


class RequiresScopes(BasePermission):
    def __init__(self, requirement: Requirement) -> None:
        self.requirement = requirement
        self._directive = RequiresScopesDirective(scopes=list(scopes_as_lists(requirement)))

    @property
    def schema_directive(self) -> object:
        return self._directive

    def has_permission(self, source: Any, info: strawberry.Info[Context], **kwargs: Any) -> bool:
        require(info.context.principal, self.requirement)
        return True


def scoped(requirement: Requirement, description: str) -> dict[str, Any]:
    """Keyword arguments for ``strawberry.field`` that gate it behind ``requirement``."""
    return {
        "description": f"{description} Requires scope: {describe(requirement)}.",
        "extensions": [PermissionExtension(permissions=[RequiresScopes(requirement)])],
    }
