"""The caller of one request, as every layer sees it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum


class PrincipalKind(StrEnum):
    USER = "user"
    PARTNER = "partner"
    ANONYMOUS = "anonymous"


@dataclass(frozen=True, slots=True)
class Principal:
    """Subject, kind and granted scopes; immutable so no resolver can widen its own rights."""

    kind: PrincipalKind
    subject: str | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)
    #: A partner key's own rate-limit budget (points per window); None: the default.
    budget: int | None = None

    @classmethod
    def anonymous(cls) -> Principal:
        return cls(kind=PrincipalKind.ANONYMOUS)

    @property
    def is_anonymous(self) -> bool:
        return self.kind is PrincipalKind.ANONYMOUS

    def has_all(self, scopes: Iterable[str]) -> bool:
        return self.scopes.issuperset(scopes)

    def satisfies(self, any_of: Iterable[Iterable[str]]) -> bool:
        """True when one of the alternatives (each a set of scopes held together) is granted."""
        return any(self.has_all(all_of) for all_of in any_of)
