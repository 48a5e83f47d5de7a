"""Cross-site request forgery prevention, as Apollo Router and Apollo Server do it.

CORS stops a foreign page from *reading* a response, not from *sending* the request: a browser
sends a "simple" request (GET, or POST with a form or text content type, no custom header)
without asking the server first, carrying the user's cookies. So an operation is executed only if
a browser could not have sent it unflighted: it names a content type that is not one of the
three simple ones (``application/json`` in practice), or carries a non-empty
``apollo-require-preflight`` / ``x-apollo-operation-name`` header. A GET without a content type
is simple: curl and CDN-cached GETs add ``apollo-require-preflight: true`` (Apollo's clients send
``x-apollo-operation-name`` or a content type by themselves).
"""

from __future__ import annotations

from collections.abc import Mapping

from gateway.http.media_types import media_type

PREFLIGHT_HEADERS = ("apollo-require-preflight", "x-apollo-operation-name")
SIMPLE_CONTENT_TYPES = frozenset(
    {"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"}
)
MESSAGE = (
    "This operation has been blocked as a potential Cross-Site Request Forgery (CSRF). "
    "Send a Content-Type other than application/x-www-form-urlencoded, multipart/form-data "
    "or text/plain, or a non-empty apollo-require-preflight or x-apollo-operation-name header."
)


def could_be_cross_site(headers: Mapping[str, str]) -> bool:
    """True when a browser could have sent this request from any page without a preflight."""
    essence = media_type(headers.get("content-type"))
    if essence and essence not in SIMPLE_CONTENT_TYPES:
        return False
    return not any(headers.get(name, "").strip() for name in PREFLIGHT_HEADERS)
