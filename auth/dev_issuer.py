"""A local token issuer, so the demo and developers get real signed tokens without an IdP.

Tokens it mints go through the same ``TokenValidator`` as production ones; only the key source
differs. Its private key lives in one file, written once and reused, so tokens minted by
``gateway token`` stay valid across restarts and across the workers of one machine.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from auth.jwks import StaticKeySource

__all__ = ["DEV_ISSUER", "DEV_ISSUER_ALGORITHM", "DevIssuer"]

DEV_ISSUER = "urn:manifold:dev-issuer"
DEV_ISSUER_ALGORITHM = "RS256"
KEY_FILE_NAME = "dev-issuer-key.json"


class DevIssuer:
    """Mints RS256 access tokens with a key kept on local disk."""

    issuer = DEV_ISSUER
    algorithm = DEV_ISSUER_ALGORITHM

    def __init__(self, private_key: RSAKey) -> None:
        if not private_key.is_private:
            raise ValueError("the development issuer needs a private key")
        private_key.ensure_kid()
        self._private_key = private_key
        self._public_key = RSAKey.import_key(private_key.as_dict(private=False))

    @classmethod
    def load_or_create(cls, directory: Path) -> DevIssuer:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = directory / KEY_FILE_NAME
        if not path.exists():
            _create_key_file(path)
        return cls(RSAKey.import_key(json.loads(path.read_text(encoding="utf-8"))))

    @property
    def kid(self) -> str:
        kid = self._private_key.kid
        assert kid is not None  # set by ensure_kid in __init__
        return kid

    def public_jwks(self) -> dict[str, Any]:
        document = KeySet([self._public_key]).as_dict(
            private=False, use="sig", alg=DEV_ISSUER_ALGORITHM
        )
        return dict(document)

    def key_source(self) -> StaticKeySource:
        return StaticKeySource(KeySet([self._public_key]))

    def mint(
        self,
        *,
        subject: str,
        scopes: Iterable[str],
        audience: str,
        ttl_seconds: int = 3600,
        now: int | None = None,
    ) -> str:
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive")
        issued_at = int(time.time()) if now is None else now
        claims = {
            "iss": DEV_ISSUER,
            "sub": subject,
            "aud": audience,
            "iat": issued_at,
            "nbf": issued_at,
            "exp": issued_at + ttl_seconds,
            "scope": " ".join(sorted(set(scopes))),
            "jti": secrets.token_urlsafe(16),
        }
        header = {"alg": DEV_ISSUER_ALGORITHM, "kid": self.kid}
        return jwt.encode(header, claims, self._private_key, algorithms=[DEV_ISSUER_ALGORITHM])


def _create_key_file(path: Path) -> None:
    """Write a new key so that no reader ever sees a partial file and no writer overwrites.

    Two processes starting together may both generate a key; linking the finished temporary
    file into place fails for the second, which then loads the first one's key.
    """
    key = RSAKey.generate_key(2048, private=True, auto_kid=True)
    content = json.dumps(key.as_dict(private=True), indent=2).encode("utf-8")
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)  # exactly 0600, whatever the umask
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
