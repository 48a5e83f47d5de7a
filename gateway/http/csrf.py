"""Cross-site request forgery prevention, as Apollo Router and Apollo Server do it, narrowed to
the requests a forgery could profit from.

CORS stops a foreign page from *reading* a response, not from *sending* the request: a browser
sends a "simple" request (GET, or POST with a form or text content type, no custom header)
without asking the server first, carrying the user's ambient credentials: cookies, and HTTP
authentication the browser remembers (``Basic``, ``Digest``, ``Negotiate``). A forged request is
only worth anything with those attached.

Manifold reads credentials only from ``Authorization: Bearer`` and ``X-API-Key``, which a page
cannot set on a cross-site request without a CORS preflight, and never from cookies. So:

* a GET that carries no cookie and no browser-remembered ``Authorization`` is let through as it
  is: if a foreign page sent it, it ran as the anonymous caller, which the attacker could have
  been anyway (it also cannot mutate: GET serves queries only). This is what GET-mode clients
  (urql's persisted queries, graphql-request) and CDN-cached GETs send;
* a GET that could carry ambient credentials (a ``Cookie`` a proxy in front may turn into a
  session, or ``Authorization`` with a scheme other than Bearer), and every POST with a simple
  content type, runs only with a non-empty ``apollo-require-preflight`` or
  ``x-apollo-operation-name`` header, or a content type that is not one of the three simple
  ones (``application/json`` in practice). A browser sends neither without a preflight.
"""

from __future__ import annotations

from starlette.datastructures import Headers

from gateway.http.media_types import media_type

PREFLIGHT_HEADERS = ("apollo-require-preflight", "x-apollo-operation-name")
SIMPLE_CONTENT_TYPES = frozenset(
    {"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"}
)
MESSAGE = (
    "This operation has been blocked as a potential Cross-Site Request Forgery (CSRF). "
    "Send a Content-Type other than application/x-www-form-urlencoded, multipart/form-data "
    "or text/plain, or a non-empty apollo-require-preflight or x-apollo-operation-name header "
    "(a GET without cookies needs neither)."
)


def carries_ambient_credentials(headers: Headers) -> bool:
    """Whether a browser could have attached credentials to this request by itself."""
    if headers.getlist("cookie"):
        return True
    return any(
        value.strip().partition(" ")[0].lower() != "bearer"
        for value in headers.getlist("authorization")
    )


def could_be_cross_site(method: str, headers: Headers) -> bool:
    """True when a browser could have sent this request from any page without a preflight,
    with credentials that make a forgery worth sending."""
    essence = media_type(headers.get("content-type"))
    if essence and essence not in SIMPLE_CONTENT_TYPES:
        return False
    if any(headers.get(name, "").strip() for name in PREFLIGHT_HEADERS):
        return False
    return method != "GET" or carries_ambient_credentials(headers)
