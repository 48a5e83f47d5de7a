"""OpenTelemetry for one app: its own tracer provider, exporting over OTLP/HTTP, off by default.

The provider is made in the lifespan and shut down with it (flushing what is batched); nothing
touches OpenTelemetry's global provider, which can be set only once per process and would mix
two apps' traces. Requests get the tracer through ``datasources.tracing``'s context variable,
so every layer's spans nest without being handed a tracer. Sampling is parent-based: a client
that sends a sampled ``traceparent`` is always traced, new traces are sampled at the ratio.
"""

from __future__ import annotations

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import Tracer

from gateway.settings import Settings

#: Seconds the exporter may take per batch; a collector that hangs must not hold shutdown.
EXPORT_TIMEOUT_SECONDS = 5.0


class Tracing:
    """The app's tracer, or none when tracing is off (``span`` is then a no-op)."""

    def __init__(self, provider: TracerProvider | None) -> None:
        self.provider = provider
        self.tracer: Tracer | None = (
            provider.get_tracer("manifold.gateway") if provider is not None else None
        )

    @classmethod
    def disabled(cls) -> Tracing:
        return cls(None)

    @classmethod
    def from_settings(
        cls, settings: Settings, *, processor: SpanProcessor | None = None
    ) -> Tracing:
        """``processor`` replaces the OTLP exporter (tests pass an in-memory one)."""
        if not settings.tracing_enabled:
            return cls.disabled()
        provider = TracerProvider(
            resource=Resource.create({"service.name": settings.tracing_service_name}),
            sampler=ParentBased(TraceIdRatioBased(settings.tracing_sample_ratio)),
        )
        provider.add_span_processor(processor or BatchSpanProcessor(_exporter(settings)))
        return cls(provider)

    def shutdown(self) -> None:
        if self.provider is not None:
            self.provider.shutdown()


def _exporter(settings: Settings) -> SpanExporter:
    # Imported only when tracing is on: the exporter pulls in requests and protobuf.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # noqa: PLC0415
        OTLPSpanExporter,
    )

    ca = settings.ca_certificates
    return OTLPSpanExporter(
        endpoint=settings.tracing_otlp_endpoint,
        timeout=EXPORT_TIMEOUT_SECONDS,
        certificate_file=str(ca) if ca is not None and ca.is_file() else None,
    )
