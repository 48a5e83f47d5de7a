"""Liveness, readiness and metrics endpoints for the operator."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from auth.jwks import RemoteJwksSource
from datasources.migrate import database_revision
from gateway.runtime.resources import Resources

CHECK_TIMEOUT_SECONDS = 2.0


def _resources(request: Request) -> Resources:
    resources: Resources = request.app.state.resources
    return resources


async def healthz(_request: Request) -> Response:
    """Alive means the event loop answers; dependencies are readiness's business."""
    return JSONResponse({"status": "ok"})


class SchemaBehindError(Exception):
    """The database is reachable but not migrated to the revision this build expects."""


async def _check(probe: Callable[[], Awaitable[None]]) -> str:
    try:
        await asyncio.wait_for(probe(), timeout=CHECK_TIMEOUT_SECONDS)
    except TimeoutError:
        return "timeout"
    except SchemaBehindError:
        return "behind"
    except Exception:  # the body says which dependency failed, never how (no hosts, no SQL)
        return "unavailable"
    return "ok"


async def readyz(request: Request) -> Response:
    resources = _resources(request)

    async def jwks() -> None:
        source = resources.key_source
        if isinstance(source, RemoteJwksSource) and not source.loaded:
            await source.refresh()

    async def migrations() -> None:
        # A replica whose code expects tables the database lacks would fail every request.
        if await database_revision(resources.database) != resources.schema_revision:
            raise SchemaBehindError

    names = ("database", "migrations", resources.cache.name, "jwks")
    results = await asyncio.gather(
        _check(resources.database.ping),
        _check(migrations),
        _check(resources.cache.ping),
        _check(jwks),
    )
    checks = dict(zip(names, results, strict=True))
    ready = all(result == "ok" for result in results)
    # Upstreams are reported, never required: serving partial data is the design, so a replica
    # whose content service is down must stay in the load balancer.
    upstreams = {
        upstream.name: upstream.breaker.state.value if upstream.configured else "not_configured"
        for upstream in resources.backends.upstreams()
    }
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks, "upstreams": upstreams},
        status_code=200 if ready else 503,
    )


async def metrics(request: Request) -> Response:
    return Response(_resources(request).metrics.render(), media_type=CONTENT_TYPE_LATEST)


async def dev_jwks(request: Request) -> Response:
    """The development issuer's public keys, so other local services can verify its tokens."""
    issuer = _resources(request).dev_issuer
    if issuer is None:
        return JSONResponse({"detail": "Not Found"}, status_code=404)
    return JSONResponse(issuer.public_jwks())
