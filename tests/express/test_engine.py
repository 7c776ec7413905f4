"""The express engine: concurrency, cancellation, overload, time limits, retries, inputs,
``$Context``, the plan cache, and the inline runner's bounds.

Time limits run on a VirtualClock: five virtual minutes pass in milliseconds, and no test
asserts on real time.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import threading
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
import uvloop

from express_engine import ExpressEngine, PlanCache, VirtualClock
from express_engine.engine import STEPS_PER_TURN
from gateway.integrations import FunctionError
from shared import errors
from shared.compiler import compile_flow
from shared.errors import InvalidArgument, Overloaded, PayloadTooLarge
from shared.limits import Limits
from shared.plan import ExecutionMode
from shared.ports import TaskRequest
from shared.results import ExecutionResult, ExecutionStatus
from tests.express.doubles import (
    Blocker,
    ConcurrencyProbe,
    RecordingInvoker,
    engine_with,
    express,
    task_flow,
)

START = 1_700_000_000.0

MAP_OF_TASKS = """
Type: StateMachine
Name: fan-out
SpecVersion: v1
StartAt: Each
States:
  - Type: Map
    Name: Each
    ItemsPath: $Input.items
    {concurrency}
    Processor:
      StartAt: Work
      States:
        - Type: Task
          Name: Work
          Action: FC:InvokeFunction
          Parameters:
            functionName: work
            body.$: $Input
          OutputConstructor:
            done.$: $Output.Body
          End: true
    End: true
"""


# -- Map and Parallel concurrency --------------------------------------------------------


async def test_map_never_runs_more_iterations_than_max_concurrency() -> None:
    probe = ConcurrencyProbe()
    engine = engine_with({"work": probe})
    plan = express(MAP_OF_TASKS.format(concurrency="MaxConcurrency: 3"))

    result = await engine.run(plan, {"items": list(range(20))})

    assert result.status is ExecutionStatus.SUCCEEDED, result
    assert probe.calls == 20
    assert probe.peak == 3
    assert result.output == {"Items": [{"done": n} for n in range(20)]}


async def test_map_without_max_concurrency_runs_the_default_forty_at_once() -> None:
    probe = ConcurrencyProbe()
    engine = engine_with({"work": probe})
    plan = express(MAP_OF_TASKS.format(concurrency=""))

    result = await engine.run(plan, {"items": list(range(60))})

    assert result.status is ExecutionStatus.SUCCEEDED, result
    assert probe.peak == 40


async def test_parallel_first_failure_cancels_the_sibling() -> None:
    slow = Blocker()

    async def fail_soon(event: Any) -> Any:
        await slow.entered.wait()  # fail only once the sibling is surely in progress
        raise FunctionError("Boom", "the second branch failed")

    engine = engine_with({"slow": slow, "fail": fail_soon})
    plan = express("""
Type: StateMachine
Name: race
SpecVersion: v1
StartAt: Both
States:
  - Type: Parallel
    Name: Both
    Branches:
      - StartAt: Slow
        States:
          - Type: Task
            Name: Slow
            Action: FC:InvokeFunction
            Parameters: {functionName: slow, body: {}}
            End: true
      - StartAt: Fail
        States:
          - Type: Task
            Name: Fail
            Action: FC:InvokeFunction
            Parameters: {functionName: fail, body: {}}
            End: true
    End: true
