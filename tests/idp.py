"""A real identity provider on loopback, for tests that must cross HTTP to fetch signing keys.

Key caching, rotation and refetch limits only show up against a server that counts requests,
so this serves a JWKS the test controls from uvicorn in a background thread. It also forges
the tokens an attacker would send (``alg: none``, HMAC keyed with the public key), so tests of
those attacks read as plainly as tests of the happy path.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from demo.serve import serving

__all__ = [
    "AUDIENCE",
    "ISSUER",
    "JWKS_PATH",
    "LocalIdentityProvider",
    "hmac_token",
    "running_identity_provider",
    "unsigned_token",
]

ISSUER = "https://idp.test.manifold"
AUDIENCE = "https://api.test.manifold"
JWKS_PATH = "/.well-known/jwks.json"


class LocalIdentityProvider:
    """Signing keys, a served JWKS and a token mint; start it with ``running_identity_provider``."""

    def __init__(self, *, issuer: str = ISSUER, audience: str = AUDIENCE) -> None:
        self.issuer = issuer
        self.audience = audience
        #: JWKS requests served so far (read from the test thread, written by the server's).
        self.jwks_requests = 0
        #: When true the JWKS endpoint answers 503, as an IdP in an outage would.
        self.failing = False
        self.base_url = ""
        self.signing_key = _new_key()
        self._published: tuple[RSAKey, ...] = (self.signing_key,)

    def reset(self) -> None:
        """Forget keys, counters and outages, so one running server can serve many tests."""
        self.jwks_requests = 0
        self.failing = False
        self.signing_key = _new_key()
        self._published = (self.signing_key,)

    @property
    def jwks_url(self) -> str:
        if not self.base_url:
            raise RuntimeError("the identity provider is not running")
        return self.base_url + JWKS_PATH

    @property
    def kid(self) -> str:
        return _kid(self.signing_key)

    def public_jwks(self) -> dict[str, Any]:
        return dict(KeySet(list(self._published)).as_dict(private=False, use="sig"))

    def public_pem(self) -> bytes:
        """The current public key as PEM: the secret of the classic HS256 confusion attack."""
        return self.signing_key.as_pem(private=False)

    def rotate(self, *, retire_previous: bool = False) -> str:
        """Publish a new key and sign with it from now on; returns its kid."""
        self.signing_key = _new_key()
        previous = () if retire_previous else self._published
        self._published = (*previous, self.signing_key)
        return self.kid

    def claims(
        self,
        *,
        subject: str = "user-1",
        scopes: Iterable[str] = (),
        audience: str | list[str] | None = None,
        **overrides: Any,
    ) -> dict[str, Any]:
        """Valid claims for a five-minute token; an override of ``None`` removes the claim."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": subject,
            "aud": self.audience if audience is None else audience,
            "iat": now,
            "nbf": now,
            "exp": now + 300,
            "scope": " ".join(scopes),
            "jti": secrets.token_urlsafe(8),
        }
        claims.update(overrides)
        return {name: value for name, value in claims.items() if value is not None}

    def mint(
        self,
        *,
        subject: str = "user-1",
        scopes: Iterable[str] = (),
        audience: str | list[str] | None = None,
        key: RSAKey | None = None,
        header: Mapping[str, Any] | None = None,
        **overrides: Any,
    ) -> str:
        """An RS256 token signed by ``key`` (the current signing key unless given).

        ``header`` entries override the protected header; ``None`` removes one (e.g. ``kid``).
        """
        signer = self.signing_key if key is None else key
        protected: dict[str, Any] = {"alg": "RS256", "kid": _kid(signer), **(header or {})}
        protected = {name: value for name, value in protected.items() if value is not None}
        claims = self.claims(subject=subject, scopes=scopes, audience=audience, **overrides)
        return jwt.encode(protected, claims, signer, algorithms=[protected["alg"]])

    def forge(self, header: Any, claims: Any) -> str:
        """A token whose header and claims are exactly these JSON values (objects or not, or
        raw JSON text as bytes), validly RS256-signed with the current key: what a buggy issuer, or one whose key
        leaked, sends a parser. joserfc refuses to encode ill-typed headers, so it is done here."""
        private_key = self.signing_key.private_key
        assert private_key is not None

        def sign(signing_input: bytes) -> bytes:
            return private_key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())

        return _compact(header, claims, sign)

    def app(self) -> Starlette:
        async def jwks(request: Request) -> Response:
            self.jwks_requests += 1
            if self.failing:
                return JSONResponse({"error": "temporarily_unavailable"}, status_code=503)
            return JSONResponse(self.public_jwks())

        return Starlette(routes=[Route(JWKS_PATH, jwks)])


def unsigned_token(claims: Mapping[str, Any], header: Mapping[str, Any] | None = None) -> str:
    """An ``alg: none`` token: the signature segment is empty."""
    return _compact({"alg": "none", "typ": "JWT", **(header or {})}, claims, lambda _: b"")


def hmac_token(
    claims: Mapping[str, Any], secret: bytes, header: Mapping[str, Any] | None = None
) -> str:
    """An HS256 token MACed with ``secret``, built by hand as an attacker would.

    joserfc refuses to use a PEM public key as an HMAC secret, so the forgery is done here.
    """
    return _compact(
        {"alg": "HS256", "typ": "JWT", **(header or {})},
        claims,
        lambda signing_input: hmac.new(secret, signing_input, hashlib.sha256).digest(),
    )


@contextmanager
def running_identity_provider(
    *, issuer: str = ISSUER, audience: str = AUDIENCE
) -> Iterator[LocalIdentityProvider]:
    """Serve a fresh identity provider on 127.0.0.1 for the duration of the block."""
    provider = LocalIdentityProvider(issuer=issuer, audience=audience)
    with serving(provider.app()) as base_url:
        provider.base_url = base_url
        yield provider


def _new_key() -> RSAKey:
    return RSAKey.generate_key(2048, private=True, auto_kid=True)


def _kid(key: RSAKey) -> str:
    key.ensure_kid()
    assert key.kid is not None
    return key.kid


def _compact(header: Any, claims: Any, sign: Callable[[bytes], bytes]) -> str:
    def segment(data: Any) -> bytes:
        # Bytes are sent as they are: JSON no encoder would write (nested past its depth).
        raw = data if isinstance(data, bytes) else json.dumps(data, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=")

    signing_input = segment(header) + b"." + segment(claims)
    signature = base64.urlsafe_b64encode(sign(signing_input)).rstrip(b"=")
    return (signing_input + b"." + signature).decode("ascii")
