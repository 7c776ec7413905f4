"""The SQLite store: schema creation, migration of an older file, all-or-nothing batches."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from shared.results import ExecutionStatus
from standard_engine.store import MIGRATIONS, SCHEMA_VERSION, Batch, SchemaTooNew, Store
from tests.standard.conftest import Harness

WAIT_FLOW = """
Type: StateMachine
Name: later
SpecVersion: v1
StartAt: Sleep
States:
  - Type: Wait
    Name: Sleep
    Seconds: 60
    Next: Done
  - Type: Pass
    Name: Done
    End: true
"""


async def test_an_empty_file_gets_the_whole_schema(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "new.db")
    await store.close()
    db = sqlite3.connect(tmp_path / "new.db")
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"meta", "plans", "executions", "events", "frames"} <= tables
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_a_database_of_schema_1_is_migrated_and_its_executions_resume(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.executescript(MIGRATIONS[0])
    old.execute("PRAGMA user_version = 1")
    old.execute("INSERT INTO meta (key, value) VALUES ('token_secret', ?)", (b"0" * 32,))
    old.execute("INSERT INTO plans VALUES ('flow', 1, ?)", (WAIT_FLOW,))
    # A running execution as version 1 wrote it: waiting in state 0 until instant 1000.
    old.execute(
        "INSERT INTO executions (id, flow_name, name, revision, status, input, started_at, deadline, next_event_id, globals) "
        "VALUES (1, 'flow', 'old-run', 1, 'Running', '{\"a\":1}', 0, 1e12, 3, '{}')"
    )
    old.executemany(
        "INSERT INTO events VALUES (1, ?, ?, ?, 0, '{}', 0)",
        [(1, "ExecutionStarted", ""), (2, "StepEntered", "Sleep")],
    )
    frame = {
        "scope": "",
        "state": 0,
        "phase": "wait",
        "data": {"a": 1},
        "input": {"a": 1},
        "retries": [],
        "due": 1000.0,
        "task": None,
        "children": None,
        "parent": None,
        "position": 0,
        "entered": 2,
    }
    old.execute("INSERT INTO frames VALUES (1, '', ?)", (json.dumps(frame),))
    old.commit()
    old.close()

    harness = Harness(path)
    harness.clock.set(2000.0)  # past the stored instant: the timer fires at once
    try:
        await harness.open()
        info = await harness.wait("old-run")
    finally:
        await harness.close()
    assert info.status is ExecutionStatus.SUCCEEDED
    assert json.loads(info.output) == {"a": 1}
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    ids = [
        row[0]
        for row in db.execute(
            "SELECT event_id FROM events WHERE execution_id = 1 ORDER BY event_id"
        )
    ]
    assert ids == list(range(1, len(ids) + 1)) and len(ids) > 3


async def test_a_database_from_a_newer_version_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(SchemaTooNew, match="upgrade CloudFlow"):
        await Store.open(path)
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1


async def test_a_batch_is_all_or_nothing(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "tx.db")
    try:
        row = (
            1,
            "flow",
            "run",
            1,
            "Running",
            "{}",
            None,
            None,
            None,
            0.0,
            None,
            1e9,
            2,
            "{}",
            None,  # parent_token
            None,  # trace_context
            None,  # plan_digest
        )
        good = Batch(new_executions=[row], events=[(1, 1, "ExecutionStarted", "", 0.0, "{}", 0)])
        await store.commit(good)
        # The second event reuses event id 1: the whole batch must roll back.
        bad = Batch(
            events=[
                (1, 2, "StepEntered", "A", 0.0, "{}", 0),
                (1, 1, "Duplicate", "A", 0.0, "{}", 0),
            ],
            frames={(1, ""): "{}"},
            progress={1: 3},
        )
        with pytest.raises(sqlite3.IntegrityError):
            await store.commit(bad)
        assert [e[0] for e in await store.events(1, 0, 10)] == [1]
        assert await store.frames_of(1) == []
        stored = await store.execution("flow", "run")
        assert stored is not None and stored.next_event_id == 2
        # The connection is usable afterwards.
        await store.commit(Batch(events=[(1, 2, "StepEntered", "A", 0.0, "{}", 0)]))
        assert [e[0] for e in await store.events(1, 0, 10)] == [1, 2]
    finally:
        await store.close()


async def test_one_database_has_one_standard_engine(tmp_path: Path) -> None:
    from gateway.integrations import IntegrationRouter
    from standard_engine import StandardEngine
    from standard_engine.engine import EngineLocked

    path = tmp_path / "one.db"
    first = await StandardEngine.open(path, IntegrationRouter())
    try:
        with pytest.raises(EngineLocked, match="another process runs the standard engine"):
            await StandardEngine.open(path, IntegrationRouter())
    finally:
        await first.close()
    second = await StandardEngine.open(path, IntegrationRouter())  # the lock went with the first
    await second.close()
