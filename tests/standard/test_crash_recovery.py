"""Crash tests with real processes: a ``cloudflow serve`` process with 200 running executions
(Waits, Maps, Tasks with retries) is SIGKILLed at random moments and restarted each time;
every execution must end with the right output and a complete, gap-free history."""

from __future__ import annotations

import asyncio
import collections
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from gateway.client import CloudFlowClient, CloudFlowError
from shared.plan import ExecutionMode
from shared.results import ExecutionStatus
from tests.standard.crash_flows import FLOWS, expected_output, plan

COUNT = 200
KILLS = 4
REPO = Path(__file__).resolve().parents[2]


class Server:
    def __init__(self, directory: Path) -> None:
        self.db = directory / "crash.db"
        self.calls = directory / "calls.log"
        self.env = {**os.environ, "PYTHONPATH": str(REPO), "CRASH_CALLS": str(self.calls)}
        self.env.pop("CLOUDFLOW_TOKEN", None)
        self.process: subprocess.Popen[str] | None = None
        self.port = 0

    def start(self) -> str:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli", "serve", "--port", str(self.port), "--no-console", "--db", str(self.db),
             "--functions", "tests.standard.crash_functions"],
            cwd=REPO, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        assert self.process.stdout is not None
        address = self.process.stdout.readline().split()[-1]
        self.port = int(address.rsplit(":", 1)[1])
        return address

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)


async def test_sigkill_at_random_moments_loses_nothing(tmp_path: Path) -> None:
    server = Server(tmp_path)
    rng = random.Random(os.environ.get("CRASH_SEED", "cloudflow"))
    runs = plan(COUNT)
    running_at_kill: list[int] = []
    try:
        address = server.start()
        async with CloudFlowClient(address, timeout=30) as client:
            for kind, definition in FLOWS.items():
                await client.create_flow(kind, definition, mode=ExecutionMode.STANDARD)
            for kind, name, value in runs:
                await client.start_execution(kind, value, name=name)
        for _ in range(KILLS):
            await asyncio.sleep(rng.uniform(0.2, 1.0))
            server.kill()
            with sqlite3.connect(server.db) as db:
                running_at_kill.append(
                    db.execute(
                        "SELECT COUNT(*) FROM executions WHERE status = 'Running'"
                    ).fetchone()[0]
                )
            server.start()
        assert running_at_kill[0] > 0, "the first SIGKILL came after every execution had finished"
        async with CloudFlowClient(address, timeout=60) as client:
            for kind, name, _ in runs:
                info = await client.describe_execution(kind, name, wait_seconds=30)
                while info.status is ExecutionStatus.RUNNING:
                    info = await client.describe_execution(kind, name, wait_seconds=30)
    except CloudFlowError as exc:  # pragma: no cover - a clearer failure than a traceback
        raise AssertionError(f"the server refused a call: {exc}") from exc
    finally:
        server.stop()

    connection = sqlite3.connect(server.db)
    rows = {
        name: (flow, status, output)
        for flow, name, status, output in connection.execute(
            "SELECT flow_name, name, status, output FROM executions"
        )
    }
    assert len(rows) == COUNT
    for kind, name, value in runs:
        flow, status, output = rows[name]
        assert (flow, status) == (kind, "Succeeded"), name
        result = json.loads(output)
        if kind == "retrier":
            assert 1 <= result.pop("tries") <= KILLS + 1, name
        assert result == expected_output(kind, value), name

    for (execution_id,) in connection.execute("SELECT id FROM executions"):
        types = [
            row[1]
            for row in connection.execute(
                "SELECT event_id, type FROM events WHERE execution_id = ? ORDER BY event_id",
                (execution_id,),
            )
        ]
        ids = [
            row[0]
            for row in connection.execute(
                "SELECT event_id FROM events WHERE execution_id = ? ORDER BY event_id",
                (execution_id,),
            )
        ]
        assert ids == list(range(1, len(ids) + 1)), f"execution {execution_id}: gaps in {ids}"
        assert types[0] == "ExecutionStarted" and types.count("ExecutionStarted") == 1
        assert types[-1] == "ExecutionSucceeded" and types.count("ExecutionSucceeded") == 1
    assert connection.execute("SELECT COUNT(*) FROM frames").fetchone()[0] == 0

    made = collections.Counter(
        line.split()[0] for line in server.calls.read_text().splitlines() if line.strip()
    )
    needed = sum(5 if kind == "mapper" else 1 for kind, _, _ in runs if kind != "retrier")
    repeated = made["double"] - needed
    print(f"\nrunning executions at each SIGKILL: {running_at_kill}")
    print(
        f"{KILLS} SIGKILLs: {made['double']} calls of 'double' for {needed} needed ({repeated} repeated after crashes)"
    )
    assert repeated >= 0
