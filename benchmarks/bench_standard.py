"""Standard engine throughput and recovery, against SQLite's ceiling and DBOS Transact.

Everything runs in one process on one fresh SQLite file per measurement, in a temporary
directory on the same disk as the repository:

* **engine**: a five-state Pass flow started in-process by 1, 16 and 256 concurrent
  starters. Each starter calls ``start_execution`` (which returns only once the start is
  committed) and then ``describe_execution(..., wait_seconds)`` until the execution has
  succeeded, back to back. Executions/s counts the executions completed inside the
  measuring window; transitions/s is five per execution; events/s and rows/s are counted
  in the database afterwards (rows written in the window, by the engine clock).
* **ceiling**: aiosqlite alone, inserting rows like the engine's ``events`` rows in
  ``executemany`` batches of 100, one ``BEGIN IMMEDIATE … COMMIT`` per batch, with the
  engine's PRAGMAs (WAL, ``synchronous = FULL``).
* **DBOS**: DBOS Transact (the ``bench`` extra) running an equivalent workflow of five
  ``@DBOS.step`` functions, each returning a copy of its input, started with
  ``DBOS.start_workflow_async`` and awaited, with the same starters. It runs twice: with
  its own SQLite settings (rollback journal), and on a file switched to WAL beforehand
  (WAL is persistent in the file), so the comparison does not rest on its journal mode.
* **recovery**: N executions parked in a one-hour Wait, the engine closed, then the time
  for ``StandardEngine.open`` to resume them all, and for the reactor to have taken
  them (a start submitted after ``open`` returns is answered after every resumption).

The goals of the issue are checked as text, never asserted: a benchmark reports.

Usage::

    python benchmarks/bench_standard.py [--seconds N] [--skip-dbos] [--recovery N]
                                        [--profile CONCURRENCY]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import gc
import json
import math
import os
import pstats
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiosqlite
import uvloop

from shared.ports import TaskRequest
from shared.results import ExecutionStatus
from standard_engine import StandardEngine

REPO = Path(__file__).resolve().parents[1]
CONCURRENCIES = (1, 16, 256)
STATES = 5
WARM_UP_SECONDS = 0.5
WAIT_SECONDS = 30.0
DRAIN_SECONDS = 2.0
BATCH_ROWS = 100

GOAL_DBOS_RATIO = 20.0
GOAL_EXECUTIONS_PER_SECOND = 1_000.0
GOAL_RECOVERY_SECONDS = 10.0

PASS_5 = """
Type: StateMachine
Name: pass5
SpecVersion: v1
StartAt: S1
States:
  - {Type: Pass, Name: S1, Next: S2}
  - {Type: Pass, Name: S2, Next: S3}
  - {Type: Pass, Name: S3, Next: S4}
  - {Type: Pass, Name: S4, Next: S5}
  - {Type: Pass, Name: S5, End: true}
"""

WAIT_1_HOUR = """
Type: StateMachine
Name: wait1h
SpecVersion: v1
StartAt: Sleep
States:
  - {Type: Wait, Name: Sleep, Seconds: 3600, Next: Done}
  - {Type: Pass, Name: Done, End: true}
