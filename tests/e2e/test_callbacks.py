"""Callbacks end to end: a real server process, a real worker process, reports over gRPC.

* The server is SIGKILLed while 100 executions wait, half for system callbacks (a worker's
  long job) and half for custom callbacks (a report with a task token); after a restart
  every one finishes and every token is still valid.
* Duplicate, late and forged reports are refused with the right status and change nothing.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from gateway.client import CloudFlowClient, CloudFlowError
from shared.plan import ExecutionMode
from shared.results import ExecutionStatus

REPO = Path(__file__).resolve().parents[2]

SYSTEM = """
Type: StateMachine
Name: system
SpecVersion: v1
StartAt: Job
States:
  - Type: Task
    Name: Job
    Action: FC:InvokeFunction
    TaskMode: WaitForSystemCallback
    Timeout: 120
    Parameters:
      functionName: submit
      body:
        id.$: $Input.id
        seconds.$: $Input.seconds
    OutputConstructor:
      result.$: $Output.Body.done
    End: true
"""

CUSTOM = """
Type: StateMachine
Name: custom
SpecVersion: v1
StartAt: Ask
States:
  - Type: Task
    Name: Ask
    Action: FC:InvokeFunction
    TaskMode: WaitForCustomCallback
    Timeout: 120
    Parameters:
      functionName: notify
      body:
        id.$: $Input.id
        token.$: $Context.Current.TaskToken
    OutputConstructor:
      id.$: $Input.id
      answer.$: $Output.answer
    End: true
"""


class Processes:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.db = directory / "cf.db"
        self.tokens = directory / "tokens.txt"
        self.tokens.touch()
        self.env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.env.pop("CLOUDFLOW_TOKEN", None)
        self.server: subprocess.Popen[str] | None = None
        self.worker: subprocess.Popen[str] | None = None
        self.port = 0

    def start_server(self) -> str:
        self.server = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli", "serve", "--port", str(self.port), "--no-console", "--db", str(self.db)],
            cwd=REPO, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        assert self.server.stdout is not None
        address = self.server.stdout.readline().split()[-1]
        self.port = int(
            address.rsplit(":", 1)[1]
        )  # restart on the same port: the worker reconnects
        return address

    def start_worker(self, address: str) -> None:
        self.worker = subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.callback_worker", address, str(self.tokens)],
            cwd=REPO, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        assert self.worker.stdout is not None
        assert self.worker.stdout.readline().strip() == "connected"

    def tokens_by_id(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for line in self.tokens.read_text().splitlines():
            ident, token = line.split()
            found.setdefault(ident, token)
            assert found[ident] == token  # a re-delivered notification carries the same token
        return found

    def stop(self) -> None:
        for process in (self.worker, self.server):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    p = Processes(tmp_path)
    yield p
    p.stop()


async def wait_until(condition, seconds: float = 30) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(seconds):
        while not condition():
            await asyncio.sleep(0.05)


async def test_a_killed_server_resumes_100_executions_waiting_for_callbacks(
    processes: Processes,
) -> None:
    address = processes.start_server()
    processes.start_worker(address)
    async with CloudFlowClient(address, timeout=30) as client:
        await client.create_flow("system", SYSTEM, mode=ExecutionMode.STANDARD)
        await client.create_flow("custom", CUSTOM, mode=ExecutionMode.STANDARD)
        for i in range(50):
            await client.start_execution("system", {"id": f"s{i}", "seconds": 3}, name=f"s{i}")
            await client.start_execution("custom", {"id": f"c{i}"}, name=f"c{i}")
        await wait_until(lambda: len(processes.tokens_by_id()) == 50)
    assert processes.server is not None
    processes.server.send_signal(signal.SIGKILL)
    processes.server.wait()

    address = processes.start_server()  # the worker reconnects by itself
    async with CloudFlowClient(address, timeout=30) as client:
        tokens = processes.tokens_by_id()
        for ident, token in tokens.items():
            await client.report_task_succeeded(token, {"answer": f"yes-{ident}"})
        for i in range(50):
            system = await _finished(client, "system", f"s{i}")
            custom = await _finished(client, "custom", f"c{i}")
            assert system.status is ExecutionStatus.SUCCEEDED, system
            assert system.output == f'{{"result":"s{i}"}}'
            assert custom.status is ExecutionStatus.SUCCEEDED, custom
            assert custom.output == f'{{"id":"c{i}","answer":"yes-c{i}"}}'


async def test_duplicate_late_and_forged_reports_are_refused(processes: Processes) -> None:
    address = processes.start_server()
    processes.start_worker(address)
    async with CloudFlowClient(address, timeout=30) as client:
        await client.create_flow("custom", CUSTOM, mode=ExecutionMode.STANDARD)
        short = CUSTOM.replace("Timeout: 120", "Timeout: 1").replace("Name: custom", "Name: short")
        await client.create_flow("short", short, mode=ExecutionMode.STANDARD)
        await client.start_execution("custom", {"id": "dup"}, name="dup")
        await client.start_execution("short", {"id": "late"}, name="late")
        await wait_until(lambda: {"dup", "late"} <= processes.tokens_by_id().keys())
        tokens = processes.tokens_by_id()

        await client.report_task_succeeded(tokens["dup"], {"answer": "first"})
        with pytest.raises(CloudFlowError) as duplicate:
            await client.report_task_failed(tokens["dup"], "Second", "too late")
        assert duplicate.value.status == grpc.StatusCode.FAILED_PRECONDITION
        done = await _finished(client, "custom", "dup")
        assert done.output == '{"id":"dup","answer":"first"}'

        timed_out = await _finished(client, "short", "late")
        assert (timed_out.status, timed_out.error_code) == (ExecutionStatus.FAILED, "FnF.Timeout")
        with pytest.raises(CloudFlowError) as late:
            await client.report_task_succeeded(tokens["late"], {"answer": "late"})
        assert late.value.status == grpc.StatusCode.FAILED_PRECONDITION

        forged = tokens["dup"][:-6] + "AAAAAA"
        with pytest.raises(CloudFlowError) as bad:
            await client.report_task_succeeded(forged, {})
        assert bad.value.status == grpc.StatusCode.INVALID_ARGUMENT
        after = await client.describe_execution("custom", "dup")
        assert after.output == done.output and after.stopped_at == done.stopped_at


async def _finished(client: CloudFlowClient, flow: str, name: str):  # type: ignore[no-untyped-def]
    info = await client.describe_execution(flow, name, wait_seconds=30)
    while info.status is ExecutionStatus.RUNNING:
        info = await client.describe_execution(flow, name, wait_seconds=30)
    return info
