"""The import string uvicorn workers load: ``gateway.asgi:app_from_environment``."""

from __future__ import annotations

from starlette.applications import Starlette

from gateway.app import create_app
from gateway.observability.log import configure_logging
from gateway.settings import get_settings


def app_from_environment() -> Starlette:
    configure_logging()
    return create_app(get_settings(), tune_gc_at_start=True)
