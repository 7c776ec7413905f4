"""SQLite storage of Standard executions: the source of truth (DESIGN.md §4).

One writer connection commits a :class:`Batch` per engine tick in one transaction
(group commit): the writes of many executions share one fsync. Each table's rows go in
through one ``executemany``, because every aiosqlite call costs a thread hand-off that
is far dearer than the write itself. A second connection serves reads, which WAL lets run
beside the writer.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiosqlite

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "Batch", "ExecutionRow", "SchemaTooNew", "Store"]

_SCHEMA_V1 = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS plans (
    flow_name TEXT NOT NULL, revision INTEGER NOT NULL, definition TEXT NOT NULL,
    PRIMARY KEY (flow_name, revision)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS executions (
    id INTEGER PRIMARY KEY,
    flow_name TEXT NOT NULL, name TEXT NOT NULL, revision INTEGER NOT NULL,
    status TEXT NOT NULL, input TEXT NOT NULL, output TEXT,
    error_code TEXT, error_message TEXT,
    started_at REAL NOT NULL, stopped_at REAL, deadline REAL NOT NULL,
    next_event_id INTEGER NOT NULL, globals TEXT NOT NULL DEFAULT '{}',
    UNIQUE (flow_name, name));
CREATE INDEX IF NOT EXISTS executions_running ON executions (status) WHERE status = 'Running';
CREATE INDEX IF NOT EXISTS executions_by_start ON executions (flow_name, started_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS executions_by_stop ON executions (stopped_at) WHERE stopped_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS events (
    execution_id INTEGER NOT NULL, event_id INTEGER NOT NULL, type TEXT NOT NULL,
    step_name TEXT NOT NULL, time REAL NOT NULL, detail TEXT NOT NULL, schedule_event_id INTEGER NOT NULL,
    PRIMARY KEY (execution_id, event_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS frames (
    execution_id INTEGER NOT NULL, key TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (execution_id, key)) WITHOUT ROWID;
"""

MIGRATIONS: tuple[str, ...] = (
    _SCHEMA_V1,
    # 2: a child execution started by a parent's FNF:StartExecution task remembers the
    # parent task's token, to report its end to it.
    "ALTER TABLE executions ADD COLUMN parent_token TEXT;"
    "CREATE INDEX executions_unreported ON executions (id) WHERE parent_token IS NOT NULL;",
    # 3: the W3C trace context of the call that started the execution, for its task spans.
    "ALTER TABLE executions ADD COLUMN trace_context TEXT;",
    # 4: definitions by content digest: a flow deleted and created again under the same name
    # starts again at revision 1, so (flow name, revision) does not name one definition.
    "CREATE TABLE plan_texts (digest TEXT PRIMARY KEY, definition TEXT NOT NULL) WITHOUT ROWID;"
    "ALTER TABLE executions ADD COLUMN plan_digest TEXT;",
)
"""Schema version N is reached by running MIGRATIONS[N-1]; PRAGMA user_version holds N."""

SCHEMA_VERSION = len(MIGRATIONS)

_EXECUTION_COLUMNS = (
    "id, flow_name, name, revision, status, input, output, error_code, error_message, "
    "started_at, stopped_at, deadline, next_event_id, globals, parent_token, trace_context, "
    "plan_digest"
)


@dataclass(frozen=True, slots=True)
class ExecutionRow:
    id: int
    flow_name: str
    name: str
    revision: int
    status: str
    input: str
    output: str | None
    error_code: str | None
    error_message: str | None
    started_at: float
    stopped_at: float | None
    deadline: float
    next_event_id: int
    globals: str
    parent_token: str | None = None
    trace_context: str | None = None
    plan_digest: str | None = None


