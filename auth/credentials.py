"""Turns a request's ``Authorization`` or ``X-API-Key`` header into a ``Principal``.

No credential means an anonymous caller; a credential that is present but unusable is a 401,
never a silent downgrade to anonymous, so a client with a broken token learns it at once. Two
credentials at once are refused too (which one would win is a question nobody should need to
ask), whether two different headers or the same header twice (a proxy that appends its own
``Authorization`` must not decide who the caller is by header order), and so is a credential in
the query string (an API key, or an OAuth ``access_token``
parameter as RFC 6750 section 2.3 allows and we do not): URLs end up in proxy and access logs, so
a token sent there is refused loudly rather than ignored and served as anonymous.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from auth.api_keys import ApiKeys
from auth.introspection import TokenIntrospector, looks_like_jwt
from auth.key_material import looks_like_api_key
from auth.principal import Principal
from auth.tokens import TokenValidator
from contract.errors import API_KEY_SCHEME, BEARER_SCHEME, AuthenticationError

__all__ = ["API_KEY_QUERY_PARAMETERS", "TOKEN_QUERY_PARAMETERS", "Authenticator", "HeaderLookup"]

#: Query parameters refused whatever their value: where people put keys by habit.
API_KEY_QUERY_PARAMETERS = frozenset({"api_key", "apikey", "key", "x-api-key"})
#: Query parameters refused whatever their value: where OAuth clients put bearer tokens.
TOKEN_QUERY_PARAMETERS = frozenset({"access_token"})


class HeaderLookup(Protocol):
    """Request headers, case-insensitive, each name with every value it was sent with (as
    Starlette's ``Headers``)."""

    def getlist(self, key: str) -> list[str]: ...


def _one(headers: HeaderLookup, name: str, *, scheme: str) -> str | None:
    values = headers.getlist(name)
    if len(values) > 1:
        raise AuthenticationError(
            f"send one {name} header, not {len(values)}", scheme=scheme, reason="invalid_request"
        )
    return values[0] if values else None


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
        self, headers: HeaderLookup, query: Mapping[str, str] | None = None
    ) -> Principal:
        if query is not None and _key_in_query(query):
            raise AuthenticationError(
                "API keys are not accepted in the URL: send the X-API-Key header "
                "(and revoke this key: URLs are logged by proxies)",
                scheme=API_KEY_SCHEME,
            )
        if query is not None and _token_in_query(query):
            raise AuthenticationError(
                "credentials are not accepted in the URL; send the Authorization header"
            )
        authorization = _one(headers, "authorization", scheme=BEARER_SCHEME)
        api_key = _one(headers, "x-api-key", scheme=API_KEY_SCHEME)
        if authorization is not None and api_key is not None:
            raise AuthenticationError(
                "send either Authorization or X-API-Key, not both", reason="invalid_request"
            )
        if api_key is not None:
            if self._api_keys is None:
                raise AuthenticationError(
                    "API keys are not enabled on this gateway", scheme=API_KEY_SCHEME
                )
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
            raise AuthenticationError(
                "API keys go in the X-API-Key header, not Authorization", scheme=API_KEY_SCHEME
            )
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
