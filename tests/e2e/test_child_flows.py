"""FNF:StartExecution through ``cloudflow serve``: Standard and Express children, in each task mode."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.client import CloudFlowClient
from shared.plan import ExecutionMode
from shared.results import ExecutionStatus

REPO = Path(__file__).resolve().parents[2]

CHILD = """
Type: StateMachine
Name: child
SpecVersion: v1
StartAt: Check
States:
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


def parent(mode: str, child: str) -> str:
    return f"""
Type: StateMachine
Name: parent
SpecVersion: v1
StartAt: Child
States:
  - Type: Task
    Name: Child
    Action: FNF:StartExecution
    TaskMode: {mode}
    Parameters:
      flowName: {child}
      input:
        n.$: $Input.n
    Catch:
      - Errors: [Negative]
        Next: Rejected
    End: true
  - Type: Pass
    Name: Rejected
    End: true
"""


@pytest.fixture
def address(tmp_path: Path) -> Iterator[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("CLOUDFLOW_TOKEN", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "serve", "--port", "0", "--no-console", "--db", str(tmp_path / "cf.db")],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        yield server.stdout.readline().split()[-1]
    finally:
        server.terminate()
        server.wait(30)


async def finished(client: CloudFlowClient, flow: str, name: str):  # type: ignore[no-untyped-def]
    info = await client.describe_execution(flow, name, wait_seconds=20)
    while info.status is ExecutionStatus.RUNNING:
        info = await client.describe_execution(flow, name, wait_seconds=20)
    return info


async def test_child_flows_in_every_mode(address: str) -> None:
    async with CloudFlowClient(address, timeout=30) as client:
        await client.create_flow("child", CHILD, mode=ExecutionMode.STANDARD)
        await client.create_flow("quick-child", CHILD, mode=ExecutionMode.EXPRESS)
        await client.create_flow(
            "waits", parent("WaitForSystemCallback", "child"), mode=ExecutionMode.STANDARD
        )
        await client.create_flow(
            "fires", parent("RequestComplete", "child"), mode=ExecutionMode.STANDARD
        )
        await client.create_flow(
            "quick", parent("WaitForSystemCallback", "quick-child"), mode=ExecutionMode.STANDARD
        )
        await client.create_flow(
            "sync", parent("RequestComplete", "quick-child"), mode=ExecutionMode.EXPRESS
        )

        # WaitForSystemCallback, Standard child: the child's output, or its error for Catch.
        await client.start_execution("waits", {"n": 7}, name="w7")
        await client.start_execution("waits", {"n": -1}, name="wneg")
        ok, caught = await finished(client, "waits", "w7"), await finished(client, "waits", "wneg")
        assert json.loads(ok.output) == {"square": 49}
        assert json.loads(caught.output) == {"Code": "Negative", "Detail": "n must not be negative"}

        # RequestComplete, Standard child: done once the child started; the child runs on.
        await client.start_execution("fires", {"n": 3}, name="f3")
        started = json.loads((await finished(client, "fires", "f3")).output)
        assert started["FlowName"] == "child"
        child = await finished(client, "child", started["ExecutionName"])
        assert json.loads(child.output) == {"square": 9}

        # WaitForSystemCallback, Express child: its result, reported to the Standard parent.
        await client.start_execution("quick", {"n": 5}, name="q5")
        assert json.loads((await finished(client, "quick", "q5")).output) == {"square": 25}

        # An Express parent with a RequestComplete child.
        result = await client.start_sync_execution("sync", {"n": 2})
        assert (
            result.status is ExecutionStatus.SUCCEEDED
            and result.output["FlowName"] == "quick-child"
        )

        # A child flow that does not exist fails the task with a named error.
        await client.create_flow(
            "lost", parent("WaitForSystemCallback", "nowhere"), mode=ExecutionMode.STANDARD
        )
        await client.start_execution("lost", {"n": 1}, name="l1")
        lost = await finished(client, "lost", "l1")
        assert (lost.status, lost.error_code) == (ExecutionStatus.FAILED, "FNF.FlowNotFound")
