"""Injected faults for the demo upstream services: latency, errors, hangs and oversized answers.

The gateway's resilience (deadlines, retries, circuit breaker, response-size cap) can only be
shown against an upstream that misbehaves on demand, so every API route of a demo service runs
through a ``FaultInjector``. The service's own control routes (``/healthz``, ``/openapi.json``,
``/_faults``, ``/_stats``) never do: a test must be able to repair a broken upstream and read
its counters while it is broken.

Per API request, in this order: count it in ``/_stats``; ``hang`` (no answer: the handler
waits, without blocking the server's other requests, until the client hangs up or the faults
are changed, and then carries on under the new faults, so clearing a hang releases what it
held instead of leaving it for the server's shutdown to cancel); sleep
``latency_ms``; answer ``error_status`` to an ``error_rate`` fraction of requests (drawn from
a ``random.Random`` reseeded whenever the faults are set, so a run is reproducible), with
``Retry-After`` when ``retry_after`` is set; otherwise run the route. Every JSON object answer
then gets a ``"_padding"`` string of ``pad_bytes`` bytes.

Initial faults come from command-line flags or ``DEMO_*`` environment variables (flags win);
tests and demos change them at run time with ``PUT /_faults``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

__all__ = [
    "FaultInjector",
    "Faults",
    "InvalidFaults",
    "add_fault_arguments",
    "bad_request",
    "faults_from_arguments",
    "operational_routes",
]

Endpoint = Callable[[Request], Awaitable[Response]]

_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"0", "false", "no", "off", ""})


class InvalidFaults(ValueError):
    """A fault setting out of range or of the wrong type."""


@dataclass(frozen=True, slots=True)
class Faults:
    """How an upstream misbehaves; the defaults are a healthy service."""

    latency_ms: int = 0
    error_rate: float = 0.0
    error_status: int = 503
    retry_after: int | None = None
    hang: bool = False
    pad_bytes: int = 0

    def __post_init__(self) -> None:
        if self.latency_ms < 0:
            raise InvalidFaults("latency_ms must not be negative")
        if not 0.0 <= self.error_rate <= 1.0:
            raise InvalidFaults("error_rate must be between 0 and 1")
        if not 400 <= self.error_status <= 599:
            raise InvalidFaults("error_status must be an HTTP error status (400..599)")
        if self.retry_after is not None and self.retry_after < 0:
            raise InvalidFaults("retry_after must not be negative")
        if self.pad_bytes < 0:
            raise InvalidFaults("pad_bytes must not be negative")

    @classmethod
    def from_json(cls, data: object) -> Faults:
        """Faults from a ``PUT /_faults`` body: every field optional, unknown fields refused."""
        if not isinstance(data, dict):
            raise InvalidFaults("the body must be a JSON object")
        known = {field.name for field in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidFaults(f"unknown fault settings: {', '.join(unknown)}")
        values: dict[str, Any] = {}
        for name, value in data.items():
            values[name] = _checked_type(name, value)
        return cls(**values)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _checked_type(name: str, value: object) -> object:
    # bool is an int in Python, and JSON's 1 is not a flag: check the types exactly.
    number = isinstance(value, int | float) and not isinstance(value, bool)
    integer = isinstance(value, int) and not isinstance(value, bool)
    if name == "hang":
        ok = isinstance(value, bool)
    elif name == "error_rate":
        ok = number
    elif name == "retry_after":
        ok = value is None or integer
    else:
        ok = integer
    if not ok:
        raise InvalidFaults(f"{name} has the wrong type")
    if name == "error_rate" and isinstance(value, int | float):
        return float(value)
    return value


class FaultInjector:
    """One service's faults and request counters; wraps its API routes and serves the controls."""

    def __init__(self, faults: Faults = Faults(), *, seed: int = 0) -> None:
        self._seed = seed
        self._route_paths: list[str] = []
        self._by_route: dict[str, int] = {}
        self.faults = faults

    @property
    def faults(self) -> Faults:
        return self._faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        self._faults = faults
        # Reseeded on every change, so "set faults, send N requests" is reproducible.
        self._random = random.Random(self._seed)  # noqa: S311 (fault sampling, not security)
        # Wakes the hung requests, which carry on under the new faults.
        previous = getattr(self, "_changed", None)
        self._changed = asyncio.Event()
        if previous is not None:
            previous.set()

    def route(self, path: str, endpoint: Endpoint, *, methods: Sequence[str] = ("GET",)) -> Route:
        """An API route of the service, subject to the faults and counted in ``/_stats``."""
        self._route_paths.append(path)
        self._by_route[path] = 0

        async def faulty(request: Request) -> Response:
            self._by_route[path] += 1
            while self._faults.hang:
                if not await self._hang(request):
                    return Response(status_code=499)  # nobody is listening any more
            faults = self._faults
            if faults.latency_ms:
                await asyncio.sleep(faults.latency_ms / 1000)
            if faults.error_rate and self._random.random() < faults.error_rate:
                response: Response = _injected_error(faults)
            else:
                response = await endpoint(request)
            return _padded(response, faults.pad_bytes)

        return Route(path, faulty, methods=list(methods), name=path)

    async def _hang(self, request: Request) -> bool:
        """Wait for the client to hang up (False) or the faults to change (True)."""
        changed = asyncio.ensure_future(self._changed.wait())
        gone = asyncio.ensure_future(_until_disconnected(request))
        try:
            done, _ = await asyncio.wait({changed, gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            changed.cancel()
            gone.cancel()
        return changed in done

    def control_routes(self) -> list[Route]:
        """``GET|PUT /_faults``, ``GET /_stats`` and ``POST /_stats/reset``."""
        return [
            Route("/_faults", self._get_faults, methods=["GET"]),
            Route("/_faults", self._put_faults, methods=["PUT"]),
            Route("/_stats", self._stats, methods=["GET"]),
            Route("/_stats/reset", self._reset_stats, methods=["POST"]),
        ]

    async def _get_faults(self, request: Request) -> Response:
        return JSONResponse(self._faults.as_json())

    async def _put_faults(self, request: Request) -> Response:
        try:
            self.faults = Faults.from_json(json.loads(await request.body()))
        except (InvalidFaults, ValueError) as error:
            message = str(error) if isinstance(error, InvalidFaults) else "the body is not JSON"
            return JSONResponse({"error": "bad_request", "message": message}, status_code=400)
        return JSONResponse(self._faults.as_json())

    async def _stats(self, request: Request) -> Response:
        return JSONResponse(
            {"requests": sum(self._by_route.values()), "byRoute": dict(self._by_route)}
        )

    async def _reset_stats(self, request: Request) -> Response:
        self._by_route = dict.fromkeys(self._route_paths, 0)
        return await self._stats(request)


async def _until_disconnected(request: Request) -> None:
    # A GET's body is already complete, so the next message the server sends is the
    # disconnect: until then this waits without polling and without holding up other requests.
    while (await request.receive())["type"] != "http.disconnect":
        pass


def _injected_error(faults: Faults) -> Response:
    headers = {} if faults.retry_after is None else {"Retry-After": str(faults.retry_after)}
    return JSONResponse(
        {"error": "injected_fault", "message": f"injected fault: HTTP {faults.error_status}"},
        status_code=faults.error_status,
        headers=headers,
    )


def _padded(response: Response, pad_bytes: int) -> Response:
    if not pad_bytes or response.media_type != "application/json":
        return response
    payload = json.loads(bytes(response.body))
    if not isinstance(payload, dict):
        return response
    payload["_padding"] = "x" * pad_bytes
    headers = {name: value for name, value in response.headers.items() if name != "content-length"}
    return JSONResponse(payload, status_code=response.status_code, headers=headers)


# --- the routes every demo service shares -----------------------------------------------------


def bad_request(message: str) -> JSONResponse:
    return JSONResponse({"error": "bad_request", "message": message}, status_code=400)


def operational_routes(injector: FaultInjector, openapi: Mapping[str, Any]) -> list[Route]:
    """``/healthz``, ``/openapi.json`` and the fault controls: never faulted, never counted."""

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def openapi_json(request: Request) -> Response:
        return JSONResponse(openapi)

    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/openapi.json", openapi_json, methods=["GET"]),
        *injector.control_routes(),
    ]


# --- command line and environment -------------------------------------------------------------


def add_fault_arguments(parser: argparse.ArgumentParser) -> None:
    """The initial-fault flags every demo service accepts (each defaults to its DEMO_* var)."""
    group = parser.add_argument_group("injected faults (also DEMO_* environment variables)")
    group.add_argument("--latency-ms", type=int, help="delay every API answer (DEMO_LATENCY_MS)")
    group.add_argument(
        "--error-rate", type=float, help="fraction 0..1 of API requests failed (DEMO_ERROR_RATE)"
    )
    group.add_argument(
        "--error-status", type=int, help="status of failed requests (DEMO_ERROR_STATUS, 503)"
    )
    group.add_argument(
        "--retry-after", type=int, help="Retry-After seconds on failures (DEMO_RETRY_AFTER)"
    )
    group.add_argument(
        "--pad-bytes", type=int, help="padding added to JSON answers (DEMO_PAD_BYTES)"
    )
    group.add_argument(
        "--hang",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="never answer API requests (DEMO_HANG)",
    )


def faults_from_arguments(arguments: argparse.Namespace, environ: Mapping[str, str]) -> Faults:
    """Flags first, then ``DEMO_*`` variables, then the defaults; raises ``InvalidFaults``."""

    def pick(flag: object, variable: str, parse: Callable[[str], object]) -> object:
        if flag is not None:
            return flag
        raw = environ.get(variable)
        if raw is None:
            return None
        try:
            return parse(raw)
        except ValueError as error:
            raise InvalidFaults(f"{variable}={raw!r} is not valid") from error

    chosen = {
        "latency_ms": pick(arguments.latency_ms, "DEMO_LATENCY_MS", int),
        "error_rate": pick(arguments.error_rate, "DEMO_ERROR_RATE", float),
        "error_status": pick(arguments.error_status, "DEMO_ERROR_STATUS", int),
        "retry_after": pick(arguments.retry_after, "DEMO_RETRY_AFTER", int),
        "pad_bytes": pick(arguments.pad_bytes, "DEMO_PAD_BYTES", int),
        "hang": pick(arguments.hang, "DEMO_HANG", _flag),
    }
    return Faults(**{name: value for name, value in chosen.items() if value is not None})  # type: ignore[arg-type]


def _flag(raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(raw)


def parse_service_arguments(
    parser: argparse.ArgumentParser, argv: Sequence[str] | None
) -> tuple[argparse.Namespace, Faults]:
    """A demo service's command line plus its fault flags, with faults read as the CLI says.

    Adds ``--host`` and the fault flags to ``parser`` (the service adds ``--port`` and its own),
    parses ``argv`` and reads the initial faults from flags, then ``DEMO_*`` variables.
    """
    parser.add_argument("--host", default="127.0.0.1")
    add_fault_arguments(parser)
    arguments = parser.parse_args(argv)
    try:
        return arguments, faults_from_arguments(arguments, os.environ)
    except InvalidFaults as error:
        parser.error(str(error))
