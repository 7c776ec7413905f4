"""Heartbeats and child flows (FNF:StartExecution in WaitForSystemCallback mode)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from gateway.integrations import FunctionInvoker, FunctionRegistry, IntegrationRouter
from shared.errors import ExecutionNotFound
from shared.ports import TaskRequest
from shared.results import ExecutionStatus
from standard_engine import ManualClock, StandardEngine

HEARTBEAT = """
Type: StateMachine
Name: beat
SpecVersion: v1
StartAt: Work
States:
  - Type: Task
    Name: Work
    Action: FC:InvokeFunction
    Timeout: 1000
    HeartbeatSeconds: 10
    Parameters:
      functionName: long
      body:
        token.$: $Context.Current.TaskToken
    Catch:
      - Errors: [FnF.HeartbeatTimeout]
        Next: Lost
    End: true
  - Type: Pass
    Name: Lost
    End: true
"""

PARENT = """
Type: StateMachine
Name: parent
SpecVersion: v1
StartAt: Child
States:
  - Type: Task
    Name: Child
    Action: FNF:StartExecution
    TaskMode: WaitForSystemCallback
    Parameters:
      flowName: child
      input:
        n.$: $Input.n
    OutputConstructor:
      fromChild.$: $Output
    End: true
"""

CHILD = """
Type: StateMachine
Name: child
SpecVersion: v1
StartAt: Nap
States:
  - Type: Wait
    Name: Nap
    Seconds: 5
    Next: Check
  - Type: Choice
    Name: Check
    Branches:
      - Condition: $Input.n < 0
        Next: Bad
    Default: Square
  - Type: Pass
    Name: Square
    OutputConstructor:
      square.$: $Input.n * $Input.n
    End: true
  - Type: Fail
    Name: Bad
    Code: Negative
    Detail: n must not be negative
"""


class ChildFlows:
    """A minimal FNF:StartExecution integration over the engine itself."""

    def __init__(self) -> None:
        self.engine: StandardEngine | None = None
        self.ready = asyncio.Event()
        self.started = 0

    async def invoke(self, request: TaskRequest) -> Any:
        await self.ready.wait()  # recovery may re-dispatch before open() has returned the engine
        assert self.engine is not None and request.action == "FNF:StartExecution"
        self.started += 1
        name = f"child-{request.execution_name}"
        info = await self.engine.start_execution(
            "child",
            1,
            CHILD,
            name,
            json.dumps(request.parameters["input"]),
            parent_token=request.task_token,
        )
        return {"FlowName": "child", "ExecutionName": info.name}


class Router:
    def __init__(self, functions: IntegrationRouter, children: ChildFlows) -> None:
        self.functions, self.children = functions, children

    async def invoke(self, request: TaskRequest) -> Any:
        if request.action == "FNF:StartExecution":
            return await self.children.invoke(request)
        return await self.functions.invoke(request)


async def open_engine(
    path: Path, clock: ManualClock, registry: FunctionRegistry, children: ChildFlows
) -> StandardEngine:
    router = Router(IntegrationRouter(functions=FunctionInvoker(registry)), children)
    children.ready.clear()
    engine = await StandardEngine.open(path, router, clock=clock)
    children.engine = engine
    children.ready.set()
    return engine


async def settle() -> None:
    for _ in range(30):
        await asyncio.sleep(0)


async def test_heartbeats_keep_a_task_alive_and_silence_fails_it(tmp_path: Path) -> None:
    tokens: list[str] = []
    registry = FunctionRegistry()

    async def long(event: dict[str, str]) -> None:
        tokens.append(event["token"])
        await asyncio.Event().wait()

    registry.register("long", long)
    clock = ManualClock()
    engine = await open_engine(tmp_path / "hb.db", clock, registry, ChildFlows())
    try:
        await engine.start_execution("beat", 1, HEARTBEAT, "b1", "{}")
        while not tokens:
            await asyncio.sleep(0.01)
        for _ in range(3):
            clock.advance(8)
            await settle()
            await engine.report_task_heartbeat(tokens[0])
        assert (await engine.describe_execution("beat", "b1")).status is ExecutionStatus.RUNNING
        clock.advance(11)
        info = await engine.describe_execution("beat", "b1", wait_seconds=5)
        assert info.status is ExecutionStatus.SUCCEEDED
        assert json.loads(info.output or "null") == {
            "Code": "FnF.HeartbeatTimeout",
            "Detail": "state 'Work': no heartbeat for 10 seconds",
        }
    finally:
        await engine.close()


async def test_a_child_flow_completes_its_parent_task_even_across_a_restart(tmp_path: Path) -> None:
    clock, children, path = ManualClock(), ChildFlows(), tmp_path / "child.db"
    engine = await open_engine(path, clock, FunctionRegistry(), children)
    await engine.start_execution("parent", 1, PARENT, "p1", json.dumps({"n": 7}))
    await engine.start_execution("parent", 1, PARENT, "p2", json.dumps({"n": -1}))
    for name in ("child-p1", "child-p2"):  # both children started and committed
        while True:
            try:
                await engine.describe_execution("child", name)
                break
            except ExecutionNotFound:
                await asyncio.sleep(0.01)
    await engine.close()  # the children wait; their parents wait for them
    engine = await open_engine(path, clock, FunctionRegistry(), children)
    try:
        clock.advance(6)
        ok = await engine.describe_execution("parent", "p1", wait_seconds=5)
        bad = await engine.describe_execution("parent", "p2", wait_seconds=5)
        assert ok.status is ExecutionStatus.SUCCEEDED
        assert json.loads(ok.output or "null") == {"fromChild": {"square": 49}}
        assert (bad.status, bad.error_code, bad.error_message) == (
            ExecutionStatus.FAILED,
            "Negative",
            "n must not be negative",
        )
        child = await engine.describe_execution("child", "child-p1")
        assert child.status is ExecutionStatus.SUCCEEDED
    finally:
        await engine.close()
