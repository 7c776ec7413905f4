"""OpenTelemetry for the server: SDK set-up and a tracing interceptor for the API's calls.

The engines use only the OpenTelemetry API; this module installs the SDK (when an exporter is
asked for) and opens a SERVER span per CloudFlow call, parented on the W3C trace context the
client sent. The span is current while the servicer runs, so an Express execution's spans
become its children: one trace from the caller through every state.

Exporters: ``none`` (nothing is installed and the interceptor is left out: tracing costs
nothing), ``console`` (the SDK's console exporter, spans as JSON on stdout), ``otlp`` (needs the
``opentelemetry-exporter-otlp`` package, which is not a dependency; configured by the standard
``OTEL_EXPORTER_OTLP_*`` variables).
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import Any, Final

import grpc
from opentelemetry import trace
from opentelemetry.propagate import extract
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

from express_engine.tracing import tracing_enabled

__all__ = [
    "EXPORTERS",
    "TRACED_PREFIX",
    "TracingInterceptor",
    "configure_tracing",
    "exporter_from_environment",
    "tracing_enabled",
]

EXPORTERS: Final = ("none", "console", "otlp")
TRACED_PREFIX: Final = "/cloudflow.v1."
"""Calls of the public API are traced; health checks and reflection are not (they are noise)."""
SERVICE_NAME: Final = "cloudflow"

# OpenTelemetry's gRPC conventions: a server span ends in error only for these codes; the
# others (NOT_FOUND, INVALID_ARGUMENT, ...) are the caller's mistakes, not the server's.
_SERVER_ERRORS: Final = frozenset(
    {
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.UNIMPLEMENTED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DATA_LOSS,
    }
)

_tracer = trace.get_tracer("cloudflow.gateway")


def exporter_from_environment() -> str:
    """The exporter named by the standard ``OTEL_TRACES_EXPORTER`` variable (default none)."""
    return os.environ.get("OTEL_TRACES_EXPORTER", "none").strip().lower() or "none"


def configure_tracing(exporter: str) -> TracerProvider | None:
    """Install the SDK's tracer provider with ``exporter``; None (nothing done) for ``none``.

    Raises ValueError for an unknown exporter, or ``otlp`` without its package installed.
    """
    if exporter == "none":
        return None
    span_exporter = _span_exporter(exporter)
    # Resource.create also honours OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES.
    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE_NAME}))
    provider.add_span_processor(BatchSpanProcessor(span_exporter))
    trace.set_tracer_provider(provider)
    return provider


def _span_exporter(exporter: str) -> SpanExporter:
    if exporter == "console":
        return ConsoleSpanExporter()
    if exporter == "otlp":
        try:
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (  # type: ignore[import-not-found]
                OTLPSpanExporter,
            )
        except ImportError:
            raise ValueError(
                "the otlp trace exporter needs the opentelemetry-exporter-otlp package: "
                "pip install opentelemetry-exporter-otlp"
            ) from None
        otlp: SpanExporter = OTLPSpanExporter()
        return otlp
    raise ValueError(f"unknown trace exporter {exporter!r}; use one of {', '.join(EXPORTERS)}")


Behavior = Callable[[Any, grpc.aio.ServicerContext], Awaitable[Any]]


class TracingInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Opens a SERVER span around each unary call of the CloudFlow API."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        method: str = details.method
        if handler is None or handler.unary_unary is None or not method.startswith(TRACED_PREFIX):
            return handler
        carrier = {
            key: value
            for key, value in (details.invocation_metadata or ())
            if isinstance(value, str)  # binary (-bin) metadata cannot hold trace context
        }
        return grpc.unary_unary_rpc_method_handler(
            _traced(handler.unary_unary, method, carrier),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


def _traced(behavior: Behavior, method: str, carrier: dict[str, str]) -> Behavior:
    service, _, name = method.lstrip("/").partition("/")
    attributes = {"rpc.system": "grpc", "rpc.service": service, "rpc.method": name}

    async def traced(request: Any, context: grpc.aio.ServicerContext) -> Any:
        with _tracer.start_as_current_span(
            method.lstrip("/"),
            context=extract(carrier),
            kind=SpanKind.SERVER,
            attributes=attributes,
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                return await behavior(request, context)
            finally:
                _record_status(span, context)

    return traced


def _record_status(span: trace.Span, context: grpc.aio.ServicerContext) -> None:
    code = context.code() or grpc.StatusCode.OK
    if isinstance(code, int):  # some grpcio versions report the numeric value
        code = next((c for c in grpc.StatusCode if c.value[0] == code), grpc.StatusCode.UNKNOWN)
    span.set_attribute("rpc.grpc.status_code", code.value[0])
    if code in _SERVER_ERRORS:
        span.set_status(Status(StatusCode.ERROR, str(context.details() or code.name)))
