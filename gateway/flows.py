"""Flows, stored durably in SQLite: a row per flow and an immutable row per revision.

``flows`` holds what a flow is now (its mode, current revision, description, times);
``flow_revisions`` holds every definition it has had, never changed once written (a trigger
refuses updates). UpdateFlow adds a revision and moves the flow to it, so an execution that
started on revision 3 keeps meaning revision 3.

Each flow also gets an internal ``flow_id`` at creation. Revisions and compiled plans are keyed
by it rather than by name, so deleting a flow and creating another of the same name can never
pick up the old flow's revision 1 from a cache.

Reads are served from an in-process cache checked against the ``flow_changes`` counter, which
triggers bump on every change to a flow by any connection (another server process included),
and which, unlike ``PRAGMA data_version``, stays put when the standard engine writes to the same
file. That check runs on a second, plain ``sqlite3`` connection directly on the event loop: a
one-row read costs a few microseconds, against tens of microseconds and two loop iterations for a
round trip through aiosqlite's thread. StartSyncExecution looks a flow up
on every call, so this is what keeps the flow lookup off its critical path.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import re
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import aiosqlite

from shared.compiler import compile_flow
from shared.errors import FlowAlreadyExists, FlowNotFound, InvalidArgument
from shared.limits import DEFAULT_LIMITS, Limits
from shared.plan import ExecutionMode

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "Flow",
    "FlowStore",
    "check_name",
    "page_size_of",
]

DEFAULT_PAGE_SIZE: Final = 60
"""What ``page_size`` 0 means, in every List operation (cloudflow-reference.md §4.3)."""
MAX_FLOW_PAGE_SIZE: Final = 999
MAX_CACHED_FLOWS: Final = 4096
BUSY_TIMEOUT_MS: Final = 5_000
"""How long a write waits for another process's write transaction before failing."""