""")

    result = await engine.run(plan, {})

    assert result.status is ExecutionStatus.FAILED
    assert result.error is not None
    assert (result.error.code, result.error.cause) == ("Boom", "the second branch failed")
    assert (slow.started, slow.cancelled, slow.completed) == (1, 1, 0)


async def test_map_iteration_failure_cancels_the_others() -> None:
    blocker = Blocker()

    async def work(item: int) -> int:
        if item == 2:
            while blocker.started < 4:  # fail once the four others are in progress
                await asyncio.sleep(0)
            raise FunctionError("BadItem", f"item {item}")
        return int(await blocker(item))

    engine = engine_with({"work": work})
    plan = express(MAP_OF_TASKS.format(concurrency="MaxConcurrency: 5"))

    result = await engine.run(plan, {"items": list(range(10))})

    assert result.status is ExecutionStatus.FAILED
    assert result.error is not None and result.error.code == "BadItem"
    # Items 0, 1, 3 and 4 were in progress and were cancelled; 5 to 9 never started.
    assert (blocker.started, blocker.cancelled, blocker.completed) == (4, 4, 0)


# -- overload ----------------------------------------------------------------------------


async def test_past_max_running_new_executions_are_refused_until_some_finish() -> None:
    blocker = Blocker()
    engine = engine_with({"wait": blocker}, max_running=3)
    plan = express(task_flow("wait"))

    running = [asyncio.create_task(engine.run(plan, {"n": n})) for n in range(3)]
    while blocker.started < 3:
        await asyncio.sleep(0)
    assert engine.running == 3

    with pytest.raises(Overloaded) as refused:
        await engine.run(plan, {"n": 3})
    assert refused.value.code == "Overloaded"
    assert "overloaded" in refused.value.message
    assert "max_running=3" in refused.value.message
    assert "retry later" in refused.value.message

    blocker.release.set()
    results = await asyncio.gather(*running)
    assert [r.status for r in results] == [ExecutionStatus.SUCCEEDED] * 3
    assert engine.running == 0
    accepted = await engine.run(plan, {"n": 4})
    assert accepted.status is ExecutionStatus.SUCCEEDED


async def test_a_refused_or_invalid_start_does_not_count_as_running() -> None:
    engine = engine_with({}, max_running=1)
    plan = express(task_flow("missing"))
    with pytest.raises(InvalidArgument):
        await engine.run(plan, [])  # type: ignore[arg-type]
    assert engine.running == 0
    result = await engine.run(plan, {})
    assert result.error is not None and result.error.code == errors.FC_FUNCTION_NOT_FOUND
    assert engine.running == 0


# -- time limits, in virtual time --------------------------------------------------------


async def test_a_wait_past_five_minutes_times_out_at_300_virtual_seconds() -> None:
    clock = VirtualClock(START)
    engine = engine_with({}, clock=clock)
    plan = express("""
Type: StateMachine
Name: sleepy
SpecVersion: v1
StartAt: Nap
States:
  - Type: Wait
    Name: Nap
    Seconds.$: $Input.seconds
    End: true
""")

    result = await engine.run(plan, {"seconds": 400})

    assert result.status is ExecutionStatus.TIMED_OUT
    assert result.error is not None and result.error.code == errors.TIMEOUT
    assert "300 seconds" in result.error.cause
    assert (result.started_at, result.stopped_at) == (START, START + 300)
    # The cancelled Wait left a sleeper at +400; it must not move time any more.
    for _ in range(VirtualClock.IDLE_SPINS * 3):
        await asyncio.sleep(0)
    assert clock.now() == START + 300


async def test_a_task_awaiting_forever_is_cancelled_at_the_five_minute_limit() -> None:
    clock = VirtualClock(START)
    forever = Blocker()
    engine = engine_with({"forever": forever}, clock=clock)

    result = await engine.run(express(task_flow("forever")), {})

    assert result.status is ExecutionStatus.TIMED_OUT
    assert result.error is not None and result.error.code == errors.TIMEOUT
    assert result.stopped_at - result.started_at == 300
    assert (forever.started, forever.cancelled, forever.completed) == (1, 1, 0)


async def test_the_flows_own_timeout_ends_it_and_cannot_be_caught() -> None:
    clock = VirtualClock(START)
    forever = Blocker()
    engine = engine_with({"forever": forever}, clock=clock)
    catch_all = """
    Catch:
      - Errors: [FnF.ALL]
        Next: Caught"""
    definition = task_flow("forever", extra=catch_all, flow_extra="Timeout: 10")
    definition = definition.replace(
        "    End: true\n", "    End: true\n  - {Type: Pass, Name: Caught, End: true}\n"
    )

    result = await engine.run(express(definition), {})

    assert result.status is ExecutionStatus.TIMED_OUT
    assert result.error is not None and result.error.code == errors.TIMEOUT
    assert "10 seconds" in result.error.cause
    assert result.stopped_at == START + 10
    assert forever.cancelled == 1


async def test_task_timeout_fails_the_task_in_virtual_time() -> None:
    clock = VirtualClock(START)
    forever = Blocker()
    engine = engine_with({"forever": forever}, clock=clock)
    definition = task_flow("forever", extra="    Timeout: 10")

    result = await engine.run(express(definition), {})

    assert result.status is ExecutionStatus.FAILED
    assert result.error is not None and result.error.code == errors.TIMEOUT
    assert "Call" in result.error.cause and "10 seconds" in result.error.cause
    assert result.stopped_at == START + 10
    assert (forever.cancelled, forever.completed) == (1, 0)


async def test_retry_back_off_delays_grow_and_are_capped() -> None:
    clock = VirtualClock(START)
    calls: list[float] = []

    async def flaky(event: Any) -> Any:
        calls.append(clock.now())
        if len(calls) <= 3:
            raise FunctionError("Flaky", f"attempt {len(calls)}")
        return {"attempts": len(calls)}

    retry = """
    Retry:
      - Errors: [Flaky]
        MaxAttempts: 3
        IntervalSeconds: 2
        BackoffRate: 2
        MaxBackoffSeconds: 5"""
    engine = engine_with({"flaky": flaky}, clock=clock)

    result = await engine.run(express(task_flow("flaky", extra=retry)), {})

    assert result.status is ExecutionStatus.SUCCEEDED, result
    assert result.output == {"Body": {"attempts": 4}}
    assert [later - earlier for earlier, later in itertools.pairwise(calls)] == [2, 4, 5]


ENDLESS = """
Type: StateMachine
Name: endless
SpecVersion: v1
StartAt: Again
States:
  - Type: Choice
    Name: Again
    Branches:
      - Condition: $Input.n >= 0
        Next: Step
    Default: Done
  - Type: Pass
    Name: Step
    OutputConstructor:
      n.$: $Input.n + 1
    Next: Again
  - Type: Succeed
    Name: Done
