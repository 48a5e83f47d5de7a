"""Scope checks shared by field gating and by resolvers that authorize the same data twice
(``order(id:)`` and ``node(id:)`` must answer alike)."""

from __future__ import annotations

from collections.abc import Sequence

from auth.principal import Principal
from contract.errors import AuthenticationError, ForbiddenError

#: Alternatives of scope sets: satisfied when every scope of any one alternative is held.
Requirement = tuple[tuple[str, ...], ...]


def any_of(*alternatives: str | tuple[str, ...]) -> Requirement:
    """``any_of("a", ("b", "c"))`` reads "a, or both b and c"."""
    return tuple((alt,) if isinstance(alt, str) else tuple(alt) for alt in alternatives)


def describe(requirement: Requirement) -> str:
    return " or ".join(" and ".join(alternative) for alternative in requirement)


def require(principal: Principal, requirement: Requirement) -> None:
    """Raise the contract error for a caller who lacks every alternative of ``requirement``."""
    if principal.satisfies(requirement):
        return
    if principal.is_anonymous:
        raise AuthenticationError(f"Authentication required: needs scope {describe(requirement)}")
    raise ForbiddenError(f"Missing scope: needs {describe(requirement)}")


def scopes_as_lists(requirement: Requirement) -> Sequence[list[str]]:
    return [list(alternative) for alternative in requirement]
