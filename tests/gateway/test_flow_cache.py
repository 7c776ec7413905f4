"""The flow cache survives writes to other tables of the same file (the standard engine's)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from gateway.flows import FlowStore
from shared.plan import ExecutionMode
from tests.gateway.conftest import pass_flow


async def test_engine_writes_leave_the_flow_cache_alone_but_flow_writes_refresh_it(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    store = await FlowStore.open(path)
    other = await FlowStore.open(path)  # another server process on the same file
    try:
        await store.create("orders", pass_flow(2), "", ExecutionMode.EXPRESS)
        first = await store.get("orders")
        writer = sqlite3.connect(path, isolation_level=None)
        writer.execute("CREATE TABLE IF NOT EXISTS engine_rows (n INTEGER)")
        writer.execute("INSERT INTO engine_rows VALUES (1)")
        assert store._fresh() and store._cache.get("orders") is first
        await other.update("orders", pass_flow(3), None)
        assert (await store.get("orders")).revision == 2
        writer.close()
    finally:
        await store.close()
        await other.close()