"""


async def _run_endless_flow_and_move_time() -> ExecutionResult:
    clock = VirtualClock(START)
    engine = engine_with({}, clock=clock)
    execution = asyncio.create_task(engine.run(express(ENDLESS), {"n": 0}))
    # This coroutine only gets to run if the endless execution hands the event loop over.
    for _ in range(3):
        await asyncio.sleep(0)
    clock.advance(301)
    return await execution


@pytest.mark.parametrize("run_loop", [asyncio.run, uvloop.run], ids=["asyncio", "uvloop"])
def test_an_endless_choice_loop_times_out_without_blocking_the_event_loop(
    run_loop: Callable[[Coroutine[Any, Any, ExecutionResult]], ExecutionResult],
) -> None:
    # In a thread of its own, so that an engine that never hands the loop over makes
    # this test fail after a while instead of hanging the whole run.
    results: list[ExecutionResult] = []
    thread = threading.Thread(
        target=lambda: results.append(run_loop(_run_endless_flow_and_move_time())), daemon=True
    )
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive(), "the endless execution never handed the event loop over"
    (result,) = results
    assert result.status is ExecutionStatus.TIMED_OUT
    assert result.error is not None and result.error.code == errors.TIMEOUT


# -- inputs ------------------------------------------------------------------------------

PASS = """
Type: StateMachine
Name: echo
SpecVersion: v1
StartAt: Echo
States:
  - {Type: Pass, Name: Echo, End: true}
"""


@pytest.mark.parametrize("value", [[], "text", 3, None, True])
async def test_an_input_that_is_not_an_object_is_invalid(value: Any) -> None:
    with pytest.raises(InvalidArgument, match="must be a JSON object"):
        await engine_with({}).run(express(PASS), value)


@pytest.mark.parametrize("value", [{"n": math.nan}, {"s": {1, 2}}])
async def test_an_input_that_is_not_json_is_invalid(value: Any) -> None:
    with pytest.raises(InvalidArgument, match="not valid JSON"):
        await engine_with({}).run(express(PASS), value)


async def test_an_input_over_the_payload_limit_is_refused() -> None:
    engine = engine_with({}, limits=Limits(max_payload_bytes=100))
    at_limit = {"s": "x" * 92}  # {"s":"…"} is 8 bytes of JSON around the string
    result = await engine.run(express(PASS), at_limit)
    assert result.status is ExecutionStatus.SUCCEEDED

    with pytest.raises(PayloadTooLarge, match="101 bytes, over the limit of 100 bytes"):
        await engine.run(express(PASS), {"s": "x" * 93})
    with pytest.raises(PayloadTooLarge, match="over the limit"):
        await engine.run(express(PASS), {"s": "é" * 47})  # 55 characters, 102 bytes in UTF-8


# -- $Context ----------------------------------------------------------------------------

CONTEXT = """
Type: StateMachine
Name: ctx-definition
SpecVersion: v1
StartAt: Show
States:
  - Type: Pass
    Name: Show
    OutputConstructor:
      name.$: $Context.Execution.Name
      start.$: $Context.Execution.StartTime
      input.$: $Context.Execution.Input
      flow.$: $Context.Flow.Name
      state.$: $Context.Current.Name
    End: true
