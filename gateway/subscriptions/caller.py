"""Who is on a streaming connection, and until when.

A connection authenticates once, exactly as an HTTP request does (the one ``Authenticator``),
and then outlives its credential's checks: ``watch`` returns when the connection must end — a
bearer token's ``exp`` passed, or a revocable credential (an API key, an opaque token) that
fails its periodic re-check (``GATEWAY_SUBSCRIPTION_RECHECK_SECONDS``, through the same
cache rule as every request, so a revoked key is refused within that plus the revocation's own
delay). A re-check that cannot be made (Redis and the database both down) keeps the
connection: the same outage would not refuse a request holding a cached entry either.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from auth.credentials import Authenticator
from auth.expiry import Validity, validity
from auth.principal import Principal
from contract.errors import AuthenticationError, UpstreamTimeoutError
from gateway.subscriptions.credentials import CredentialHeaders

logger = logging.getLogger("manifold.subscriptions")


class Ending(Enum):
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(frozen=True, slots=True)
class Ended:
    why: Ending
    message: str


class Caller:
    def __init__(
        self,
        authenticator: Authenticator,
        *,
        recheck_seconds: float,
        timeout_seconds: float,
    ) -> None:
        self._authenticator = authenticator
        self._recheck_seconds = recheck_seconds
        self._timeout_seconds = timeout_seconds
        self._headers = CredentialHeaders(())
        self._query: Mapping[str, str] | None = None
        self.principal = Principal.anonymous()
        self.validity = Validity.of_anonymous()

    async def authenticate(
        self, headers: CredentialHeaders, query: Mapping[str, str] | None = None
    ) -> Principal:
        """Check the credential; ``AuthenticationError`` or ``UpstreamError`` if it cannot be
        accepted now."""
        self._headers, self._query = headers, query
        self.principal = await self._check()
        self.validity = validity(headers)
        return self.principal

    async def current(self) -> Principal:
        """The principal, as the pipeline asks for it (``PrincipalSource``)."""
        return self.principal

    async def _check(self) -> Principal:
        try:
            async with asyncio.timeout(self._timeout_seconds):
                return await self._authenticator.authenticate(self._headers, self._query)
        except TimeoutError:
            raise UpstreamTimeoutError("credentials could not be checked in time") from None

    async def watch(self) -> Ended:
        """Wait until the credential must no longer be served; why."""
        while True:
            now = time.time()
            expires_at = self.validity.expires_at
            wait = self._recheck_seconds if self.validity.revocable else math.inf
            if expires_at is not None:
                wait = min(wait, expires_at - now)
            if math.isinf(wait):
                await asyncio.Event().wait()  # anonymous or a JWT without exp: nothing to watch
            await asyncio.sleep(max(0.0, wait))
            if expires_at is not None and time.time() >= expires_at:
                return Ended(Ending.EXPIRED, "token expired")
            if self.validity.revocable:
                try:
                    self.principal = await self._check()
                except AuthenticationError as error:
                    return Ended(Ending.REVOKED, error.message)
                except Exception as error:  # cannot be checked now: keep serving, retry
                    logger.info("credential re-check failed (%s)", type(error).__name__)
