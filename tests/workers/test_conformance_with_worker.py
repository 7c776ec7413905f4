"""Conformance over the real stack: every case through ``cloudflow serve`` over gRPC, on both
engines, with its functions served by a real worker process connected over TaskWorker."""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.client import CloudFlowClient
from shared.plan import ExecutionMode
from shared.results import ExecutionStatus
from tests.conformance.cases import Case, load_cases
from tests.conformance.test_express_cases import check_result

REPO = Path(__file__).resolve().parents[2]
CASES = [(case, mode) for case in load_cases() if case.runs for mode in case.modes]
RUN_IDS = itertools.count(1)


class Stack:
    def __init__(self, address: str, script: Path, calls: Path) -> None:
        self.address, self.script, self.calls = address, script, calls

    def calls_of(self, run: int) -> dict[str, int]:
        counted: Counter[str] = Counter()
        for line in self.calls.read_text().splitlines():
            run_id, name = line.split()
            if int(run_id) == run:
                counted[name] += 1
        return dict(counted)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    directory = tmp_path_factory.mktemp("stack")
    script, calls = directory / "script.json", directory / "calls.log"
    script.write_text(json.dumps({"run": 0, "functions": {}}))
    calls.touch()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("CLOUDFLOW_TOKEN", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "serve", "--port", "0", "--no-console", "--db", str(directory / "cf.db")],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    worker = None
    try:
        assert server.stdout is not None
        address = server.stdout.readline().split()[-1]
        worker = subprocess.Popen(
            [sys.executable, "-m", "tests.workers.scripted_worker", address, str(script), str(calls)],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == "connected"
        yield Stack(address, script, calls)
    finally:
        for process in (worker, server):
            if process is not None:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()


@pytest.mark.parametrize(("case", "mode"), CASES, ids=[f"{c.id}[{m}]" for c, m in CASES])
async def test_case_through_server_and_worker(stack: Stack, case: Case, mode: str) -> None:
    flow = re.sub(r"[^A-Za-z0-9_-]", "-", f"{case.id}-{mode}")
    async with CloudFlowClient(stack.address, timeout=60) as client:
        execution_mode = ExecutionMode.EXPRESS if mode == "express" else ExecutionMode.STANDARD
        await client.create_flow(flow, case.definition, mode=execution_mode)
        for index, run in enumerate(case.runs):
            run_id = next(RUN_IDS)
            stack.script.write_text(json.dumps({"run": run_id, "functions": case.functions}))
            summary = await _execute(client, flow, mode, index, run.input)
            check_result(case, index, summary, stack.calls_of(run_id), run.calls)


async def _execute(
    client: CloudFlowClient, flow: str, mode: str, index: int, value: Any
) -> dict[str, Any]:
    if mode == "express":
        result = await client.start_sync_execution(flow, value)
        return result.summary()
    started = await client.start_execution(flow, value, name=f"run-{index}")
    info = started
    while info.status is ExecutionStatus.RUNNING:
        info = await client.describe_execution(flow, started.name, wait_seconds=20)
    return {
        "Status": info.status.value,
        "Output": json.loads(info.output) if info.output is not None else None,
        "ErrorCode": info.error_code,
        "ErrorMessage": info.error_message,
    }
