"""OpenTelemetry spans for express executions: one per execution, one per state.

Only the OpenTelemetry API is used; the gateway configures the SDK. When no SDK tracer
provider is installed the engine skips span work entirely, so tracing costs nothing
when it is off.
"""

from __future__ import annotations

from typing import Any

from opentelemetry import trace
from opentelemetry.propagate import inject
from opentelemetry.trace import Span, Status, StatusCode

from shared.errors import FlowError
from shared.results import ExecutionResult, ExecutionStatus

__all__ = ["ExecutionTracer", "tracing_enabled"]

_tracer = trace.get_tracer("cloudflow.express_engine")


def tracing_enabled() -> bool:
    """True when an SDK tracer provider is installed (the default provider records nothing)."""
    provider = trace.get_tracer_provider()
    return not isinstance(provider, trace.ProxyTracerProvider | trace.NoOpTracerProvider)


class ExecutionTracer:
    """The spans of one execution (or nothing at all when tracing is off)."""

    __slots__ = ("_context", "_span", "enabled")

    def __init__(self, span: Span | None) -> None:
        self._span = span
        self.enabled = span is not None
        self._context = trace.set_span_in_context(span) if span is not None else None

    @classmethod
    def start(cls, flow_name: str, execution_name: str, mode: str) -> ExecutionTracer:
        if not tracing_enabled():
            return _DISABLED
        span = _tracer.start_span(
            "cloudflow.execution",
            attributes={
                "cloudflow.flow.name": flow_name,
                "cloudflow.execution.name": execution_name,
                "cloudflow.execution.mode": mode,
            },
        )
        return cls(span)

    def state_started(self, state: Any) -> Span:
        attributes = {"cloudflow.state.name": state.name, "cloudflow.state.type": state.type_name}
        action = getattr(state, "action", None)
        if action:
            attributes["cloudflow.task.action"] = action
        return _tracer.start_span(f"cloudflow.state {state.name}", context=self._context, attributes=attributes)

    def state_ended(self, span: Span, error: FlowError | None) -> None:
        if error is not None:
            span.set_attribute("cloudflow.error.code", error.code)
            span.set_status(Status(StatusCode.ERROR, error.cause))
        span.end()

    def propagation_headers(self) -> dict[str, str]:
        """W3C trace-context headers to pass on to a task (empty when tracing is off)."""
        if self._context is None:
            return {}
        headers: dict[str, str] = {}
        inject(headers, context=self._context)
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


_DISABLED = ExecutionTracer(None)