"""

ORDER = {"orderId": "A1", "amount": 10, "currency": "EUR", "lines": [1, 2, 3]}
ORDER_JSON = json.dumps(ORDER)


class _NoTasks:
    """The flows benchmarked here have no Task state; invoking one is a bug."""

    async def invoke(self, request: TaskRequest) -> Any:
        raise AssertionError(f"unexpected task {request.state_name}")


# -- measuring -------------------------------------------------------------------------


@dataclass
class Throughput:
    """Completed executions (or workflows) in a measuring window."""

    concurrency: int
    completed: int
    seconds: float
    latencies_ns: list[int] = field(default_factory=list)
    events: int | None = None
    """History events written in the window (engine only)."""
    rows: int | None = None
    """Rows inserted in the window: events plus executions (engine only)."""
    steps: int | None = None
    """Steps checkpointed in the window (DBOS only)."""
    abandoned: int = 0
    """Starters still waiting for a completion when the drain time ran out."""

    @property
    def rate(self) -> float:
        return self.completed / self.seconds

    def percentile_ms(self, fraction: float) -> float:
        if not self.latencies_ns:
            return float("nan")
        ordered = sorted(self.latencies_ns)
        rank = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
        return ordered[rank] / 1e6


async def run_starters(
    concurrency: int, seconds: float, one: Callable[[int, int], Awaitable[None]]
) -> tuple[Throughput, float, float]:
    """Run ``one(starter, n)`` back to back in ``concurrency`` coroutines.

    Counts what completes inside the window [warm-up end, warm-up end + seconds), whenever
    it started (a system slower than the window still gets its rate measured). Starters
    stop starting at the window's end; what is still in flight ``DRAIN_SECONDS`` later is
    cancelled, which bounds the run. Returns the throughput and the window's bounds in
    wall-clock (``time.time``) seconds.
    """
    begin = time.perf_counter()
    window_start = begin + WARM_UP_SECONDS
    window_end = window_start + seconds
    wall_offset = time.time() - time.perf_counter()
    result = Throughput(concurrency, 0, seconds)

    async def starter(k: int) -> None:
        n = 0
        while time.perf_counter() < window_end:
            t0 = time.perf_counter_ns()
            await one(k, n)
            done = time.perf_counter()
            n += 1
            if window_start <= done < window_end:
                result.completed += 1
                result.latencies_ns.append(time.perf_counter_ns() - t0)

    tasks = [asyncio.ensure_future(starter(k)) for k in range(concurrency)]
    _, pending = await asyncio.wait(tasks, timeout=WARM_UP_SECONDS + seconds + DRAIN_SECONDS)
    for task in pending:
        task.cancel()
    result.abandoned = len(pending)
    for outcome in await asyncio.gather(*tasks, return_exceptions=True):
        if isinstance(outcome, BaseException) and not isinstance(outcome, asyncio.CancelledError):
            raise outcome
    return result, window_start + wall_offset, window_end + wall_offset


# -- the standard engine ---------------------------------------------------------------


async def close_engine(engine: StandardEngine) -> None:
    """Close the engine, never hanging the benchmark.

    The pause first lets the engine's timer loop take the wake-up of the last tick: on
    Python 3.11, ``StandardEngine.close()`` can wait forever when it cancels that loop in
    the same loop iteration as a wake-up, because ``asyncio.wait_for`` (in
    ``SystemClock.sleep``) then swallows the cancellation (CPython gh-86296).
    """
    await asyncio.sleep(0.05)
    closing = asyncio.ensure_future(engine.close())
    done, _ = await asyncio.wait({closing}, timeout=30)
    if not done:
        print(
            "StandardEngine.close() did not return within 30 s (its timer loop swallowed "
            "the cancellation: asyncio.wait_for in standard_engine/clock.py); giving up",
            file=sys.stderr,
            flush=True,
        )
        os._exit(3)
    closing.result()


async def bench_engine(path: Path, concurrency: int, seconds: float) -> Throughput:
    engine = await StandardEngine.open(path, _NoTasks())
    try:

        async def one(k: int, n: int) -> None:
            name = f"c{concurrency}-s{k}-{n}"
            await engine.start_execution("pass5", 1, PASS_5, name, ORDER_JSON)
            info = await engine.describe_execution("pass5", name, wait_seconds=WAIT_SECONDS)
            if info.status is not ExecutionStatus.SUCCEEDED:
                raise RuntimeError(f"execution {name} ended {info.status.value}: {info.error_code}")

        gc.collect()
        result, wall_start, wall_end = await run_starters(concurrency, seconds, one)
    finally:
        await close_engine(engine)
    with contextlib.closing(sqlite3.connect(path)) as db:
        (result.events,) = db.execute(
            "SELECT COUNT(*) FROM events WHERE time >= ? AND time < ?", (wall_start, wall_end)
        ).fetchone()
        (executions,) = db.execute(
            "SELECT COUNT(*) FROM executions WHERE started_at >= ? AND started_at < ?",
            (wall_start, wall_end),
        ).fetchone()
    result.rows = result.events + executions
    return result


async def profile_engine(path: Path, concurrency: int, seconds: float) -> None:
    """Profile the engine's event-loop thread (the SQLite threads are not seen)."""
    profiler = cProfile.Profile()
    profiler.enable()
    result = await bench_engine(path, concurrency, seconds)
    profiler.disable()
    print(
        f"profile: {concurrency} starters, {result.rate:,.0f} executions/s "
        f"(slower than unprofiled: cProfile costs about 2x)\n"
    )
    stats = pstats.Stats(profiler)
    stats.sort_stats("tottime").print_stats(30)
    stats.sort_stats("cumulative").print_stats(40)


