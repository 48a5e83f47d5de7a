"""Turns a request's ``Authorization`` header into a ``Principal``.

No header means an anonymous caller; a header that is present but unusable is a 401, never
a silent downgrade to anonymous, so a client with a broken token learns it at once.
"""

from __future__ import annotations

from collections.abc import Mapping

from auth.principal import Principal
from auth.tokens import TokenValidator
from gateway.errors import AuthenticationError

__all__ = ["Authenticator"]


class Authenticator:
    """Reads bearer credentials; API keys are another authenticator's concern."""

    def __init__(self, *, validator: TokenValidator) -> None:
        self._validator = validator

    async def authenticate(self, headers: Mapping[str, str]) -> Principal:
        """``headers`` must look names up case-insensitively, as Starlette's ``Headers`` does."""
        value = headers.get("authorization")
        if value is None:
            return Principal.anonymous()
        scheme, _, token = value.strip().partition(" ")
        if scheme.lower() != "bearer":
            raise AuthenticationError("unsupported authorization scheme: use Bearer")
        token = token.strip()
        if not token or " " in token:
            raise AuthenticationError("malformed bearer token")
        return await self._validator.validate(token)
