"""The credential of a streaming connection: the upgrade request's headers, or the
``connection_init`` payload's ``Authorization`` / ``X-API-Key`` keys (browsers cannot set
headers on a WebSocket, so graphql-ws clients put them there; Cosmo reads them the same way).

Both are handed to the one ``Authenticator`` as if they were headers, so every rule of HTTP
holds unchanged: one credential only (a token in the headers *and* a key in the payload is
refused, as two headers are), no key as a bearer token, nothing in the URL.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from contract.errors import AuthenticationError

CREDENTIAL_KEYS = ("authorization", "x-api-key")


class CredentialHeaders:
    """Case-insensitive header lookup over (name, value) pairs (``auth.HeaderLookup``)."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self._pairs = [(name.lower(), value) for name, value in pairs]

    def getlist(self, key: str) -> list[str]:
        key = key.lower()
        return [value for name, value in self._pairs if name == key]


def credential_headers(
    upgrade: CredentialHeaders | Any, payload: Mapping[str, Any] | None = None
) -> CredentialHeaders:
    """The credentials of the upgrade request's headers plus those of the init payload.

    Raises ``AuthenticationError`` for a credential key whose value is not a string.
    """
    pairs = [(name, value) for name in CREDENTIAL_KEYS for value in upgrade.getlist(name)]
    for key, value in (payload or {}).items():
        name = key.lower() if isinstance(key, str) else ""
        if name not in CREDENTIAL_KEYS:
            continue
        if not isinstance(value, str):
            raise AuthenticationError(f"{key} in the connection_init payload must be a string")
        pairs.append((name, value))
    return CredentialHeaders(pairs)