# -- the aiosqlite ceiling -------------------------------------------------------------


async def bench_ceiling(path: Path, seconds: float) -> tuple[int, float]:
    """Rows of the ``events`` shape, 100 per ``executemany``, one transaction per batch."""
    db = await aiosqlite.connect(str(path), isolation_level=None)
    try:
        # The same PRAGMAs as standard_engine/store.py.
        await db.execute("PRAGMA journal_mode = WAL")
        await db.execute("PRAGMA synchronous = FULL")
        await db.execute("PRAGMA busy_timeout = 10000")
        await db.execute(
            "CREATE TABLE events (execution_id INTEGER NOT NULL, event_id INTEGER NOT NULL, "
            "type TEXT NOT NULL, step_name TEXT NOT NULL, time REAL NOT NULL, "
            "detail TEXT NOT NULL, schedule_event_id INTEGER NOT NULL, "
            "PRIMARY KEY (execution_id, event_id)) WITHOUT ROWID"
        )
        detail = json.dumps({"input": ORDER})
        sql = "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?)"
        rows = 0
        started = time.perf_counter()
        stop = started + seconds
        while time.perf_counter() < stop:
            now = time.time()
            batch = [
                ((rows + i) // 12, (rows + i) % 12 + 1, "StepEntered", "S1", now, detail, 0)
                for i in range(BATCH_ROWS)
            ]
            await db.execute("BEGIN IMMEDIATE")
            await db.executemany(sql, batch)
            await db.commit()
            rows += BATCH_ROWS
        return rows, time.perf_counter() - started
    finally:
        await db.close()


# -- recovery --------------------------------------------------------------------------


@dataclass
class Recovery:
    count: int
    create_seconds: float
    open_seconds: float
    ready_seconds: float
    running_after: int


async def bench_recovery(path: Path, count: int) -> Recovery:
    engine = await StandardEngine.open(path, _NoTasks())
    names = iter(range(count))
    started = time.perf_counter()

    async def starter() -> None:
        for n in names:
            await engine.start_execution("wait1h", 1, WAIT_1_HOUR, f"w{n}", ORDER_JSON)

    try:
        await asyncio.gather(*(starter() for _ in range(256)))
        create_seconds = time.perf_counter() - started
        if engine.running_count != count:
            raise RuntimeError(f"{engine.running_count} executions wait, not {count}")
    finally:
        await close_engine(engine)
    del engine
    gc.collect()

    started = time.perf_counter()
    engine = await StandardEngine.open(path, _NoTasks())
    try:
        opened = time.perf_counter()
        # The reactor takes its inputs in order: a start submitted now is answered only
        # after every resumption that recovery queued has been applied.
        await engine.start_execution("pass5", 1, PASS_5, "after-recovery", ORDER_JSON)
        ready = time.perf_counter()
        running = engine.running_count
        last = await engine.describe_execution("wait1h", f"w{count - 1}")
        if last.status is not ExecutionStatus.RUNNING:
            raise RuntimeError(f"execution w{count - 1} is {last.status.value} after recovery")
    finally:
        await close_engine(engine)
    return Recovery(count, create_seconds, opened - started, ready - started, running)


# -- DBOS Transact ---------------------------------------------------------------------


def dbos_unavailable() -> str | None:
    try:
        import dbos  # noqa: F401
    except ImportError as exc:
        return (
            f"DBOS Transact is not installed ({exc}); "
            "install the benchmark extra: pip install -e '.[bench]'"
        )
    return None


def bench_dbos(path: Path, seconds: float, wal: bool) -> list[Throughput]:
    """DBOS on its own SQLite file; returns one result per concurrency.

    Besides completed workflows, the steps DBOS checkpointed inside each window are
    counted in its ``operation_outputs`` table: its transitions/s, measured even when
    no workflow completes within the window.
    """
    from dbos import DBOS

    if wal:
        with contextlib.closing(sqlite3.connect(path)) as db:
            db.execute("PRAGMA journal_mode = WAL")
    workflow = _dbos_workflow()
    # ERROR: DBOS warns about every workflow cancelled at the end of a window.
    DBOS(
        config={
            "name": "bench-standard",
            "system_database_url": f"sqlite:///{path}",
            "log_level": "ERROR",
        }
    )
    windows = []
    try:
        DBOS.launch()
        results = []
        for concurrency in CONCURRENCIES:

            async def one(k: int, n: int) -> None:
                handle = await DBOS.start_workflow_async(workflow, ORDER)
                output = await handle.get_result()
                if output != ORDER:
                    raise RuntimeError(f"DBOS workflow returned {output!r}")

            async def measure(
                c: int = concurrency, fn: Any = one
            ) -> tuple[Throughput, float, float]:
                gc.collect()
                return await run_starters(c, seconds, fn)

            result, wall_start, wall_end = uvloop.run(measure())
            results.append(result)
            windows.append((wall_start, wall_end))
    finally:
        DBOS.destroy()
    with contextlib.closing(sqlite3.connect(path)) as db:
        for result, (wall_start, wall_end) in zip(results, windows, strict=True):
            (result.steps,) = db.execute(
                "SELECT COUNT(*) FROM operation_outputs "
                "WHERE completed_at_epoch_ms >= ? AND completed_at_epoch_ms < ?",
                (int(wall_start * 1000), int(wall_end * 1000)),
            ).fetchone()
    return results


_DBOS_WORKFLOW: Any = None


def _dbos_workflow() -> Any:
    """The five-step workflow, registered once per process (DBOS keeps a global registry)."""
    global _DBOS_WORKFLOW
    if _DBOS_WORKFLOW is not None:
        return _DBOS_WORKFLOW
    from dbos import DBOS

    @DBOS.step()
    async def step_1(data: dict[str, Any]) -> dict[str, Any]:
        return dict(data)

    @DBOS.step()
    async def step_2(data: dict[str, Any]) -> dict[str, Any]:
        return dict(data)

    @DBOS.step()
    async def step_3(data: dict[str, Any]) -> dict[str, Any]:
        return dict(data)

    @DBOS.step()
    async def step_4(data: dict[str, Any]) -> dict[str, Any]:
        return dict(data)

    @DBOS.step()
    async def step_5(data: dict[str, Any]) -> dict[str, Any]:
        return dict(data)

    @DBOS.workflow()
    async def pass_5(data: dict[str, Any]) -> dict[str, Any]:
        data = await step_1(data)
        data = await step_2(data)
        data = await step_3(data)
        data = await step_4(data)
        return await step_5(data)

    _DBOS_WORKFLOW = pass_5
    return pass_5


def dbos_journal_mode(path: Path) -> str:
    with contextlib.closing(sqlite3.connect(path)) as db:
        return str(db.execute("PRAGMA journal_mode").fetchone()[0])


# -- the report ------------------------------------------------------------------------


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def print_throughput_table(
    engine: list[Throughput], dbos_runs: dict[str, list[Throughput]], seconds: float
) -> None:
    print(
        f"durable executions of a 5-state Pass flow ({seconds:g} s window after "
        f"{WARM_UP_SECONDS:g} s warm-up; latency = start + wait until done)"
    )
    header = (
        f"{'system':<22} {'starters':>8} {'exec/s':>9} {'transitions/s':>14} "
        f"{'events/s':>10} {'rows/s':>10} {'p50 ms':>8} {'p99 ms':>8}"
    )
    print(header)
    print("-" * len(header))
    for r in engine:
        assert r.events is not None and r.rows is not None
        print(
            f"{'cloudflow standard':<22} {r.concurrency:>8} {r.rate:>9,.0f} "
            f"{r.rate * STATES:>14,.0f} {r.events / r.seconds:>10,.0f} "
            f"{r.rows / r.seconds:>10,.0f} {r.percentile_ms(0.5):>8.2f} "
            f"{r.percentile_ms(0.99):>8.2f}"
        )
    for label, runs in dbos_runs.items():
        for r in runs:
            steps = r.steps / r.seconds if r.steps is not None else r.rate * STATES
            print(
                f"{label:<22} {r.concurrency:>8} {r.rate:>9,.1f} {steps:>14,.0f} "
                f"{'':>10} {'':>10} {r.percentile_ms(0.5):>8.2f} {r.percentile_ms(0.99):>8.2f}"
            )
    for label, runs in [("cloudflow standard", engine), *dbos_runs.items()]:
        for r in runs:
            if r.abandoned:
                print(
                    f"  {label} at {r.concurrency} starters: {r.abandoned} starters still "
                    f"waiting {DRAIN_SECONDS:g} s after the window were cancelled"
                )


def print_ratios(
    engine: list[Throughput],
    dbos_runs: dict[str, list[Throughput]],
    dbos_reason: str | None,
    ceiling: float,
    recovery: Recovery | None,
) -> None:
    best = max(engine, key=lambda r: r.rate)
    print()
    print("ratios")
    for label, runs in dbos_runs.items():
        for e, d in zip(engine, runs, strict=True):
            ratio = f"{e.rate / d.rate:>8.1f}x" if d.rate else "     n/a (no DBOS completion)"
            steps = (d.steps or 0) / d.seconds
            per_step = f"{e.rate * STATES / steps:>8.1f}x" if steps else "n/a"
            print(
                f"  engine / {label:<16} at {e.concurrency:>3} starters: executions {ratio}, "
                f"transitions {per_step}"
            )
    if dbos_reason:
        print(f"  engine / DBOS: not measured: {dbos_reason}")
    for e in engine:
        assert e.rows is not None
        print(
            f"  engine rows/s / aiosqlite ceiling at {e.concurrency:>3} starters: "
            f"{e.rows / e.seconds / ceiling:>7.1%}"
        )
    print()
    print("goals")
    if dbos_runs:
        # DBOS's best, generously: completed workflows/s, or its checkpointed steps/s
        # divided by five where more workflows were under way than completed.
        best_dbos = max(
            max(r.rate, (r.steps or 0) / r.seconds / STATES)
            for runs in dbos_runs.values()
            for r in runs
        )
        dbos_ratio = best.rate / best_dbos if best_dbos else math.inf
        print(
            f"  >= {GOAL_DBOS_RATIO:g}x DBOS's workflows/s (best engine {best.rate:,.0f}/s at "
            f"{best.concurrency} starters vs best DBOS {best_dbos:,.1f}/s, completed or "
            f"steps/5): {dbos_ratio:,.1f}x -> {_met(dbos_ratio >= GOAL_DBOS_RATIO)}"
        )
    else:
        print(f"  >= {GOAL_DBOS_RATIO:g}x DBOS's workflows/s: not measured")
    print(
        f"  >= {GOAL_EXECUTIONS_PER_SECOND:,.0f} durable 5-state executions/s on this "
        f"{os.cpu_count()}-core machine: {best.rate:,.0f}/s at {best.concurrency} starters "
        f"-> {_met(best.rate >= GOAL_EXECUTIONS_PER_SECOND)}"
    )
    if recovery is None:
        print(f"  recovery of running executions in < {GOAL_RECOVERY_SECONDS:g} s: not measured")
    else:
        print(
            f"  recovery of {recovery.count:,} running executions in < "
            f"{GOAL_RECOVERY_SECONDS:g} s: {recovery.ready_seconds:.2f} s -> "
            f"{_met(recovery.ready_seconds < GOAL_RECOVERY_SECONDS and recovery.running_after == recovery.count)}"
        )


def print_recovery(recovery: Recovery) -> None:
    print()
    print(f"recovery of {recovery.count:,} executions parked in a 1-hour Wait")
    print(
        f"  created by 256 starters in {recovery.create_seconds:.2f} s "
        f"({recovery.count / recovery.create_seconds:,.0f} durable starts/s)"
    )
    print(f"  StandardEngine.open() returned after   {recovery.open_seconds:>6.2f} s")
    print(f"  reactor had resumed them all after     {recovery.ready_seconds:>6.2f} s")
    print(f"  running after recovery: {recovery.running_after:,}")


# -- main ------------------------------------------------------------------------------


def scratch_directory() -> Path:
    """A fresh directory on the repository's disk (under /tmp when it is the same device)."""
    tmp = Path(tempfile.gettempdir())
    if tmp.stat().st_dev == REPO.stat().st_dev:
        return Path(tempfile.mkdtemp(prefix="cloudflow-bench-standard-", dir=tmp))
    parent = REPO / ".bench-tmp"
    parent.mkdir(exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="cloudflow-bench-standard-", dir=parent))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--seconds", type=float, default=4.0, help="measuring window per run (default 4)"
    )
    parser.add_argument("--skip-dbos", action="store_true", help="do not run DBOS Transact")
    parser.add_argument(
        "--recovery",
        type=int,
        default=10_000,
        metavar="N",
        help="executions to recover (default 10000; 0 skips)",
    )
    parser.add_argument(
        "--profile",
        type=int,
        metavar="CONCURRENCY",
        help="profile the engine with this many starters instead of benchmarking",
    )
    parser.add_argument("--keep", action="store_true", help="keep the SQLite files")
    args = parser.parse_args()

    directory = scratch_directory()
    print(f"SQLite files in {directory} (same device as {REPO})")
    print(
        f"python {sys.version.split()[0]}, uvloop {version('uvloop')}, "
        f"aiosqlite {aiosqlite.__version__}, SQLite {sqlite3.sqlite_version}, "
        f"{os.cpu_count()} CPUs, load average {_load()} (other work on the machine skews figures)"
    )
    try:
        if args.profile:
            uvloop.run(profile_engine(directory / "profile.db", args.profile, args.seconds))
            return
        run(args, directory)
    finally:
        if not args.keep:
            shutil.rmtree(directory, ignore_errors=True)


