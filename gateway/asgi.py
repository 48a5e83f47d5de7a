"""The import string uvicorn workers load: ``gateway.asgi:app_from_environment``."""

from __future__ import annotations

from starlette.applications import Starlette

from gateway.app import create_app
from gateway.observability.log import configure_logging
from gateway.settings import get_settings


def app_from_environment() -> Starlette:
    settings = get_settings()
    configure_logging(settings.resolved_log_format, settings.log_level)
    return create_app(settings, tune_gc_at_start=True)
