"""Liveness, readiness and metrics endpoints for the operator."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.runtime.resources import Resources


def _resources(request: Request) -> Resources:
    resources: Resources = request.app.state.resources
    return resources


async def healthz(_request: Request) -> Response:
    """Alive means the event loop answers; dependencies are readiness's business."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """From the last background round: never waits on a dependency (``runtime.readiness``)."""
    report = _resources(request).readiness.report()
    return JSONResponse(report.body(), status_code=200 if report.ready else 503)


async def metrics(request: Request) -> Response:
    resources = _resources(request)
    if resources.settings.metrics_port is not None:
        # Served on its own port (``observability.metrics_server``), never to API clients.
        return JSONResponse({"detail": "Not Found"}, status_code=404)
    return Response(resources.metrics.render(), media_type=CONTENT_TYPE_LATEST)


async def dev_jwks(request: Request) -> Response:
    """The development issuer's public keys, so other local services can verify its tokens."""
    issuer = _resources(request).dev_issuer
    if issuer is None:
        return JSONResponse({"detail": "Not Found"}, status_code=404)
    return JSONResponse(issuer.public_jwks())