def run(args: argparse.Namespace, directory: Path) -> None:
    seconds = args.seconds
    engine = [
        uvloop.run(bench_engine(directory / f"engine-{c}.db", c, seconds)) for c in CONCURRENCIES
    ]
    rows, spent = uvloop.run(bench_ceiling(directory / "ceiling.db", min(seconds, 3.0)))
    ceiling = rows / spent

    dbos_runs: dict[str, list[Throughput]] = {}
    dbos_reason = "skipped (--skip-dbos)" if args.skip_dbos else dbos_unavailable()
    journal_modes: dict[str, str] = {}
    if dbos_reason is None:
        dbos_version = version("dbos")
        for label, wal in ((f"DBOS {dbos_version}", False), (f"DBOS {dbos_version} WAL", True)):
            path = directory / f"dbos-{'wal' if wal else 'default'}.sqlite"
            try:
                dbos_runs[label] = bench_dbos(path, seconds, wal)
                journal_modes[label] = dbos_journal_mode(path)
            except Exception as exc:  # report why DBOS could not run, and carry on
                dbos_reason = f"DBOS failed to run: {type(exc).__name__}: {exc}"
                break

    recovery = (
        uvloop.run(bench_recovery(directory / "recovery.db", args.recovery))
        if args.recovery > 0
        else None
    )

    print()
    print(f"load average at the end: {_load()}")
    print_throughput_table(engine, dbos_runs, seconds)
    print(
        "  cloudflow standard: journal_mode=wal, synchronous=FULL; transitions/s = 5 x exec/s; "
        "rows/s = events + executions"
    )
    for label, mode in journal_modes.items():
        print(
            f"  {label}: journal_mode={mode}, synchronous=FULL (SQLite default); "
            "transitions/s = steps checkpointed/s (operation_outputs)"
        )
    print()
    print(
        f"aiosqlite ceiling: {ceiling:,.0f} rows/s ({rows:,} event-shaped rows in batches of "
        f"{BATCH_ROWS}, one transaction per batch, WAL + synchronous=FULL, {spent:.1f} s)"
    )
    if recovery is not None:
        print_recovery(recovery)
    print_ratios(engine, dbos_runs, dbos_reason, ceiling, recovery)


if __name__ == "__main__":
    main()
