"""Trace context for Standard executions.

A Standard execution outlives the call that started it (by up to a year, across restarts),
so it does not keep a span open. Instead the caller's W3C trace context is stored with the
execution, and each task call gets a ``cloudflow.task`` span under it; the task span's
context is what HTTP tasks (``traceparent`` header) and workers (invocation metadata)
receive. Only the OpenTelemetry API is used; with no SDK installed nothing is recorded.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Final

from opentelemetry import trace
from opentelemetry.propagate import extract, inject
from opentelemetry.trace import Status, StatusCode

__all__ = ["capture", "task_span"]

_tracer: Final = trace.get_tracer("cloudflow.standard_engine")


def _enabled() -> bool:
    return not isinstance(
        trace.get_tracer_provider(), trace.ProxyTracerProvider | trace.NoOpTracerProvider
    )


def capture() -> str | None:
    """The current trace context as JSON text to store with a new execution (None: no tracing)."""
    if not _enabled():
        return None
    carrier: dict[str, str] = {}
    inject(carrier)
    return json.dumps(carrier) if carrier else None


@contextmanager
def task_span(
    stored: str | None, execution: str, flow: str, state: str, action: str
) -> Iterator[tuple[Mapping[str, str], list[str | None]]]:
    """A span for one task call, child of the execution's stored context.

    Yields the headers to pass to the task, and a one-slot list the caller sets to an
    error code when the call fails.
    """
    if stored is None or not _enabled():
        yield {}, [None]
        return
    parent = extract(json.loads(stored))
    attributes = {
        "cloudflow.flow.name": flow,
        "cloudflow.execution.name": execution,
        "cloudflow.state.name": state,
        "cloudflow.task.action": action,
    }
    with _tracer.start_as_current_span(
        f"cloudflow.task {state}", context=parent, attributes=attributes
    ) as span:
        headers: dict[str, str] = {}
        inject(headers)
        outcome: list[str | None] = [None]
        yield headers, outcome
        if outcome[0] is not None:
            span.set_attribute("cloudflow.error.code", outcome[0])
            span.set_status(Status(StatusCode.ERROR, outcome[0]))
