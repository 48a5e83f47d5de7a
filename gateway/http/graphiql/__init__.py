"""GraphiQL, served by the gateway from its own package: no CDN, so the page works behind a
firewall, and every file pinned with subresource integrity.

The built files are vendored under ``static/`` by ``vendor.py`` (their versions and hashes are
pinned there and recorded in ``static/manifest.json``); the page (``page.html``) loads them from
``/graphiql/<file>?v=<hash>``, each with its ``integrity`` attribute, so a browser runs exactly
the pinned bytes and may cache them for good. A Content-Security-Policy lets the page load and
connect to nothing but this origin.

In development the page can start with a bearer token in its Headers tab
(``GATEWAY_GRAPHIQL_TOKEN``, which ``gateway demo`` sets to the demo user's): the page then holds
a credential, so it is never stored by a cache (``no-store``).
"""

from __future__ import annotations

import json
import string
from dataclasses import dataclass
from html import escape
from importlib import resources
from typing import Any

from gateway.http.graphiql.vendor import subresource_integrity

__all__ = ["ASSETS_PATH", "DEMO_QUERY", "Asset", "GraphiQLPage"]

#: Where the page's files are served.
ASSETS_PATH = "/graphiql"

#: The first query the demo suggests, and the page starts with when it holds a token.
DEMO_QUERY = (
    "{ me { name orders(first: 3) { edges { node { number lines { quantity content { title "
    "price { amount } } } } } } recommendations(first: 3) { score reason content { title } } } }"
)

#: In the order the page loads them: React before GraphiQL, GraphiQL before its plugin, and
#: the WebSocket client (for subscriptions) before ours.
_SCRIPTS = (
    "react.production.min.js",
    "react-dom.production.min.js",
    "graphiql.min.js",
    "plugin-explorer.umd.js",
    "graphql-ws.min.js",
    "manifold-graphiql.js",
)
_STYLESHEETS = ("graphiql.min.css", "plugin-explorer.css")

_MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
}

#: The page may load and connect to its own origin only; GraphiQL styles elements inline.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

_WELCOME = (
    "# Welcome to Manifold's GraphiQL.\n"
    "# Paste a token into the Headers tab as\n"
    '#   {"Authorization": "Bearer <token>"}\n'
    "# and the Docs and the editor show what that caller may see.\n"
    "{ contents(first: 3) { edges { node { title kind } } } }\n"
)


@dataclass(frozen=True, slots=True)
class Asset:
    content: bytes
    media_type: str
    integrity: str


def _read(name: str) -> bytes:
    return resources.files(__name__).joinpath(name).read_bytes()


def _load_assets() -> dict[str, Asset]:
    manifest: dict[str, dict[str, str]] = json.loads(_read("static/manifest.json"))
    assets: dict[str, Asset] = {}
    for path in resources.files(__name__).joinpath("static").iterdir():
        content = path.read_bytes()
        suffix = "." + path.name.rsplit(".", 1)[-1]
        integrity = subresource_integrity(content)
        pinned = manifest.get(path.name, {}).get("integrity")
        if pinned is not None and pinned != integrity:
            # A checkout or wheel whose vendored file changed: refuse to serve it at all.
            raise RuntimeError(f"GraphiQL asset {path.name} does not match its pinned hash")
        assets[path.name] = Asset(
            content, _MEDIA_TYPES.get(suffix, "application/octet-stream"), integrity
        )
    return assets


class GraphiQLPage:
    """The page and its files, read from the package once (when the app starts)."""

    def __init__(self, *, endpoint: str, token: str | None) -> None:
        self.assets = _load_assets()
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        config: dict[str, Any] = {
            "endpoint": endpoint,
            "headers": headers,
            "headersText": json.dumps(headers, indent=2) if headers else "",
            "query": DEMO_QUERY if token else _WELCOME,
        }
        # Inside <script type="application/json">: "<" escaped so no value can close the tag.
        config_json = json.dumps(config).replace("<", "\\u003c")
        self.html = (
            string.Template(_read("page.html").decode())
            .substitute(
                config=config_json,
                scripts="\n    ".join(self._tag(name, script=True) for name in _SCRIPTS),
                stylesheets="\n    ".join(self._tag(name, script=False) for name in _STYLESHEETS),
            )
            .encode()
        )
        #: The page embeds a credential when it has a token: never kept by any cache.
        self.holds_credential = bool(token)

    def url(self, name: str) -> str:
        # The hash in the URL lets browsers cache a file for good: new bytes, new URL.
        digest = self.assets[name].integrity.removeprefix("sha384-")[:16]
        return f"{ASSETS_PATH}/{name}?v={digest.replace('+', '-').replace('/', '_')}"

    def _tag(self, name: str, *, script: bool) -> str:
        url = escape(self.url(name), quote=True)
        integrity = self.assets[name].integrity
        if script:
            return f'<script src="{url}" integrity="{integrity}" crossorigin="anonymous"></script>'
        return (
            f'<link rel="stylesheet" href="{url}" integrity="{integrity}" '
            'crossorigin="anonymous" />'
        )

    def asset(self, name: str) -> Asset | None:
        return self.assets.get(name)
