"""The standard engine against a real SQLite file: durability, time, names, tokens, paging."""

from __future__ import annotations

import asyncio
import collections
import json

import pytest

from shared.errors import (
    ExecutionAlreadyExists,
    ExecutionNotFound,
    InvalidArgument,
    ServiceError,
    TaskNotWaiting,
)
from shared.limits import Limits
from shared.results import ExecutionStatus
from tests.standard.conftest import Harness

DAY = 86_400.0

WAIT_30_DAYS = """
Type: StateMachine
Name: month
SpecVersion: v1
StartAt: Sleep
States:
  - Type: Wait
    Name: Sleep
    Seconds: 2592000
    Next: Done
  - Type: Pass
    Name: Done
    OutputConstructor:
      woke: true
    End: true
"""

CALLBACK = """
Type: StateMachine
Name: approval
SpecVersion: v1
StartAt: Ask
States:
  - Type: Task
    Name: Ask
    Action: FC:InvokeFunction
    TaskMode: WaitForCustomCallback
    Parameters:
      functionName: notify
      body:
        token.$: $Context.Current.TaskToken
    End: true
"""

ONE_TASK = """
Type: StateMachine
Name: one
SpecVersion: v1
StartAt: Call
States:
  - Type: Task
    Name: Call
    Action: FC:InvokeFunction
    Parameters:
      functionName: slow
      body:
        n.$: $Input.n
    End: true
"""


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_a_thirty_day_wait_survives_a_restart_and_runs_in_virtual_time(
    harness: Harness,
) -> None:
    await harness.open()
    await harness.start(WAIT_30_DAYS, "w1")
    harness.clock.advance(10 * DAY)
    await settle()
    await harness.close()  # as if the process stopped; the timer is stored as an instant
    engine = await harness.open()
    info = await engine.describe_execution("flow", "w1")
    assert info.status is ExecutionStatus.RUNNING
    harness.clock.advance(19 * DAY)
    await settle()
    assert (await engine.describe_execution("flow", "w1")).status is ExecutionStatus.RUNNING
    harness.clock.advance(1 * DAY + 1)
    info = await harness.wait("w1")
    assert info.status is ExecutionStatus.SUCCEEDED
    assert json.loads(info.output) == {"woke": True}


async def test_the_one_year_limit_times_the_execution_out(harness: Harness) -> None:
    await harness.open()
    flow = WAIT_30_DAYS.replace("Seconds: 2592000", "Seconds: 31536000")
    await harness.start(flow, "long")
    harness.clock.advance(365 * DAY)
    info = await harness.wait("long")
    assert info.status is ExecutionStatus.TIMED_OUT
    assert info.error_code == "FnF.Timeout"


async def test_start_is_idempotent_for_a_running_name_and_refuses_a_finished_one(
    harness: Harness,
) -> None:
    engine = await harness.open()
    first = await harness.start(WAIT_30_DAYS, "same")
    again = await harness.start(WAIT_30_DAYS, "same")
    assert again.status is ExecutionStatus.RUNNING and again.started_at == first.started_at
    await engine.stop_execution("flow", "same", "Cancelled", "no longer needed")
    with pytest.raises(ExecutionAlreadyExists):
        await harness.start(WAIT_30_DAYS, "same")


async def test_bad_names_and_inputs_are_refused(harness: Harness) -> None:
    await harness.open()
    with pytest.raises(InvalidArgument, match="execution name"):
        await harness.start(WAIT_30_DAYS, "9starts-with-digit")
    engine = harness.engine
    assert engine is not None
    with pytest.raises(InvalidArgument, match="JSON object"):
        await engine.start_execution("flow", 1, WAIT_30_DAYS, "x", "[1, 2]")
    with pytest.raises(InvalidArgument, match="not valid JSON"):
        await engine.start_execution("flow", 1, WAIT_30_DAYS, "x", "{nope")
    with pytest.raises(ExecutionNotFound):
        await engine.describe_execution("flow", "missing")


async def test_stop_ends_the_execution_and_cancels_its_task(harness: Harness) -> None:
    cancelled = asyncio.Event()

    @harness.function("slow")
    async def slow(event: object) -> object:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return event

    engine = await harness.open()
    await harness.start(ONE_TASK, "s1", {"n": 1})
    await settle()
    info = await engine.stop_execution("flow", "s1", "Operator", "stopped by hand")
    assert info.status is ExecutionStatus.STOPPED
    assert (info.error_code, info.error_message) == ("Operator", "stopped by hand")
    await asyncio.wait_for(cancelled.wait(), 5)
    events, _ = await engine.get_execution_history("flow", "s1", 100, "")
    assert events[-1].type == "ExecutionStopped"


