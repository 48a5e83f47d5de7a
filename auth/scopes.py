"""The scopes' old home, kept for tools outside this repository that import them from here
(the side-by-side benchmark in ``../shared/peers`` mints its tokens with ``auth.scopes.Scope``).
The contract's scopes live in ``contract.scopes``."""

from contract.scopes import Scope

__all__ = ["Scope"]