@dataclass(slots=True)
class Batch:
    """Everything one engine tick writes, committed in one transaction."""

    plans: dict[str, str] = field(default_factory=dict)
    """Definitions by their digest (written once each)."""
    new_executions: list[tuple[Any, ...]] = field(default_factory=list)
    """Rows in ``_EXECUTION_COLUMNS`` order."""
    events: list[tuple[Any, ...]] = field(default_factory=list)
    """(execution_id, event_id, type, step_name, time, detail, schedule_event_id)."""
    frames: dict[tuple[int, str], str | None] = field(default_factory=dict)
    """Frame bodies to write; ``None`` deletes the frame."""
    progress: dict[int, int] = field(default_factory=dict)
    """execution id → its next event id."""
    globals: dict[int, str] = field(default_factory=dict)
    parents_notified: list[int] = field(default_factory=list)
    purged: list[int] = field(default_factory=list)
    """Finished executions to delete with their history (retention)."""
    """Child executions whose end has been reported to their parent task."""
    finished: dict[int, tuple[str, str | None, str | None, str | None, float]] = field(
        default_factory=dict
    )
    """execution id → (status, output, error code, error message, stopped at); drops its frames."""

    def __bool__(self) -> bool:
        return bool(
            self.new_executions
            or self.events
            or self.frames
            or self.finished
            or self.plans
            or self.globals
            or self.progress
            or self.parents_notified
            or self.purged
        )


