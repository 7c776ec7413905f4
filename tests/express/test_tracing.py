"""OpenTelemetry spans of express executions, recorded by an in-memory exporter.

The global tracer provider can be set only once per process, so this is the only module
of the express tests that installs an SDK provider (or, when another module of the run
already did, adds its exporter to that one), and it takes its provider away again when
it is done, as OpenTelemetry's own tests do. The engine decides per execution whether
tracing is on, so the "off" case is simulated by hiding the provider for one test.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from express_engine import ExpressEngine
from express_engine.tracing import DISABLED, ExecutionTracer, tracing_enabled
from gateway.integrations import FunctionError
from shared.results import ExecutionStatus
from tests.express.doubles import RecordingInvoker, engine_with, express
from tests.tracing_support import memory_spans

FLOW = """
Type: StateMachine
Name: traced
SpecVersion: v1
StartAt: Prepare
States:
  - Type: Pass
    Name: Prepare
    Next: Charge
  - Type: Task
    Name: Charge
    Action: FC:InvokeFunction
    Parameters:
      functionName: charge
      body.$: $Input
    Retry:
      - Errors: [Busy]
        MaxAttempts: 1
        IntervalSeconds: 0
    Next: Route
  - Type: Choice
    Name: Route
    Branches:
      - Condition: $Input.Body.ok == true
        Next: Done
    Default: Broken
  - Type: Succeed
    Name: Done
  - Type: Fail
    Name: Broken
    Code: NotOk
    Detail: the charge was not ok
"""


@pytest.fixture(scope="module")
def exporter() -> Iterator[InMemorySpanExporter]:
    with memory_spans() as memory:
        yield memory


@pytest.fixture
def spans(exporter: InMemorySpanExporter) -> InMemorySpanExporter:
    exporter.clear()
    return exporter


def charge_function(answers: list[Any]) -> Any:
    """A function that plays ``answers`` in order: exceptions are raised, values returned."""

    async def charge(event: Any) -> Any:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return charge


def by_name(finished: tuple[ReadableSpan, ...], name: str) -> list[ReadableSpan]:
    return [span for span in finished if span.name == name]


async def test_an_execution_and_each_state_attempt_get_a_span(spans: InMemorySpanExporter) -> None:
    engine = engine_with({"charge": charge_function([FunctionError("Busy"), {"ok": True}])})

    result = await engine.run(express(FLOW), {"id": 7}, flow_name="payments", execution_name="e-1")

    assert result.status is ExecutionStatus.SUCCEEDED
    finished = spans.get_finished_spans()
    (execution,) = by_name(finished, "cloudflow.execution")
    assert execution.attributes == {
        "cloudflow.flow.name": "payments",
        "cloudflow.execution.name": "e-1",
        "cloudflow.execution.mode": "Express",
        "cloudflow.execution.status": "Succeeded",
    }
    states = [span for span in finished if span is not execution]
    assert [span.name for span in states] == [
        "cloudflow.state Prepare",
        "cloudflow.state Charge",  # the failed first attempt
        "cloudflow.state Charge",  # the retry
        "cloudflow.state Route",
        "cloudflow.state Done",
    ]
    assert execution.context is not None
    for span in states:
        assert span.parent is not None and span.parent.span_id == execution.context.span_id
        assert span.context is not None and span.context.trace_id == execution.context.trace_id
        assert span.attributes is not None
        assert {"cloudflow.state.name", "cloudflow.state.type"} <= set(span.attributes)
    first_try, retry = by_name(finished, "cloudflow.state Charge")
    assert first_try.attributes is not None and retry.attributes is not None
    assert first_try.attributes["cloudflow.state.type"] == "Task"
    assert first_try.attributes["cloudflow.task.action"] == "FC:InvokeFunction"
    assert first_try.attributes["cloudflow.error.code"] == "Busy"
    assert first_try.status.status_code is StatusCode.ERROR
    assert retry.attributes["cloudflow.state.retry_count"] == 1
    assert "cloudflow.error.code" not in retry.attributes
    assert all(key.startswith("cloudflow.") for span in finished for key in span.attributes or {})


async def test_a_failed_execution_span_carries_the_error(spans: InMemorySpanExporter) -> None:
    engine = engine_with({"charge": charge_function([{"ok": False}])})

    result = await engine.run(express(FLOW), {}, execution_name="e-2")

    assert result.status is ExecutionStatus.FAILED
    (execution,) = by_name(spans.get_finished_spans(), "cloudflow.execution")
    assert execution.attributes is not None
    assert execution.attributes["cloudflow.execution.status"] == "Failed"
    assert execution.attributes["cloudflow.error.code"] == "NotOk"
    assert execution.status.status_code is StatusCode.ERROR
    assert execution.status.description == "the charge was not ok"


async def test_synchronous_scopes_get_state_spans_too(spans: InMemorySpanExporter) -> None:
    plan = express("""
Type: StateMachine
Name: sync-map
SpecVersion: v1
StartAt: Each
States:
  - Type: Map
    Name: Each
    ItemsPath: $Input.items
    Processor:
      StartAt: Touch
      States:
        - {Type: Pass, Name: Touch, End: true}
    End: true
""")
    result = await engine_with({}).run(plan, {"items": [1, 2, 3]})

    assert result.output == {"Items": [1, 2, 3]}
    names = sorted(span.name for span in spans.get_finished_spans())
    assert names == ["cloudflow.execution", "cloudflow.state Each"] + ["cloudflow.state Touch"] * 3


async def test_tasks_receive_the_trace_context_of_their_state(spans: InMemorySpanExporter) -> None:
    invoker = RecordingInvoker(lambda request: {"Body": {"ok": True}})

    result = await ExpressEngine(invoker).run(express(FLOW), {})

    assert result.status is ExecutionStatus.SUCCEEDED
    (request,) = invoker.requests
    (charge,) = by_name(spans.get_finished_spans(), "cloudflow.state Charge")
    assert charge.context is not None
    version, trace_id, span_id, _flags = request.headers["traceparent"].split("-")
    assert version == "00"
    assert int(trace_id, 16) == charge.context.trace_id
    assert int(span_id, 16) == charge.context.span_id


async def test_nothing_is_recorded_without_an_sdk_provider(
    spans: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert tracing_enabled()
    # What the API holds before any provider is set: the engine must then record nothing.
    monkeypatch.setattr(trace, "_TRACER_PROVIDER", None)
    assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)
    assert not tracing_enabled()

    assert ExecutionTracer.start("flow", "execution", "Express") is DISABLED

    def no_spans(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a state span was started while tracing is off")

    monkeypatch.setattr(ExecutionTracer, "state_started", no_spans)
    invoker = RecordingInvoker(lambda request: {"Body": {"ok": True}})

    result = await ExpressEngine(invoker).run(express(FLOW), {})

    assert result.status is ExecutionStatus.SUCCEEDED
    assert spans.get_finished_spans() == ()
    (request,) = invoker.requests
    assert dict(request.headers) == {}

    # The engine asks per execution: with the provider back, the next one is traced.
    monkeypatch.undo()
    await ExpressEngine(invoker).run(express(FLOW), {})
    assert len(by_name(spans.get_finished_spans(), "cloudflow.execution")) == 1
