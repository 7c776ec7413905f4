"""OpenTelemetry spans for express executions: one per execution, one per state.

Only the OpenTelemetry API is used; the gateway configures the SDK. When no SDK tracer
provider is installed the engine skips span work entirely (and runs its faster inline
path), so tracing costs nothing when it is off.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from opentelemetry import trace
from opentelemetry.environment_variables import OTEL_PYTHON_TRACER_PROVIDER
from opentelemetry.propagate import inject
from opentelemetry.trace import Span, Status, StatusCode, Tracer

from shared.errors import FlowError
from shared.results import ExecutionResult, ExecutionStatus

__all__ = ["DISABLED", "ExecutionTracer", "current_tracer", "tracing_enabled"]

INSTRUMENTATION_NAME: Final = "cloudflow.express_engine"

_NO_HEADERS: Final[Mapping[str, str]] = MappingProxyType({})

# ``trace.get_tracer_provider()`` looks the OTEL_PYTHON_TRACER_PROVIDER variable up in
# os.environ on every call until a provider is set: about a microsecond, paid by every
# execution while tracing is off. The provider can be set only once per process, so the
# engine reads the API's own global directly and calls the public function only when
# that global is missing (a future API version) or the environment names a provider.
_GLOBAL_PROVIDER_NAME: Final = "_TRACER_PROVIDER"
_READ_GLOBAL: Final = (
    hasattr(trace, _GLOBAL_PROVIDER_NAME) and OTEL_PYTHON_TRACER_PROVIDER not in os.environ
)


def current_tracer() -> Tracer | None:
    """The engine's tracer from the installed SDK provider; None when there is none (the
    API's default provider records nothing)."""
    if _READ_GLOBAL:
        provider = getattr(trace, _GLOBAL_PROVIDER_NAME)
        if provider is None:
            return None
    else:
        provider = trace.get_tracer_provider()
    cache = _cache
    if provider is not cache.provider:
        # Keyed by the provider itself, so a provider installed later is picked up at once.
        cache.provider = provider
        cache.tracer = (
            None
            if isinstance(provider, trace.ProxyTracerProvider | trace.NoOpTracerProvider)
            else provider.get_tracer(INSTRUMENTATION_NAME)
        )
    return cache.tracer


class _TracerCache:
    """The engine's tracer of the provider seen last."""

    __slots__ = ("provider", "tracer")

    def __init__(self) -> None:
        self.provider: object = None
        self.tracer: Tracer | None = None


_cache = _TracerCache()


def tracing_enabled() -> bool:
    """True when an SDK tracer provider is installed (the default provider records nothing)."""
    return current_tracer() is not None


class ExecutionTracer:
    """The spans of one execution (or nothing at all when tracing is off)."""

    __slots__ = ("_context", "_span", "_tracer", "enabled")

    def __init__(self, tracer: Tracer | None, span: Span | None) -> None:
        self._tracer = tracer
        self._span = span
        self.enabled = span is not None
        self._context = trace.set_span_in_context(span) if span is not None else None

    @classmethod
    def start(cls, flow_name: str, execution_name: str, mode: str) -> ExecutionTracer:
        """The execution's span, started now; a shared no-op tracer when tracing is off."""
        tracer = current_tracer()
        if tracer is None:
            return DISABLED
        span = tracer.start_span(
            "cloudflow.execution",
            attributes={
                "cloudflow.flow.name": flow_name,
                "cloudflow.execution.name": execution_name,
                "cloudflow.execution.mode": mode,
            },
        )
        return cls(tracer, span)

    def state_started(self, state: Any, retry_count: int) -> Span:
        """A span for one attempt of one state, a child of the execution's span."""
        attributes: dict[str, str | int] = {
            "cloudflow.state.name": state.name,
            "cloudflow.state.type": state.type_name,
        }
        if retry_count:
            attributes["cloudflow.state.retry_count"] = retry_count
        action = getattr(state, "action", None)
        if action:
            attributes["cloudflow.task.action"] = action
        assert self._tracer is not None, "state spans are started only while tracing"
        return self._tracer.start_span(
            f"cloudflow.state {state.name}", context=self._context, attributes=attributes
        )

    def state_ended(self, span: Span, error: FlowError | None) -> None:
        if error is not None:
            span.set_attribute("cloudflow.error.code", error.code)
            span.set_status(Status(StatusCode.ERROR, error.cause))
        span.end()

    def propagation_headers(self, span: Span | None) -> Mapping[str, str]:
        """W3C trace-context headers naming ``span`` (or the execution) as a task's parent.

        Empty when tracing is off.
        """
        if self._context is None:
            return _NO_HEADERS
        context = trace.set_span_in_context(span) if span is not None else self._context
        headers: dict[str, str] = {}
        inject(headers, context=context)
        return headers

    def end(self, result: ExecutionResult) -> None:
        span = self._span
        if span is None:
            return
        span.set_attribute("cloudflow.execution.status", result.status.value)
        if result.error is not None:
            span.set_attribute("cloudflow.error.code", result.error.code)
        if result.status is not ExecutionStatus.SUCCEEDED:
            span.set_status(Status(StatusCode.ERROR, result.error.cause if result.error else ""))
        span.end()


DISABLED: Final = ExecutionTracer(None, None)
"""The tracer of every execution while tracing is off: it holds no span."""
