"""One REST service the gateway does not own: a pooled httpx client behind a breaker.

Every call is made within the request's deadline, retried only on connect errors and
429/502/503/504, capped in size, counted and timed. Callers get parsed JSON or a
``GatewayError`` with a contract code, never an httpx exception, so a failing service turns
into ``UPSTREAM_TIMEOUT``/``UPSTREAM_UNAVAILABLE`` on exactly the fields that needed it.

Reads are GETs, retried because they are idempotent. A POST is retried only because it carries
an ``Idempotency-Key`` (the service answers a repeated key with the first answer), so
``post_json`` requires one; it is also retried on 409 (the service is still running the first
try with that key), and its 4xx answers are handed back, since they say what the service made
of the request, not that the service is unwell.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import orjson
from opentelemetry.trace import SpanKind

from contract.errors import UpstreamError, UpstreamTimeoutError
from datasources.http_transport import AiohttpTransport
from datasources.instrumentation import DatasourceMetrics
from datasources.resilience import (
    BreakerPolicy,
    BreakerState,
    CircuitBreaker,
    Deadline,
    RetryPolicy,
    parse_retry_after,
)
from datasources.tracing import inject_traceparent, span
from datasources.upstream_answer import (
    Exchange,
    RawAnswer,
    ResponseTooLargeError,
    cache_max_age,
    read_bounded,
)

logger = logging.getLogger("manifold.upstream")

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class UpstreamConfig:
    name: str
    base_url: str | None
    connect_timeout: float = 1.0
    read_timeout: float = 2.0
    pool_timeout: float = 1.0
    max_connections: int = 50
    max_keepalive_connections: int = 20
    max_response_bytes: int = 4 * 1024 * 1024
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    breaker: BreakerPolicy = field(default_factory=BreakerPolicy)


@dataclass(frozen=True, slots=True)
class UpstreamResponse:
    status: int
    body: Any
    #: Seconds the upstream lets us cache this answer (``Cache-Control``), if it said.
    max_age: float | None


__all__ = ["ResponseTooLargeError", "Upstream", "UpstreamConfig", "UpstreamResponse"]
__all__ += ["cache_max_age", "chunked"]

#: Retried for a POST besides the configured statuses: its key's first try is still running.
_POST_RETRY_STATUSES = frozenset({409})


@dataclass(frozen=True, slots=True)
class _Call(Exchange):
    #: A POST's 4xx is an answer (the service refused the request), not a failure.
    answers_client_errors: bool = False
    extra_retry_statuses: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class _Retry:
    """A failure worth retrying; ``healthy`` when it says nothing against the service (429)."""

    retry_after: float | None
    healthy: bool


def chunked(items: Sequence[T], size: int) -> list[Sequence[T]]:
    """``items`` in runs of at most ``size``: one upstream call each, within its batch limit."""
    return [items[start : start + size] for start in range(0, len(items), size)]


class Upstream:
    """Created once per app in the lifespan; shared by every request of that app."""

    def __init__(
        self,
        config: UpstreamConfig,
        *,
        metrics: DatasourceMetrics,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.config = config
        self.name = config.name
        self.breaker = CircuitBreaker(config.name, config.breaker)
        self._metrics = metrics
        self._client = httpx.AsyncClient(
            base_url=config.base_url or "http://unconfigured.invalid",
            timeout=httpx.Timeout(
                config.read_timeout, connect=config.connect_timeout, pool=config.pool_timeout
            ),
            transport=AiohttpTransport(
                tls=tls,
                limits=httpx.Limits(
                    max_connections=config.max_connections,
                    max_keepalive_connections=config.max_keepalive_connections,
                ),
            ),
            headers={"Accept": "application/json", "User-Agent": "manifold-gateway"},
            follow_redirects=False,
        )

    @property
    def configured(self) -> bool:
        return self.config.base_url is not None

    async def aclose(self) -> None:
        await self._client.aclose()

    async def get_json(
        self,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        deadline: Deadline,
        operation: str,
        request_id: str = "",
    ) -> UpstreamResponse:
        """GET ``path``; 404 comes back as a response (callers treat it as missing)."""
        return await self._call(_Call("GET", path, params=params), deadline, operation, request_id)

    async def post_json(
        self,
        path: str,
        body: Mapping[str, Any],
        *,
        idempotency_key: str,
        deadline: Deadline,
        operation: str,
        request_id: str = "",
        headers: Mapping[str, str] | None = None,
    ) -> UpstreamResponse:
        """POST ``body`` as JSON under ``idempotency_key``; 4xx answers come back as responses
        (with their JSON body, or None), 5xx and unusable answers as ``UpstreamError``."""
        if not idempotency_key:
            raise ValueError("a POST is retried, so it needs an idempotency key")
        call = _Call(
            "POST",
            path,
            content=orjson.dumps(body),
            headers={
                **(headers or {}),
                "Content-Type": "application/json",
                "Idempotency-Key": idempotency_key,
            },
            answers_client_errors=True,
            extra_retry_statuses=_POST_RETRY_STATUSES,
        )
        return await self._call(call, deadline, operation, request_id)

    async def _call(
        self, call: _Call, deadline: Deadline, operation: str, request_id: str
    ) -> UpstreamResponse:
        if not self.configured:
            raise UpstreamError(f"the {self.name} service is not configured")
        attempts = self.config.retry.attempts
        for attempt in range(1, attempts + 1):
            answer = await self._attempt(call, deadline, operation, request_id)
            if isinstance(answer, UpstreamResponse):
                return answer
            delay = self.config.retry.backoff(attempt, retry_after=answer.retry_after)
            if attempt == attempts or delay >= deadline.remaining():
                break  # no retry fits in what is left of the request
            await asyncio.sleep(delay)
        raise UpstreamError(f"the {self.name} service is unavailable")

    async def _attempt(
        self, call: _Call, deadline: Deadline, operation: str, request_id: str
    ) -> UpstreamResponse | _Retry:
        remaining = deadline.remaining()
        if remaining <= 0:
            raise UpstreamTimeoutError(f"the {self.name} service did not answer in time")
        try:
            probe = self.breaker.acquire()
        except UpstreamError:
            self._metrics.outcome(self.name, "circuit_open")
            raise
        try:
            answer = await self._exchange(call, deadline, operation, request_id)
        except UpstreamError:
            self.breaker.record_failure()
            raise
        except BaseException:
            if probe:  # cancelled mid-probe: no verdict, let the next caller probe
                self.breaker.release_probe()
            raise
        finally:
            self._metrics.breaker_open.labels(upstream=self.name).set(
                0 if self.breaker.state is BreakerState.CLOSED else 1
            )
        if isinstance(answer, _Retry):
            if answer.healthy:
                if probe:
                    self.breaker.release_probe()
            else:
                self.breaker.record_failure()
            return answer
        try:
            response = self._interpret(answer, operation, call)
        except UpstreamError:
            # A 4xx other than 404, or a body that is not JSON: unusable, so a failure.
            self.breaker.record_failure()
            raise
        self.breaker.record_success()
        self._metrics.breaker_open.labels(upstream=self.name).set(0)
        return response

    async def _exchange(
        self, call: _Call, deadline: Deadline, operation: str, request_id: str
    ) -> RawAnswer | _Retry:
        """One HTTP exchange: the raw answer, a retryable failure, or an ``UpstreamError``."""
        remaining = deadline.remaining()
        config = self.config
        limits = httpx.Timeout(
            connect=min(config.connect_timeout, remaining),
            read=min(config.read_timeout, remaining),
            write=min(config.read_timeout, remaining),
            pool=min(config.pool_timeout, remaining),
        )
        headers = dict(call.headers or {})
        if request_id:
            headers["X-Request-ID"] = request_id
        self._metrics.record_call(self.name, operation)
        started = time.perf_counter()
        outcome = "error"
        try:
            with span(
                operation,
                kind=SpanKind.CLIENT,
                attributes={"http.request.method": call.method, "server.service": self.name},
            ) as current:
                # After the span starts, so the upstream's parent is this call's span.
                inject_traceparent(headers)
                raw = await read_bounded(
                    self._client,
                    call,
                    headers=headers or None,
                    limits=limits,
                    deadline=deadline,
                    limit=config.max_response_bytes,
                    name=self.name,
                )
                if current is not None:
                    current.set_attribute("http.response.status_code", raw.status)
            outcome = "ok" if raw.status < 500 and raw.status != 429 else "error"
        except (httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ConnectError):
            # Nothing reached the service: safe to retry, if the deadline leaves time.
            outcome = "connect_error"
            return _Retry(retry_after=None, healthy=False)
        except (httpx.TimeoutException, TimeoutError):
            outcome = "timeout"
            raise UpstreamTimeoutError(f"the {self.name} service did not answer in time") from None
        except httpx.HTTPError as error:
            logger.warning("%s call failed: %s", self.name, type(error).__name__)
            raise UpstreamError(f"the {self.name} service is unavailable") from None
        finally:
            elapsed = time.perf_counter() - started
            self._metrics.observe(self.name, outcome, elapsed)
            logger.debug("%s %s: %s in %.1f ms", self.name, operation, outcome, elapsed * 1000)
        if raw.status in config.retry.retry_statuses | call.extra_retry_statuses:
            # 429 asks us to slow down and 409 to wait for a first try: neither says anything
            # about the service's health.
            return _Retry(
                retry_after=parse_retry_after(raw.headers.get("retry-after")),
                healthy=raw.status in (409, 429),
            )
        if raw.status >= 500:
            raise UpstreamError(f"the {self.name} service is unavailable")
        return raw

    def _interpret(self, raw: RawAnswer, operation: str, call: _Call) -> UpstreamResponse:
        max_age = cache_max_age(raw.headers.get("cache-control"))
        if raw.status == 404 and not call.answers_client_errors:
            self._metrics.outcome(self.name, "not_found")
            return UpstreamResponse(raw.status, None, max_age)
        if raw.status >= 400 and call.answers_client_errors:
            self._metrics.outcome(self.name, "refused")
            try:
                refusal = orjson.loads(raw.body) if raw.body else None
            except orjson.JSONDecodeError:
                refusal = None
            return UpstreamResponse(raw.status, refusal, None)
        if raw.status >= 400:
            # Our request was wrong: a gateway bug to log, an outage to the client.
            logger.error("%s refused %s with HTTP %d", self.name, operation, raw.status)
            raise UpstreamError(f"the {self.name} service is unavailable")
        try:
            parsed = orjson.loads(raw.body)
        except orjson.JSONDecodeError:
            logger.warning("%s answered %s with a body that is not JSON", self.name, operation)
            raise UpstreamError(f"the {self.name} service is unavailable") from None
        self._metrics.outcome(self.name, "ok")
        return UpstreamResponse(raw.status, parsed, max_age)