"""


async def test_context_shows_the_execution_name_start_time_input_and_flow() -> None:
    engine = engine_with({}, clock=VirtualClock(START + 0.25))

    result = await engine.run(
        express(CONTEXT), {"a": 1}, flow_name="orders", execution_name="run-1"
    )

    assert result.output == {
        "name": "run-1",
        "start": "2023-11-14T22:13:20.250Z",
        "input": {"a": 1},
        "flow": "orders",
        "state": "Show",
    }
    assert (result.name, result.flow_name) == ("run-1", "orders")


async def test_generated_execution_names_are_unique_version_4_uuids() -> None:
    engine = engine_with({})
    plan = express(CONTEXT)

    results = [await engine.run(plan, {}) for _ in range(50)]

    names = [r.name for r in results]
    assert len(set(names)) == 50
    assert all(uuid.UUID(name).version == 4 and str(uuid.UUID(name)) == name for name in names)
    assert all(r.output["name"] == r.name for r in results)
    assert results[0].flow_name == "ctx-definition"  # the definition's Name when none is given


async def test_start_time_text_follows_the_clock_across_seconds() -> None:
    clock = VirtualClock(START + 0.999)
    engine = engine_with({}, clock=clock)
    plan = express(CONTEXT)
    first = await engine.run(plan, {})
    clock.advance(0.002)
    second = await engine.run(plan, {})
    clock.advance(86_400)
    third = await engine.run(plan, {})
    assert [r.output["start"] for r in (first, second, third)] == [
        "2023-11-14T22:13:20.999Z",
        "2023-11-14T22:13:21.001Z",
        "2023-11-15T22:13:21.001Z",
    ]


# -- the plan cache ----------------------------------------------------------------------


def test_the_plan_cache_compiles_each_revision_once(monkeypatch: pytest.MonkeyPatch) -> None:
    compiled: list[str] = []

    def counting_compile(definition: str, mode: ExecutionMode, limits: Limits) -> Any:
        compiled.append(definition)
        return compile_flow(definition, mode, limits)

    monkeypatch.setattr("express_engine.plans.compile_flow", counting_compile)
    cache = PlanCache()
    v2 = PASS.replace("Name: echo", "Name: echo-2")

    first = cache.get("echo", 1, PASS)
    again = cache.get("echo", 1, PASS)
    assert again is first and len(compiled) == 1

    second = cache.get("echo", 2, v2)
    assert second is not first and second.name == "echo-2" and len(compiled) == 2
    assert cache.get("other", 1, PASS) is not first and len(compiled) == 3
    assert cache.get("echo", 1, PASS) is first and len(compiled) == 3
    assert len(cache) == 3


def test_the_plan_cache_forgets_the_least_recently_used_plan() -> None:
    cache = PlanCache(size=2)
    a = cache.get("a", 1, PASS)
    cache.get("b", 1, PASS)
    cache.get("a", 1, PASS)  # a is now the most recent
    cache.get("c", 1, PASS)  # evicts b
    assert cache.get("a", 1, PASS) is a
    assert len(cache) == 2


# -- turns: long synchronous work hands the event loop over --------------------------

COUNTING_LOOP = """
Type: StateMachine
Name: counting
SpecVersion: v1
StartAt: Again
States:
  - Type: Choice
    Name: Again
    Branches:
      - Condition: $Input.n < $Input.limit
        Next: Step
    Default: Done
  - Type: Pass
    Name: Step
    OutputConstructor:
      n.$: $Input.n + 1
      limit.$: $Input.limit
    Next: Again
  - Type: Succeed
    Name: Done
"""

LONG_ITEMS = """
Type: StateMachine
Name: long-items
SpecVersion: v1
StartAt: Init
States:
  - Type: Pass
    Name: Init
    GlobalConstructor:
      count: 0
    Next: Each
  - Type: Map
    Name: Each
    ItemsPath: $Input.items
    Processor:
      StartAt: Again
      States:
        - Type: Choice
          Name: Again
          Branches:
            - Condition: $Input.n < 150
              Next: Step
          Default: Done
        - Type: Pass
          Name: Step
          OutputConstructor:
            n.$: $Input.n + 1
          GlobalConstructor:
            count.$: $Global.count + 1
          Next: Again
        - Type: Succeed
          Name: Done
    OutputConstructor:
      items.$: length($Output.Items)
      count.$: $Global.count
    End: true