async def test_task_tokens_reject_forgeries_duplicates_and_late_reports(harness: Harness) -> None:
    tokens: list[str] = []

    @harness.function("notify")
    async def notify(event: dict[str, str]) -> dict[str, bool]:
        tokens.append(event["token"])
        return {"sent": True}

    engine = await harness.open()
    await harness.start(CALLBACK, "c1")
    for _ in range(200):
        if tokens:
            break
        await asyncio.sleep(0.01)
    token = tokens[0]
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(InvalidArgument):
        await engine.report_task_succeeded(forged, "{}")
    with pytest.raises(InvalidArgument):
        await engine.report_task_succeeded("not-a-token", "{}")
    assert await engine.report_task_heartbeat(token) > 0
    event_id = await engine.report_task_succeeded(token, json.dumps({"approved": True}))
    assert event_id > 0
    with pytest.raises(TaskNotWaiting):
        await engine.report_task_succeeded(token, "{}")
    info = await harness.wait("c1")
    assert info.status is ExecutionStatus.SUCCEEDED
    assert json.loads(info.output) == {"approved": True}


async def test_a_callback_token_stays_valid_across_a_restart(harness: Harness) -> None:
    tokens: list[str] = []

    @harness.function("notify")
    async def notify(event: dict[str, str]) -> dict[str, bool]:
        tokens.append(event["token"])
        return {"sent": True}

    await harness.open()
    await harness.start(CALLBACK, "c2")
    for _ in range(200):
        if tokens:
            break
        await asyncio.sleep(0.01)
    await harness.close()
    engine = await harness.open()
    await engine.report_task_failed(tokens[0], "Rejected", "over budget")
    info = await harness.wait("c2")
    assert (info.status, info.error_code, info.error_message) == (
        ExecutionStatus.FAILED,
        "Rejected",
        "over budget",
    )


async def test_an_unfinished_task_is_called_again_after_a_restart(harness: Harness) -> None:
    calls: list[int] = []
    release = asyncio.Event()

    @harness.function("slow")
    async def slow(event: dict[str, int]) -> dict[str, int]:
        calls.append(event["n"])
        await release.wait()
        return {"double": event["n"] * 2}

    await harness.open()
    await harness.start(ONE_TASK, "t1", {"n": 21})
    for _ in range(200):
        if calls:
            break
        await asyncio.sleep(0.01)
    await harness.close()  # the call's outcome was never committed
    release.set()
    await harness.open()
    info = await harness.wait("t1")
    assert info.status is ExecutionStatus.SUCCEEDED
    assert json.loads(info.output) == {"Body": {"double": 42}}
    assert calls == [21, 21]  # at-least-once: called again after the restart


async def test_list_filters_and_pages_newest_first(harness: Harness) -> None:
    engine = await harness.open()
    for i in range(7):
        await harness.start(WAIT_30_DAYS, f"job-{i}")
        harness.clock.advance(1)
    await harness.start(WAIT_30_DAYS, "other-1")
    await engine.stop_execution("flow", "job-3", "Stop", "")
    seen: list[str] = []
    token = ""
    while True:
        page, token = await engine.list_executions(
            "flow", name_prefix="job-", page_size=3, page_token=token
        )
        seen += [info.name for info in page]
        if not token:
            break
    assert seen == [f"job-{i}" for i in reversed(range(7))]
    stopped, _ = await engine.list_executions("flow", status=ExecutionStatus.STOPPED)
    assert [info.name for info in stopped] == ["job-3"]
    with pytest.raises(InvalidArgument):
        await engine.list_executions("flow", page_token="garbage!")


async def test_history_pages_have_no_gaps(harness: Harness) -> None:
    flow = """
Type: StateMachine
Name: loop
SpecVersion: v1
StartAt: More
States:
  - Type: Choice
    Name: More
    Branches:
      - Condition: $Input.n > 0
        Next: Dec
    Default: Done
  - Type: Pass
    Name: Dec
    OutputConstructor:
      n.$: $Input.n - 1
    Next: More
  - Type: Succeed
    Name: Done
"""
    engine = await harness.open()
    await harness.start(flow, "l1", {"n": 30})
    info = await harness.wait("l1")
    assert info.status is ExecutionStatus.SUCCEEDED
    ids: list[int] = []
    token = ""
    while True:
        page, token = await engine.get_execution_history("flow", "l1", 17, token)
        ids += [e.event_id for e in page]
        if not token:
            break
    assert ids == list(range(1, len(ids) + 1))
    assert len(ids) == 2 + 4 * 30 + 2 + 2


