"""What a shared cache may do with a ``/graphql`` answer.

An answer depends on the caller's credentials, so it varies on them, and one to a caller who
sent any is ``private, no-store`` (a CDN keeping it would hand one user's data to the next);
refusals are never stored. Anonymous successes stay cacheable, as GET and persisted queries
invite.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

#: Request headers an answer depends on, besides ``Origin`` (which CORS adds to ``Vary``).
CREDENTIAL_HEADERS = ("Authorization", "X-API-Key")


def cache_headers(request: Request, response: Response) -> None:
    """``Vary`` on the credentials, and ``Cache-Control`` for credentialed or refused answers."""
    vary = [value.strip() for value in response.headers.get("Vary", "").split(",") if value]
    response.headers["Vary"] = ", ".join(
        [*vary, *(name for name in CREDENTIAL_HEADERS if name not in vary)]
    )
    if any(name in request.headers for name in CREDENTIAL_HEADERS):
        response.headers["Cache-Control"] = "private, no-store"
    elif response.status_code >= 400:
        response.headers["Cache-Control"] = "no-store"  # a CDN must not keep a refusal
