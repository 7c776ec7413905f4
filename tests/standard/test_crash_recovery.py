"""Crash tests with real processes: SIGKILL the engine at random moments, restart it, and
check that every execution still ends with the right output and a complete history."""

from __future__ import annotations

import collections
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.standard.crash_child import expected_output, plan

COUNT = 200
KILLS = 4
REPO = Path(__file__).resolve().parents[2]


def _start(db: Path, calls: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.standard.crash_child", str(db), str(calls), str(COUNT)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_sigkill_at_random_moments_loses_nothing(tmp_path: Path) -> None:
    db, calls = tmp_path / "crash.db", tmp_path / "calls.log"
    rng = random.Random(os.environ.get("CRASH_SEED", "cloudflow"))
    for _ in range(KILLS):
        child = _start(db, calls)
        time.sleep(rng.uniform(0.4, 1.6))
        child.send_signal(signal.SIGKILL)
        child.wait()
        assert child.returncode == -signal.SIGKILL, "the child finished before it could be killed"
    child = _start(db, calls)
    _, stderr = child.communicate(timeout=180)
    assert child.returncode == 0, stderr.decode()[-3000:]

    connection = sqlite3.connect(db)
    rows = {
        name: (flow, status, output)
        for flow, name, status, output in connection.execute(
            "SELECT flow_name, name, status, output FROM executions"
        )
    }
    assert len(rows) == COUNT
    for kind, name, value in plan(COUNT):
        flow, status, output = rows[name]
        assert (flow, status) == (kind, "Succeeded"), name
        result = json.loads(output)
        if kind == "retrier":
            assert 1 <= result.pop("tries") <= KILLS + 1, name
        assert result == expected_output(kind, value), name

    for (execution_id,) in connection.execute("SELECT id FROM executions"):
        events = connection.execute(
            "SELECT event_id, type FROM events WHERE execution_id = ? ORDER BY event_id",
            (execution_id,),
        ).fetchall()
        ids = [e[0] for e in events]
        types = [e[1] for e in events]
        assert ids == list(range(1, len(ids) + 1)), f"execution {execution_id}: gaps in {ids}"
        assert types[0] == "ExecutionStarted" and types.count("ExecutionStarted") == 1
        assert types[-1] == "ExecutionSucceeded" and types.count("ExecutionSucceeded") == 1
    assert connection.execute("SELECT COUNT(*) FROM frames").fetchone()[0] == 0

    made = collections.Counter(
        line.split()[0] for line in calls.read_text().splitlines() if line.strip()
    )
    needed = sum(5 if kind == "mapper" else 1 for kind, _, _ in plan(COUNT) if kind != "retrier")
    repeated = made["double"] - needed
    print(
        f"\n{KILLS} SIGKILLs: {made['double']} calls of 'double' for {needed} needed ({repeated} repeated after crashes)"
    )
    assert repeated >= 0