"""


class Ticker:
    """Counts the turns of the event loop it gets while something else runs."""

    def __init__(self) -> None:
        self.ticks = 0
        self._task = asyncio.create_task(self._tick())

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(0)
            self.ticks += 1

    def stop(self) -> int:
        self._task.cancel()
        return self.ticks


async def run_beside_a_ticker(engine: ExpressEngine, definition: str, data: Any) -> tuple[Any, int]:
    ticker = Ticker()
    await asyncio.sleep(0)  # let the ticker start
    before = ticker.ticks
    result = await engine.run(express(definition), data)
    return result, ticker.stop() - before


async def test_a_short_synchronous_flow_runs_in_one_turn() -> None:
    result, ticks = await run_beside_a_ticker(engine_with({}), COUNTING_LOOP, {"n": 0, "limit": 10})
    assert result.output == {"n": 10, "limit": 10}
    assert ticks == 0


async def test_a_long_synchronous_flow_hands_the_loop_over_and_gives_the_same_result() -> None:
    loops = STEPS_PER_TURN * 2  # two transitions per loop: four turns' worth
    result, ticks = await run_beside_a_ticker(
        engine_with({}), COUNTING_LOOP, {"n": 0, "limit": loops}
    )
    assert result.output == {"n": loops, "limit": loops}
    assert ticks >= 3


async def test_long_map_iterations_are_redone_with_global_restored() -> None:
    items = [{"n": 0}] * 40  # 40 x 301 transitions: more than two turns' worth
    result, ticks = await run_beside_a_ticker(engine_with({}), LONG_ITEMS, {"items": items})
    assert result.status is ExecutionStatus.SUCCEEDED, result
    # An item cut short is redone from its start with $Global as it was then, so the
    # count is exact, not inflated by the increments of the dropped attempt.
    assert result.output == {"items": 40, "count": 40 * 150}
    assert ticks >= 2


RETRIED_PARALLEL = """
Type: StateMachine
Name: retried-parallel
SpecVersion: v1
StartAt: Both
States:
  - Type: Parallel
    Name: Both
    Branches:
      - StartAt: Ok
        States:
          - {{Type: Pass, Name: Ok, End: true}}
      - StartAt: Oops
        States:
          - {{Type: Fail, Name: Oops, Code: Oops, Detail: always}}
    Retry:
      - Errors: [Oops]
        MaxAttempts: 2
        IntervalSeconds: {interval}
    Catch:
      - Errors: [Oops]
        Next: Caught
    End: true
  - Type: Pass
    Name: Caught
    OutputConstructor:
      code.$: $Input.Code
    End: true
"""


@pytest.mark.parametrize(("interval", "elapsed"), [(3, 6), (0, 0)])
async def test_a_synchronous_parallel_waits_out_its_retry_back_off(
    interval: int, elapsed: float
) -> None:
    # Without a delay the Parallel retries inline at once; with one it must sleep, so
    # it runs on the coroutine runner even though none of its states awaits.
    clock = VirtualClock(START)
    engine = engine_with({}, clock=clock)

    result = await engine.run(express(RETRIED_PARALLEL.format(interval=interval)), {})

    assert result.status is ExecutionStatus.SUCCEEDED, result
    assert result.output == {"code": "Oops"}
    assert result.stopped_at - result.started_at == elapsed


# -- task modes and integration failures -------------------------------------------------


async def test_only_request_complete_tasks_run_on_the_express_engine() -> None:
    invoker = RecordingInvoker()
    callback = task_flow("f", extra="    TaskMode: WaitForCustomCallback")
    standard_plan = compile_flow(callback, ExecutionMode.STANDARD)  # Express would reject it

    result = await ExpressEngine(invoker).run(standard_plan, {})

    assert result.status is ExecutionStatus.FAILED
    assert result.error is not None and result.error.code == errors.TASK_FAILED
    assert "RequestComplete" in result.error.cause
    assert invoker.requests == []


async def test_an_invoker_crash_fails_the_task_with_task_failed() -> None:
    def crash(request: TaskRequest) -> Any:
        raise TimeoutError("the integration gave up")  # not the task's own Timeout

    result = await ExpressEngine(RecordingInvoker(crash)).run(express(task_flow("f")), {})

    assert result.error is not None and result.error.code == errors.TASK_FAILED
    assert "TimeoutError: the integration gave up" in result.error.cause


async def test_the_task_request_carries_parameters_names_and_attempt() -> None:
    invoker = RecordingInvoker(lambda request: {"seen": request.parameters["body"]})
    result = await ExpressEngine(invoker).run(
        express(task_flow("f")), {"k": "v"}, execution_name="exec-7"
    )
    assert result.output == {"seen": {"k": "v"}}
    (request,) = invoker.requests
    assert (request.execution_name, request.state_name, request.attempt) == ("exec-7", "Call", 0)
    assert request.parameters == {"functionName": "f", "body": {"k": "v"}}
    assert dict(request.headers) == {}  # no trace context while tracing is off