class Store:
    """The SQLite file behind the standard engine."""

    def __init__(self, writer: aiosqlite.Connection, reader: aiosqlite.Connection) -> None:
        self._writer = writer
        self._reader = reader

    @classmethod
    async def open(cls, path: str | Path) -> Store:
        """Open the file, creating it or bringing an older schema up to date."""
        writer = await _connect(path)
        try:
            await _migrate(writer)
            await writer.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('token_secret', ?)",
                (secrets.token_bytes(32),),
            )
        except BaseException:
            await writer.close()
            raise
        reader = await _connect(path)
        return cls(writer, reader)

    async def close(self) -> None:
        await self._writer.close()
        await self._reader.close()

    # -- writes ----------------------------------------------------------------------

    async def commit(self, batch: Batch) -> None:
        """Write a batch in one transaction; all of it or nothing."""
        db = self._writer
        await db.execute("BEGIN IMMEDIATE")
        try:
            if batch.plans:
                await db.executemany(
                    "INSERT OR IGNORE INTO plan_texts (digest, definition) VALUES (?, ?)",
                    list(batch.plans.items()),
                )
            if batch.new_executions:
                await db.execute(
                    "INSERT INTO meta (key, value) VALUES ('max_execution_id', ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = MAX(value, excluded.value)",
                    (max(row[0] for row in batch.new_executions),),
                )
                await db.executemany(
                    f"INSERT INTO executions ({_EXECUTION_COLUMNS}) VALUES ({', '.join('?' * 17)})",
                    batch.new_executions,
                )
            if batch.events:
                await db.executemany(
                    "INSERT INTO events (execution_id, event_id, type, step_name, time, detail, schedule_event_id) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    batch.events,
                )
            upserts = [
                (eid, key, body)
                for (eid, key), body in batch.frames.items()
                if body is not None and eid not in batch.finished
            ]
            deletes = [
                (eid, key)
                for (eid, key), body in batch.frames.items()
                if body is None and eid not in batch.finished
            ]
            if upserts:
                await db.executemany(
                    "INSERT INTO frames (execution_id, key, body) VALUES (?, ?, ?) "
                    "ON CONFLICT (execution_id, key) DO UPDATE SET body = excluded.body",
                    upserts,
                )
            if deletes:
                await db.executemany(
                    "DELETE FROM frames WHERE execution_id = ? AND key = ?", deletes
                )
            if batch.progress:
                await db.executemany(
                    "UPDATE executions SET next_event_id = ? WHERE id = ?",
                    [(next_id, eid) for eid, next_id in batch.progress.items()],
                )
            if batch.globals:
                await db.executemany(
                    "UPDATE executions SET globals = ? WHERE id = ?",
                    [(g, eid) for eid, g in batch.globals.items()],
                )
            if batch.purged:
                ids = [(eid,) for eid in batch.purged]
                await db.executemany("DELETE FROM events WHERE execution_id = ?", ids)
                await db.executemany(
                    "DELETE FROM executions WHERE id = ? AND status != 'Running'", ids
                )
            if batch.parents_notified:
                await db.executemany(
                    "UPDATE executions SET parent_token = NULL WHERE id = ?",
                    [(eid,) for eid in batch.parents_notified],
                )
            if batch.finished:
                await db.executemany(
                    "UPDATE executions SET status = ?, output = ?, error_code = ?, error_message = ?, stopped_at = ? "
                    "WHERE id = ?",
                    [(*values, eid) for eid, values in batch.finished.items()],
                )
                await db.executemany(
                    "DELETE FROM frames WHERE execution_id = ?", [(eid,) for eid in batch.finished]
                )
            await db.commit()
        except BaseException:
            await db.rollback()
            raise

    async def finished_before(self, stopped_before: float, limit: int) -> list[int]:
        """Up to ``limit`` executions that finished before the instant (retention)."""
        rows = await self._rows(
            "SELECT id FROM executions WHERE stopped_at IS NOT NULL AND stopped_at < ? LIMIT ?",
            (stopped_before, limit),
        )
        return [row[0] for row in rows]

    # -- reads -----------------------------------------------------------------------

    async def token_secret(self) -> bytes:
        return bytes(await self._one("SELECT value FROM meta WHERE key = 'token_secret'", ()))

    async def max_execution_id(self) -> int:
        """The highest execution id ever given, purged executions included: ids (and with them
        task tokens, which name the execution by id) are never reused."""
        stored = await self._row("SELECT value FROM meta WHERE key = 'max_execution_id'", ())
        highest = int(await self._one("SELECT COALESCE(MAX(id), 0) FROM executions", ()))
        return max(highest, int(stored[0]) if stored is not None else 0)

    async def running_executions(self) -> list[ExecutionRow]:
        rows = await self._rows(
            f"SELECT {_EXECUTION_COLUMNS} FROM executions WHERE status = 'Running' ORDER BY id"
        )
        return [ExecutionRow(*row) for row in rows]

    async def unreported_children(self) -> list[ExecutionRow]:
        """Child executions that ended without their parent task hearing of it (a crash between)."""
        rows = await self._rows(
            f"SELECT {_EXECUTION_COLUMNS} FROM executions WHERE parent_token IS NOT NULL AND status != 'Running'"
        )
        return [ExecutionRow(*row) for row in rows]

    async def all_frames(self) -> list[tuple[int, str, str]]:
        """Every stored frame (they all belong to running executions): (execution, key, body)."""
        rows = await self._rows("SELECT execution_id, key, body FROM frames")
        return [(row[0], row[1], row[2]) for row in rows]

    async def frames_of(self, execution_id: int) -> list[tuple[str, str]]:
        rows = await self._rows(
            "SELECT key, body FROM frames WHERE execution_id = ?", (execution_id,)
        )
        return [(row[0], row[1]) for row in rows]

    async def plan_definition(
        self, digest: str | None, flow_name: str, revision: int
    ) -> str | None:
        """An execution's definition: by digest, or (executions from schema 3 and before) by
        flow name and revision."""
        if digest is not None:
            row = await self._row("SELECT definition FROM plan_texts WHERE digest = ?", (digest,))
        else:
            row = await self._row(
                "SELECT definition FROM plans WHERE flow_name = ? AND revision = ?",
                (flow_name, revision),
            )
        return None if row is None else str(row[0])

    async def execution(self, flow_name: str, name: str) -> ExecutionRow | None:
        row = await self._row(
            f"SELECT {_EXECUTION_COLUMNS} FROM executions WHERE flow_name = ? AND name = ?",
            (flow_name, name),
        )
        return None if row is None else ExecutionRow(*row)

    async def execution_by_id(self, execution_id: int) -> ExecutionRow | None:
        row = await self._row(
            f"SELECT {_EXECUTION_COLUMNS} FROM executions WHERE id = ?", (execution_id,)
        )
        return None if row is None else ExecutionRow(*row)

    async def list_executions(
        self,
        flow_name: str,
        *,
        status: str | None,
        name_prefix: str,
        started_after: float | None,
        started_before: float | None,
        after: tuple[float, int] | None,
        limit: int,
    ) -> list[ExecutionRow]:
        """Newest first; ``after`` is the (started_at, id) of the last row of the previous page."""
        clauses = ["flow_name = ?"]
        params: list[Any] = [flow_name]
        if status is not None:
            clauses.append("status = ?")
            params.append(status)
        if name_prefix:
            clauses.append("substr(name, 1, ?) = ?")
            params += [len(name_prefix), name_prefix]
        if started_after is not None:
            clauses.append("started_at >= ?")
            params.append(started_after)
        if started_before is not None:
            clauses.append("started_at < ?")
            params.append(started_before)
        if after is not None:
            clauses.append("(started_at < ? OR (started_at = ? AND id < ?))")
            params += [after[0], after[0], after[1]]
        sql = (
            f"SELECT {_EXECUTION_COLUMNS} FROM executions WHERE {' AND '.join(clauses)} "
            "ORDER BY started_at DESC, id DESC LIMIT ?"
        )
        return [ExecutionRow(*row) for row in await self._rows(sql, (*params, limit))]

    async def events(
        self, execution_id: int, after_event_id: int, limit: int
    ) -> list[tuple[Any, ...]]:
        return await self._rows(
            "SELECT event_id, type, step_name, time, detail, schedule_event_id FROM events "
            "WHERE execution_id = ? AND event_id > ? ORDER BY event_id LIMIT ?",
            (execution_id, after_event_id, limit),
        )

    async def _one(self, sql: str, params: Sequence[Any]) -> Any:
        row = await self._row(sql, params)
        assert row is not None
        return row[0]

    async def _row(self, sql: str, params: Sequence[Any]) -> Any:
        # Read every row and close the cursor: a statement left open would hold its read
        # transaction, and with it an old snapshot of the database, for later queries.
        rows = list(await self._reader.execute_fetchall(sql, params))
        return rows[0] if rows else None

    async def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return list(await self._reader.execute_fetchall(sql, params))