async def test_history_limit_fails_the_execution(harness: Harness) -> None:
    flow = """
Type: StateMachine
Name: forever
SpecVersion: v1
StartAt: A
States:
  - Type: Pass
    Name: A
    Next: B
  - Type: Pass
    Name: B
    Next: A
"""
    await harness.open(limits=Limits(max_history_events=50))
    await harness.start(flow, "f1")
    info = await harness.wait("f1")
    assert info.status is ExecutionStatus.FAILED
    assert info.error_code == "FnF.RuntimeError" and "history" in (info.error_message or "")


async def test_retention_purges_old_finished_executions(harness: Harness) -> None:
    flow = WAIT_30_DAYS.replace("Seconds: 2592000", "Seconds: 1")
    engine = await harness.open(retention_seconds=DAY)
    await harness.start(flow, "old")
    harness.clock.advance(2)
    assert (await harness.wait("old")).status is ExecutionStatus.SUCCEEDED
    harness.clock.advance(2 * DAY)
    await engine.close()
    engine = await harness.open(retention_seconds=DAY)
    for _ in range(100):
        try:
            await engine.describe_execution("flow", "old")
        except ExecutionNotFound:
            break
        await asyncio.sleep(0.02)
    with pytest.raises(ExecutionNotFound):
        await engine.describe_execution("flow", "old")


async def test_a_restart_in_the_middle_of_a_large_map_redoes_only_unfinished_iterations(
    harness: Harness,
) -> None:
    flow = """
Type: StateMachine
Name: big
SpecVersion: v1
StartAt: Each
States:
  - Type: Map
    Name: Each
    ItemsPath: $Input.items
    MaxConcurrency: 40
    Processor:
      StartAt: Call
      States:
        - Type: Task
          Name: Call
          Action: FC:InvokeFunction
          Parameters:
            functionName: slow
            body:
              n.$: $Input
          OutputConstructor:
            n.$: $Output.Body.n
          End: true
    OutputConstructor:
      count.$: length($Output.Items)
      last.$: $Output.Items[999].n
    End: true
"""
    calls: collections.Counter[int] = collections.Counter()

    @harness.function("slow")
    async def slow(event: dict[str, int]) -> dict[str, int]:
        calls[event["n"]] += 1
        await asyncio.sleep(0.001)
        return event

    await harness.open()
    await harness.start(flow, "m1", {"items": list(range(1000))})
    while sum(calls.values()) < 400:
        await asyncio.sleep(0.005)
    await harness.close()
    first_round = sum(calls.values())
    await harness.open()
    info = await harness.wait("m1", seconds=60)
    assert info.status is ExecutionStatus.SUCCEEDED
    assert json.loads(info.output) == {"count": 1000, "last": 999}
    assert set(calls) == set(range(1000))
    repeated = sum(calls.values()) - 1000
    # Only iterations in flight when the engine stopped (at most MaxConcurrency) run twice.
    assert 0 <= repeated <= 40, (first_round, repeated)


async def test_stop_during_a_wait_cancels_its_timer(harness: Harness) -> None:
    engine = await harness.open()
    await harness.start(WAIT_30_DAYS, "stop-wait")
    await settle()
    info = await engine.stop_execution("flow", "stop-wait", "", "")
    assert info.status is ExecutionStatus.STOPPED and info.error_code == "FnF.Stopped"
    harness.clock.advance(31 * DAY)
    await settle()
    events, _ = await engine.get_execution_history("flow", "stop-wait", 100, "")
    assert [e.type for e in events][-1] == "ExecutionStopped"
    assert "StepExited" not in [e.type for e in events]


async def test_stop_during_a_map_cancels_every_iteration(harness: Harness) -> None:
    flow = """
Type: StateMachine
Name: mapstop
SpecVersion: v1
StartAt: Each
States:
  - Type: Map
    Name: Each
    ItemsPath: $Input.items
    MaxConcurrency: 3
    Processor:
      StartAt: Call
      States:
        - Type: Task
          Name: Call
          Action: FC:InvokeFunction
          Parameters:
            functionName: slow
            body:
              n.$: $Input
          End: true
    End: true
"""
    started: list[int] = []
    cancelled: list[int] = []

    @harness.function("slow")
    async def slow(event: dict[str, int]) -> dict[str, int]:
        started.append(event["n"])
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(event["n"])
            raise
        return event

    engine = await harness.open()
    await harness.start(flow, "stop-map", {"items": list(range(10))})
    while len(started) < 3:
        await asyncio.sleep(0.01)
    info = await engine.stop_execution("flow", "stop-map", "Cancelled", "enough")
    assert info.status is ExecutionStatus.STOPPED
    for _ in range(100):
        if len(cancelled) == 3:
            break
        await asyncio.sleep(0.01)
    assert sorted(cancelled) == sorted(started) and len(started) == 3
    await settle()
    assert len(started) == 3  # no further iteration started after the stop


