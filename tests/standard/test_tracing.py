"""Trace context of the starting call reaches a Standard execution's tasks, even after a restart."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gateway.integrations import FunctionInvoker, FunctionRegistry, IntegrationRouter
from shared.ports import TaskRequest
from shared.results import ExecutionStatus
from standard_engine import StandardEngine
from tests.tracing_support import memory_spans

FLOW = """
Type: StateMachine
Name: traced
SpecVersion: v1
StartAt: Call
States:
  - Type: Task
    Name: Call
    Action: FC:InvokeFunction
    Parameters:
      functionName: probe
    End: true
"""


@pytest.fixture(scope="module")
def spans() -> Iterator[InMemorySpanExporter]:
    with memory_spans() as memory:
        yield memory


class Recorder:
    """Wraps the router to see the headers each task request carries."""

    def __init__(self, router: IntegrationRouter) -> None:
        self.router, self.headers = router, []  # type: ignore[var-annotated]
        self.release = asyncio.Event()

    async def invoke(self, request: TaskRequest) -> object:
        self.headers.append(dict(request.headers))
        await self.release.wait()
        return await self.router.invoke(request)


async def test_task_calls_carry_the_starting_calls_trace_across_a_restart(
    spans: InMemorySpanExporter, tmp_path: Path
) -> None:
    registry = FunctionRegistry()
    registry.register("probe", lambda event: {"ok": True})
    recorder = Recorder(IntegrationRouter(functions=FunctionInvoker(registry)))
    tracer = trace.get_tracer("test")
    engine = await StandardEngine.open(tmp_path / "t.db", recorder)
    with tracer.start_as_current_span("caller") as caller:
        trace_id = caller.get_span_context().trace_id
        await engine.start_execution("traced", 1, FLOW, "e1", "{}")
    while not recorder.headers:
        await asyncio.sleep(0.01)
    await engine.close()  # the task's outcome is lost; it is called again after the restart
    recorder.release.set()
    engine = await StandardEngine.open(tmp_path / "t.db", recorder)
    try:
        info = await engine.describe_execution("traced", "e1", wait_seconds=10)
        assert info.status is ExecutionStatus.SUCCEEDED and json.loads(info.output or "") == {
            "Body": {"ok": True}
        }
    finally:
        await engine.close()
    assert len(recorder.headers) == 2
    for headers in recorder.headers:
        assert headers["traceparent"].split("-")[1] == f"{trace_id:032x}"
    task_spans = [s for s in spans.get_finished_spans() if s.name == "cloudflow.task Call"]
    assert task_spans and all(s.context.trace_id == trace_id for s in task_spans)
    assert task_spans[-1].attributes is not None
    assert task_spans[-1].attributes["cloudflow.execution.name"] == "e1"
