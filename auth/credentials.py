"""Turns a request's ``Authorization`` or ``X-API-Key`` header into a ``Principal``.

No credential means an anonymous caller; a credential that is present but unusable is a 401,
never a silent downgrade to anonymous, so a client with a broken token learns it at once. Two
credentials at once are refused too (which one would win is a question nobody should need to
ask), and so is a credential in the query string (an API key, or an OAuth ``access_token``
parameter as RFC 6750 section 2.3 allows and we do not): URLs end up in proxy and access logs, so
a token sent there is refused loudly rather than ignored and served as anonymous.
"""

from __future__ import annotations

from collections.abc import Mapping

from auth.api_keys import ApiKeys
from auth.introspection import TokenIntrospector, looks_like_jwt
from auth.key_material import looks_like_api_key
from auth.principal import Principal
from auth.tokens import TokenValidator
from contract.errors import AuthenticationError

__all__ = ["API_KEY_QUERY_PARAMETERS", "TOKEN_QUERY_PARAMETERS", "Authenticator"]

#: Query parameters refused whatever their value: where people put keys by habit.
API_KEY_QUERY_PARAMETERS = frozenset({"api_key", "apikey", "key", "x-api-key"})
#: Query parameters refused whatever their value: where OAuth clients put bearer tokens.
TOKEN_QUERY_PARAMETERS = frozenset({"access_token"})


class Authenticator:
    """Bearer JWTs, opaque bearer tokens (when introspection is configured) and API keys."""

    def __init__(
        self,
        *,
        validator: TokenValidator,
        api_keys: ApiKeys | None = None,
        introspector: TokenIntrospector | None = None,
    ) -> None:
        self._validator = validator
        self._api_keys = api_keys
        self._introspector = introspector

    async def authenticate(
        self, headers: Mapping[str, str], query: Mapping[str, str] | None = None
    ) -> Principal:
        """``headers`` must look names up case-insensitively, as Starlette's ``Headers`` does."""
        if query is not None and _key_in_query(query):
            raise AuthenticationError(
                "API keys are not accepted in the URL: send the X-API-Key header "
                "(and revoke this key: URLs are logged by proxies)"
            )
        if query is not None and _token_in_query(query):
            raise AuthenticationError(
                "credentials are not accepted in the URL; send the Authorization header"
            )
        authorization = headers.get("authorization")
        api_key = headers.get("x-api-key")
        if authorization is not None and api_key is not None:
            raise AuthenticationError("send either Authorization or X-API-Key, not both")
        if api_key is not None:
            if self._api_keys is None:
                raise AuthenticationError("API keys are not enabled on this gateway")
            return await self._api_keys.authenticate(api_key)
        if authorization is None:
            return Principal.anonymous()
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer":
            raise AuthenticationError("unsupported authorization scheme: use Bearer")
        token = token.strip()
        if not token or " " in token:
            raise AuthenticationError("malformed bearer token")
        if looks_like_api_key(token):
            raise AuthenticationError("API keys go in the X-API-Key header, not Authorization")
        if self._introspector is not None and not looks_like_jwt(token):
            return await self._introspector.validate(token)
        return await self._validator.validate(token)


def _items(query: Mapping[str, str]) -> list[tuple[str, str]]:
    return list(query.multi_items() if hasattr(query, "multi_items") else query.items())


def _key_in_query(query: Mapping[str, str]) -> bool:
    return any(
        name.lower() in API_KEY_QUERY_PARAMETERS or looks_like_api_key(value.strip())
        for name, value in _items(query)
    )


def _token_in_query(query: Mapping[str, str]) -> bool:
    return any(name.strip().lower() in TOKEN_QUERY_PARAMETERS for name, _ in _items(query))