async def test_a_map_of_thousands_of_inline_iterations_does_not_recurse(harness: Harness) -> None:
    flow = """
Type: StateMachine
Name: wide
SpecVersion: v1
StartAt: Each
States:
  - Type: Map
    Name: Each
    ItemsPath: $Input.items
    Processor:
      StartAt: Double
      States:
        - Type: Pass
          Name: Double
          OutputConstructor:
            v.$: $Input * 2
          End: true
    OutputConstructor:
      count.$: length($Output.Items)
      last.$: $Output.Items[4999].v
    End: true
"""
    await harness.open()
    await harness.start(flow, "wide", {"items": list(range(5000))})
    info = await harness.wait("wide", seconds=60)
    assert info.status is ExecutionStatus.SUCCEEDED
    assert json.loads(info.output) == {"count": 5000, "last": 9998}


async def test_a_bug_while_applying_stops_the_engine_instead_of_hanging_callers(
    harness: Harness,
) -> None:
    engine = await harness.open()

    def broken(tick: object) -> None:
        raise RuntimeError("a bug")

    with pytest.raises(ServiceError, match="stopped"):
        await engine._submit(broken)  # an input whose apply crashes, as a bug would
    with pytest.raises(ServiceError, match="restart"):
        await harness.start(WAIT_30_DAYS, "after")


async def test_executions_started_without_a_name_get_valid_unique_names(harness: Harness) -> None:
    engine = await harness.open()
    names = {
        (await engine.start_execution("flow", 1, WAIT_30_DAYS, None, "{}")).name for _ in range(40)
    }
    assert len(names) == 40
    assert all(name.startswith("exec-") for name in names)
    for name in names:
        assert (await engine.describe_execution("flow", name)).status is ExecutionStatus.RUNNING


async def test_finished_executions_leave_no_timers_behind(harness: Harness) -> None:
    flow = WAIT_30_DAYS.replace("Seconds: 2592000", "Seconds: 1")
    engine = await harness.open()
    for i in range(300):
        await harness.start(flow, f"t{i}")
    harness.clock.advance(2)
    for i in range(300):
        assert (await harness.wait(f"t{i}")).status is ExecutionStatus.SUCCEEDED
    quick = WAIT_30_DAYS.replace("Seconds: 2592000", "Seconds: 0")
    for i in range(1200):
        await harness.start(quick, f"q{i}", flow="quick")
    # Every execution armed a one-year deadline; the finished ones' must not pile up.
    assert engine.running_count == 0
    assert len(engine._timers) <= 1024


async def test_a_flow_created_again_under_its_old_name_runs_its_new_definition(
    harness: Harness,
) -> None:
    old = WAIT_30_DAYS.replace("woke: true", "version: old")
    new = WAIT_30_DAYS.replace("woke: true", "version: new")
    await harness.open()
    await harness.start(old, "before")  # revision 1 of the first flow of that name
    await harness.close()
    await harness.open()
    await harness.start(new, "after")  # revision 1 again, after a delete and a create
    harness.clock.advance(31 * DAY)
    assert json.loads((await harness.wait("before")).output) == {"version": "old"}
    assert json.loads((await harness.wait("after")).output) == {"version": "new"}


async def test_a_report_with_nan_is_refused_and_the_engine_carries_on(harness: Harness) -> None:
    tokens: list[str] = []

    @harness.function("notify")
    async def notify(event: dict[str, str]) -> dict[str, bool]:
        tokens.append(event["token"])
        return {"sent": True}

    engine = await harness.open()
    await harness.start(CALLBACK, "n1")
    while not tokens:
        await asyncio.sleep(0.01)
    with pytest.raises(InvalidArgument, match="NaN"):
        await engine.report_task_succeeded(tokens[0], '{"x": NaN}')
    with pytest.raises(InvalidArgument, match="NaN"):
        await engine.start_execution("flow", 1, WAIT_30_DAYS, "n2", '{"x": NaN}')
    await engine.report_task_succeeded(tokens[0], '{"x": 1}')
    assert (await harness.wait("n1")).status is ExecutionStatus.SUCCEEDED


async def test_execution_ids_are_never_reused_after_a_purge(harness: Harness) -> None:
    flow = WAIT_30_DAYS.replace("Seconds: 2592000", "Seconds: 0")
    engine = await harness.open(retention_seconds=1)
    await harness.start(flow, "old")
    assert (await harness.wait("old")).status is ExecutionStatus.SUCCEEDED
    first_id = await engine._store.max_execution_id()
    harness.clock.advance(10)
    while await engine._store.finished_before(harness.clock.now(), 10):
        await asyncio.sleep(0.05)
    await harness.close()
    engine = await harness.open()
    await harness.start(flow, "new")
    assert await engine._store.max_execution_id() == first_id + 1
