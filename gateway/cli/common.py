"""What every ``gateway`` command shares: refusing bad settings in one line, failing cleanly.

A refused configuration is one line naming what is wrong (never a value, since values may be
secrets) and exit status 2, not a traceback.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version

import typer
from pydantic import ValidationError
from pydantic_settings import SettingsError

from datasources.db import Database
from gateway.runtime.wiring import build_database
from gateway.settings import Settings, get_settings

#: Exit status for a configuration or usage problem (1 is for a refused operation).
EXIT_USAGE = 2
_VALUE_ERROR_PREFIX = "Value error, "


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code=code)


def settings_problem(error: ValidationError | SettingsError) -> str:
    """What is wrong with the configuration, on one line, without any value it holds."""
    if isinstance(error, SettingsError):
        return f"invalid settings: {error}"
    problems = []
    for item in error.errors(include_url=False, include_input=False, include_context=False):
        message = item["msg"].removeprefix(_VALUE_ERROR_PREFIX)
        where = "_".join(str(part) for part in item["loc"]).upper()
        problems.append(f"GATEWAY_{where}: {message}" if where else message)
    return "; ".join(problems)


def settings_or_exit() -> Settings:
    """The process's settings, or exit 2 with the one-line reason they are refused."""
    try:
        return get_settings()
    except (ValidationError, SettingsError) as error:
        raise fail(settings_problem(error), code=EXIT_USAGE) from None


def package_version() -> str:
    try:
        return version("manifold-gateway")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


#: The highest TCP port; 0 asks the system for any free one.
MAX_PORT = 65535


def _port_in(port: int, lowest: int, why: str) -> int:
    if not lowest <= port <= MAX_PORT:
        raise fail(
            f"port {port} {why}: pick one from {lowest} to {MAX_PORT} "
            "(e.g. `make run PORT=8001` or --port 8001)",
            code=EXIT_USAGE,
        )
    return port


def check_port(port: int) -> int:
    """``--port`` as it is parsed: outside 0..65535 is one line and exit 2, like a busy port,
    not the traceback ``bind()`` would raise later."""
    return _port_in(port, 0, "is not a TCP port")


def check_demo_port(port: int) -> int:
    """The demo's ``--port``: 1..65535, since it prints its address and gives the sample
    provider a callback URL, which "any free port" (0) would leave unknown."""
    return _port_in(port, 1, "is not a port the demo can announce")


def require_free_port(host: str, port: int) -> None:
    """Exit 2 with one line when ``host:port`` cannot be listened on, before anything else is
    started or printed: uvicorn would otherwise fail after the banner, with a traceback-like
    error, and leave a newcomer with a token for a server that never ran."""
    probe = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        # bind() refuses a port outside 0..65535 with OverflowError, not OSError.
        probe.bind((host, check_port(port)))
    except OSError as error:
        reason = (
            "is already in use (pick another, e.g. `make run PORT=8001` or --port 8001)"
            if error.errno == errno.EADDRINUSE
            else f"cannot be listened on: {error.strerror or error}"
        )
        raise fail(f"port {port} on {host} {reason}", code=EXIT_USAGE) from None
    finally:
        probe.close()


@asynccontextmanager
async def command_database(settings: Settings) -> AsyncIterator[Database]:
    """One small engine for the whole command, disposed when it is done."""
    database = build_database(settings, pooled=False)
    try:
        yield database
    finally:
        await database.dispose()
