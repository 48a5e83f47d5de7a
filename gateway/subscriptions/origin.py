"""Which browser pages may open a subscription: the CSRF rule of the streaming transports.

A browser opens a WebSocket to any site without a preflight, and CORS never applies to it: a
foreign page could subscribe with whatever credentials the browser attaches (cross-site
WebSocket hijacking), and an ``EventSource`` is a simple GET that runs before CORS decides
whether the page may read it. So a request carrying an ``Origin`` (every browser sends one on
both) must come from an origin in ``GATEWAY_CORS_ORIGINS`` or from the gateway's own (its
GraphiQL page); a request without one is not from a browser and has no ambient credentials to
abuse. ``Origin: null`` (sandboxed frames, ``file:``) is refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit


def origin_allowed(origin: str | None, *, host: str | None, allowed: Iterable[str]) -> bool:
    if origin is None:
        return True
    value = origin.strip().rstrip("/").lower()
    listed = {entry.strip().rstrip("/").lower() for entry in allowed}
    if "*" in listed or value in listed:
        return True
    if value == "null" or host is None:
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https", "ws", "wss") and parts.netloc == host.strip().lower()