class SchemaTooNew(RuntimeError):
    """The database was written by a newer version of CloudFlow."""


async def _migrate(db: aiosqlite.Connection) -> None:
    """Run the migrations the file has not had, each in its own transaction."""
    rows = list(await db.execute_fetchall("PRAGMA user_version"))
    version = int(rows[0][0])
    if version > SCHEMA_VERSION:
        raise SchemaTooNew(
            f"the database has schema version {version}, but this version of CloudFlow reads up to "
            f"{SCHEMA_VERSION}; upgrade CloudFlow or use another database file"
        )
    for number in range(version + 1, SCHEMA_VERSION + 1):
        await db.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(MIGRATIONS[number - 1]):
                await db.execute(statement)
            await db.execute(f"PRAGMA user_version = {number}")
            await db.commit()
        except BaseException:
            await db.rollback()
            raise


def _statements(script: str) -> list[str]:
    return [part.strip() for part in script.split(";") if part.strip()]


async def _connect(path: str | Path) -> aiosqlite.Connection:
    db = await aiosqlite.connect(str(path), isolation_level=None)
    # Every statement here is run to completion (execute_fetchall): a PRAGMA that returns
    # a row and is left unread keeps a read transaction open, and with it a stale snapshot.
    await db.execute_fetchall("PRAGMA journal_mode = WAL")
    # FULL: a committed transaction survives power loss, not only a process crash. Group
    # commit shares the fsync between every execution of a tick, which keeps it affordable.
    await db.execute_fetchall("PRAGMA synchronous = FULL")
    await db.execute_fetchall("PRAGMA busy_timeout = 10000")
    await db.execute_fetchall("PRAGMA foreign_keys = OFF")
    return db
