"""The OAuth2 scopes of the public contract."""

from __future__ import annotations

from enum import StrEnum


class Scope(StrEnum):
    USERS_READ = "users:read"
    USERS_EMAIL = "users:email"
    USERS_WRITE = "users:write"
    ORDERS_READ = "orders:read"
    ORDERS_WRITE = "orders:write"
    ORDERS_READ_ALL = "orders:read:all"
    CONTENT_READ = "content:read"
    RECOMMENDATIONS_READ = "recommendations:read"
    ADMIN_API_KEYS = "admin:api-keys"
    #: Send any document when GATEWAY_PERSISTED_ONLY=true (the default bypass scope; staff tools).
    OPERATIONS_ANY = "operations:any"


#: Every read scope: what the demo hands a newcomer so that every field answers.
READ_SCOPES: tuple[Scope, ...] = (
    Scope.USERS_READ,
    Scope.USERS_EMAIL,
    Scope.ORDERS_READ,
    Scope.CONTENT_READ,
    Scope.RECOMMENDATIONS_READ,
)


def parse_scopes(raw: str | list[str] | tuple[str, ...] | None) -> frozenset[str]:
    """Read OAuth2 scopes from a space-separated ``scope`` claim or a list ``scp`` claim."""
    if raw is None:
        return frozenset()
    if isinstance(raw, str):
        return frozenset(part for part in raw.split() if part)
    return frozenset(str(part) for part in raw if part)
