"""A small RFC 7662 token introspection endpoint on loopback, run like ``tests/idp.py``'s IdP.

It knows the tokens a test registers, demands the gateway's client credentials (HTTP Basic),
answers ``active: false`` for anything unknown or past its ``exp``, and counts its requests so
tests can see the gateway's cache at work.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from demo.serve import serving

CLIENT_ID = "manifold-gateway"
CLIENT_SECRET = "introspection-test-secret-0123456789"
PATH = "/oauth/introspect"


class IntrospectionServer:
    def __init__(self) -> None:
        self.base_url = ""
        self.requests = 0
        self.unauthorized = 0
        self._tokens: dict[str, dict[str, Any]] = {}
        #: Tokens answered with exactly this JSON, whatever its shape (a buggy or hostile IdP).
        self._answers: dict[str, Any] = {}

    @property
    def url(self) -> str:
        return self.base_url + PATH

    def reset(self) -> None:
        self.requests = 0
        self.unauthorized = 0
        self._tokens.clear()
        self._answers.clear()

    def issue(
        self,
        *,
        subject: str = "opaque-user",
        scopes: tuple[str, ...] = (),
        ttl: float = 300,
        **claims: Any,
    ) -> str:
        """A new active token; ``claims`` (``aud``, ``iss``…) are added to its answer."""
        token = secrets.token_urlsafe(24)
        self._tokens[token] = {
            "sub": subject,
            "scope": " ".join(scopes),
            # A NumericDate may be fractional (RFC 7519 §2): exact lifetimes keep tests short.
            "exp": time.time() + ttl,
            "client_id": "some-client",
            "token_type": "Bearer",
            **claims,
        }
        return token

    def answer_with(self, answer: Any) -> str:
        """A new token whose introspection answer is ``answer`` verbatim, active or not."""
        token = secrets.token_urlsafe(24)
        self._answers[token] = answer
        return token

    def revoke(self, token: str) -> None:
        self._tokens.pop(token, None)

    def app(self) -> Starlette:
        async def introspect(request: Request) -> Response:
            self.requests += 1
            expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
            if request.headers.get("authorization") != expected:
                self.unauthorized += 1
                return JSONResponse({"error": "invalid_client"}, status_code=401)
            form = parse_qs((await request.body()).decode())  # no python-multipart needed
            token = form.get("token", [""])[0]
            if token in self._answers:
                # json.dumps writes NaN as Python reads it: a hostile answer, not valid JSON.
                body = json.dumps(self._answers[token]).encode()
                return Response(body, media_type="application/json")
            claims = self._tokens.get(token)
            if claims is None or claims["exp"] <= time.time():
                return JSONResponse({"active": False})
            return JSONResponse({"active": True, **claims})

        return Starlette(routes=[Route(PATH, introspect, methods=["POST"])])


@contextmanager
def running_introspection_server() -> Iterator[IntrospectionServer]:
    server_state = IntrospectionServer()
    with serving(server_state.app()) as base_url:
        server_state.base_url = base_url
        yield server_state