# DESIGN.md §3 / cloudflow-reference.md §4.2: flows and executions share one naming rule.
_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,127}")
_TOKEN_PREFIX: Final = "flows:v1:"

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS flows (
    name        TEXT PRIMARY KEY,
    flow_id     TEXT NOT NULL UNIQUE,
    mode        TEXT NOT NULL CHECK (mode IN ('Standard', 'Express')),
    revision    INTEGER NOT NULL,
    description TEXT NOT NULL,
    created_at  REAL NOT NULL,
    modified_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS flow_revisions (
    flow_id     TEXT NOT NULL,
    revision    INTEGER NOT NULL,
    definition  TEXT NOT NULL,
    created_at  REAL NOT NULL,
    PRIMARY KEY (flow_id, revision)
);
CREATE TRIGGER IF NOT EXISTS flow_revisions_are_immutable
BEFORE UPDATE ON flow_revisions
BEGIN
    SELECT RAISE(ABORT, 'flow revisions are immutable; add a new revision instead');
END;
-- A counter of changes to flows, which the cache checks: unlike PRAGMA data_version it
-- does not move when the standard engine (or anything else) writes to the same file.
CREATE TABLE IF NOT EXISTS flow_changes (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT OR IGNORE INTO flow_changes (id, version) VALUES (1, 0);
CREATE TRIGGER IF NOT EXISTS flows_inserted AFTER INSERT ON flows
BEGIN UPDATE flow_changes SET version = version + 1; END;
CREATE TRIGGER IF NOT EXISTS flows_updated AFTER UPDATE ON flows
BEGIN UPDATE flow_changes SET version = version + 1; END;
CREATE TRIGGER IF NOT EXISTS flows_deleted AFTER DELETE ON flows
BEGIN UPDATE flow_changes SET version = version + 1; END;
"""

_SELECT: Final = """
SELECT f.name, r.definition, f.description, f.mode, f.revision, f.created_at, f.modified_at,
       f.flow_id
FROM flows AS f JOIN flow_revisions AS r ON r.flow_id = f.flow_id AND r.revision = f.revision
"""


@dataclass(frozen=True, slots=True)
class Flow:
    """A flow as it is now: its current revision's definition and its metadata."""

    name: str
    """Unique name (DESIGN.md §3 naming rules)."""
    definition: str
    """FDL text of the current revision."""
    description: str
    mode: ExecutionMode
    """Fixed at creation."""
    revision: int
    """1 at creation, +1 per update."""
    created_at: float
    """Unix seconds, UTC."""
    modified_at: float
    """Unix seconds, UTC: creation or last update."""
    flow_id: str = ""
    """Internal identity, new for every CreateFlow; empty on the client side."""


def check_name(value: str, what: str) -> str:
    """``value`` if it follows the naming rules, else InvalidArgument naming ``what``."""
    if not _NAME.fullmatch(value):
        shown = value if len(value) <= 140 else value[:137] + "..."
        raise InvalidArgument(
            f"{what} {shown!r} is not a valid name: use 1 to 128 letters, digits, '_' or '-', "
            "starting with a letter or '_'"
        )
    return value


def page_size_of(requested: int, maximum: int, what: str) -> int:
    """The page size a List request asks for: 0 means the default; else 1..maximum."""
    if requested == 0:
        return DEFAULT_PAGE_SIZE
    if not 1 <= requested <= maximum:
        raise InvalidArgument(
            f"{what} page_size must be from 1 to {maximum} (or 0 for {DEFAULT_PAGE_SIZE}), "
            f"not {requested}"
        )
    return requested


class FlowStore:
    """CreateFlow, UpdateFlow, DescribeFlow, ListFlows and DeleteFlow over one SQLite file."""

    def __init__(self, db: aiosqlite.Connection, probe: sqlite3.Connection, limits: Limits) -> None:
        self._db = db
        self._probe = probe
        self._limits = limits
        # One transaction at a time on the shared connection: interleaved BEGINs would fail.
        self._lock = asyncio.Lock()
        # A plain dict, not an LRU: the lookup is on every StartSyncExecution's path, and the
        # cache is emptied whenever anything is committed or it grows past MAX_CACHED_FLOWS.
        self._cache: dict[str, Flow] = {}
        self._cache_version: int | None = None

    @classmethod
    async def open(cls, path: Path | str, limits: Limits = DEFAULT_LIMITS) -> FlowStore:
        """Open (creating if needed) the flow tables in the SQLite file at ``path``."""
        path = Path(path)
        if str(path) == ":memory:":
            raise ValueError("the flow store needs a file: an in-memory database is per connection")
        try:
            return await cls._open(path, limits)
        except sqlite3.Error as exc:
            raise OSError(f"cannot open the database {str(path)!r}: {exc}") from exc

    @classmethod
    async def _open(cls, path: Path, limits: Limits) -> FlowStore:
        db = await aiosqlite.connect(path, isolation_level=None)  # we issue BEGIN/COMMIT ourselves
        try:
            await db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await db.execute("PRAGMA journal_mode = WAL")
            # Flows change rarely; a committed CreateFlow must survive a power cut.
            await db.execute("PRAGMA synchronous = FULL")
            # One transaction, so concurrent first starts of several processes do not race.
            await db.executescript("BEGIN IMMEDIATE;" + _SCHEMA + "COMMIT;")
        except BaseException:
            await db.close()
            raise
        # busy_timeout 0: the probe must never block the loop; a busy answer counts as "changed".
        probe = sqlite3.connect(path, isolation_level=None, timeout=0)
        return cls(db, probe, limits)

    async def close(self) -> None:
        self._probe.close()
        await self._db.close()

    # -- reads -----------------------------------------------------------------------------

    async def get(self, name: str) -> Flow:
        """The flow named ``name``; FlowNotFound if there is none."""
        if self._fresh():
            flow = self._cache.get(name)
            if flow is not None:
                return flow
        async with self._lock, self._db.execute(_SELECT + "WHERE f.name = ?", (name,)) as cursor:
            row = await cursor.fetchone()
        if row is None:
            raise FlowNotFound(
                f"flow {name!r} does not exist; create it with CreateFlow or check the name "
                "(ListFlows lists the flows)"
            )
        flow = _flow(row)
        if len(self._cache) >= MAX_CACHED_FLOWS:
            self._cache.clear()
        self._cache[name] = flow
        return flow

    async def list(self, page_size: int, page_token: str) -> tuple[list[Flow], str]:
        """One page of flows in name order, and the next page's token ("" on the last page)."""
        size = page_size_of(page_size, MAX_FLOW_PAGE_SIZE, "ListFlows")
        after = _decode_token(page_token)
        async with (
            self._lock,
            self._db.execute(
                _SELECT + "WHERE f.name > ? ORDER BY f.name LIMIT ?", (after, size + 1)
            ) as cursor,
        ):
            rows = list(await cursor.fetchall())
        flows = [_flow(row) for row in rows[:size]]
        # One row more than asked tells whether a next page exists without a second query.
        token = _encode_token(flows[-1].name) if len(rows) > size else ""
        return flows, token

    # -- writes ----------------------------------------------------------------------------

    async def create(
        self, name: str, definition: str, description: str, mode: ExecutionMode
    ) -> Flow:
        """Validate ``definition`` in ``mode`` and store it as revision 1.

        Raises InvalidArgument (bad name), InvalidDefinition (every problem of the definition)
        or FlowAlreadyExists.
        """
        check_name(name, "flow name")
        compile_flow(definition, mode, self._limits)
        now = time.time()
        flow = Flow(name, definition, description, mode, 1, now, now, uuid.uuid4().hex)
        async with self._transaction() as db:
            try:
                await db.execute(
                    "INSERT INTO flows (name, flow_id, mode, revision, description, created_at, "
                    "modified_at) VALUES (?, ?, ?, 1, ?, ?, ?)",
                    (name, flow.flow_id, mode.value, description, now, now),
                )
            except sqlite3.IntegrityError:
                raise FlowAlreadyExists(
                    f"flow {name!r} already exists; use UpdateFlow to change it, or DeleteFlow "
                    "first to replace it"
                ) from None
            await self._insert_revision(db, flow)
        self._cache.pop(name, None)
        return flow

    async def update(self, name: str, definition: str | None, description: str | None) -> Flow:
        """Store a new revision: the given fields replace the current ones, the rest stay.

        The definition is validated in the flow's own mode (which never changes).
        """
        current = await self.get(name)
        if definition is not None:
            compile_flow(definition, current.mode, self._limits)
        now = time.time()
        async with self._transaction() as db:
            # Re-read inside the write transaction: another process may have updated it since.
            async with db.execute(_SELECT + "WHERE f.name = ?", (name,)) as cursor:
                row = await cursor.fetchone()
            if row is None:
                raise FlowNotFound(f"flow {name!r} does not exist (it was deleted meanwhile)")
            latest = _flow(row)
            flow = Flow(
                name,
                latest.definition if definition is None else definition,
                latest.description if description is None else description,
                latest.mode,
                latest.revision + 1,
                latest.created_at,
                now,
                latest.flow_id,
            )
            await self._insert_revision(db, flow)
            await db.execute(
                "UPDATE flows SET revision = ?, description = ?, modified_at = ? WHERE name = ?",
                (flow.revision, flow.description, now, name),
            )
        self._cache.pop(name, None)
        return flow

    async def delete(self, name: str) -> None:
        """Delete the flow and its revisions; FlowNotFound if there is none."""
        async with self._transaction() as db:
            async with db.execute("SELECT flow_id FROM flows WHERE name = ?", (name,)) as cursor:
                row = await cursor.fetchone()
            if row is None:
                raise FlowNotFound(f"flow {name!r} does not exist; nothing was deleted")
            await db.execute("DELETE FROM flow_revisions WHERE flow_id = ?", (row[0],))
            await db.execute("DELETE FROM flows WHERE name = ?", (name,))
        self._cache.pop(name, None)

    # -- internals -------------------------------------------------------------------------

    def _fresh(self) -> bool:
        """True when the cache may be used: nothing was committed since it was filled."""
        try:
            version = self._probe.execute("SELECT version FROM flow_changes").fetchone()[0]
        except sqlite3.OperationalError:  # busy (a checkpoint or recovery): go to the database
            return False
        if version != self._cache_version:
            self._cache.clear()
            self._cache_version = version
        return True

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._lock:
            db = self._db
            # IMMEDIATE takes the write lock now, so two processes updating the same flow
            # serialise instead of both reading revision n and one failing on commit.
            await db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                await db.execute("ROLLBACK")
                raise
            await db.execute("COMMIT")

    @staticmethod
    async def _insert_revision(db: aiosqlite.Connection, flow: Flow) -> None:
        await db.execute(
            "INSERT INTO flow_revisions (flow_id, revision, definition, created_at) "
            "VALUES (?, ?, ?, ?)",
            (flow.flow_id, flow.revision, flow.definition, flow.modified_at),
        )


def _flow(row: sqlite3.Row) -> Flow:
    name, definition, description, mode, revision, created, modified, flow_id = row
    return Flow(
        name, definition, description, ExecutionMode(mode), revision, created, modified, flow_id
    )


def _encode_token(last_name: str) -> str:
    return base64.urlsafe_b64encode((_TOKEN_PREFIX + last_name).encode()).decode().rstrip("=")


def _decode_token(token: str) -> str:
    """The last name of the previous page; "" for the first page."""
    if not token:
        return ""
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    if not text.startswith(_TOKEN_PREFIX):
        raise InvalidArgument(
            "page_token is not a token of ListFlows; pass the next_page_token of the previous "
            "response unchanged, or an empty token for the first page"
        )
    return text[len(_TOKEN_PREFIX) :]
