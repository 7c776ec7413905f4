"""Test doubles for the express engine: instrumented functions, a recording invoker."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from express_engine import Clock, ExpressEngine
from gateway.integrations import FunctionInvoker, FunctionRegistry, IntegrationRouter
from shared.compiler import compile_flow
from shared.plan import ExecutionMode, FlowPlan
from shared.ports import TaskRequest


def express(definition: str) -> FlowPlan:
    """Compile an Express flow (raises InvalidDefinition)."""
    return compile_flow(definition, ExecutionMode.EXPRESS)


def engine_with(
    functions: dict[str, Callable[[Any], Any]], *, clock: Clock | None = None, **options: Any
) -> ExpressEngine:
    """An engine whose ``FC:InvokeFunction`` tasks call ``functions`` in-process."""
    registry = FunctionRegistry()
    for name, fn in functions.items():
        registry.register(name, fn)
    return ExpressEngine(
        IntegrationRouter(functions=FunctionInvoker(registry)), clock=clock, **options
    )


def task_flow(function: str, *, extra: str = "", flow_extra: str = "") -> str:
    """A flow of one Task calling ``function`` with the execution input as its body."""
    return f"""
Type: StateMachine
Name: one-task
SpecVersion: v1
{flow_extra}
StartAt: Call
States:
  - Type: Task
    Name: Call
    Action: FC:InvokeFunction
    Parameters:
      functionName: {function}
      body.$: $Input
{extra}
    End: true
"""


class ConcurrencyProbe:
    """An async function that counts how many of its calls are in progress at once."""

    def __init__(self, ticks: int = 5) -> None:
        self.ticks = ticks
        self.active = 0
        self.peak = 0
        self.calls = 0

    async def __call__(self, event: Any) -> Any:
        self.calls += 1
        self.active += 1
        self.peak = max(self.peak, self.active)
        try:
            # Stay in progress for a few turns of the loop so the others can start.
            for _ in range(self.ticks):
                await asyncio.sleep(0)
            return event
        finally:
            self.active -= 1


class Blocker:
    """An async function that waits on an event, recording how each call ended."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.started = 0
        self.completed = 0
        self.cancelled = 0
        self.entered = asyncio.Event()

    async def __call__(self, event: Any) -> Any:
        self.started += 1
        self.entered.set()
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        self.completed += 1
        return event


class RecordingInvoker:
    """A TaskInvoker that records every request and answers with ``answer(request)``."""

    def __init__(self, answer: Callable[[TaskRequest], Any] = lambda request: {"ok": True}) -> None:
        self.answer = answer
        self.requests: list[TaskRequest] = []

    async def invoke(self, request: TaskRequest) -> Any:
        self.requests.append(request)
        return self.answer(request)
