"""The pure semantics of each state type, driven directly through plan nodes, without an engine.

Each test compiles a small flow, takes a state from its plan and calls ``enter``,
``finish``/``finish_branches``/``finish_items`` and ``recover`` as an engine would, with a
:class:`RunContext` and a deterministic :class:`Entropy` double.
"""

from __future__ import annotations

import math
import sys
import textwrap
from typing import Any

import pytest

from shared import errors
from shared.compiler import compile_flow
from shared.context import RunContext
from shared.errors import FlowError
from shared.limits import DEFAULT_LIMITS, Limits
from shared.outcomes import (
    Advance,
    Failed,
    RetryAfter,
    RunBranches,
    RunIterations,
    RunTask,
    WaitUntil,
)
from shared.plan import FlowPlan, ScopePlan, State
from shared.ports import TaskMode
from shared.states.choice import ChoiceState
from shared.states.fail import FailState
from shared.states.map import MapState
from shared.states.parallel import ParallelState
from shared.states.pass_ import PassState
from shared.states.rules import RetryRule
from shared.states.succeed import SucceedState
from shared.states.task import TaskState
from shared.states.wait import WaitState

NOW = 1_700_000_000.0


class FixedEntropy:
    """Deterministic randomness: counting uuids, and the low end of every range."""

    def __init__(self) -> None:
        self.count = 0

    def uuid4(self) -> str:
        self.count += 1
        return f"00000000-0000-4000-8000-{self.count:012d}"

    def random_int(self, start: int, end: int) -> int:
        return start


def make_run(
    globals_: dict[str, Any] | None = None,
    limits: Limits = DEFAULT_LIMITS,
    execution_input: Any = None,
) -> RunContext:
    return RunContext(
        execution_name="exec-1",
        flow_name="orders",
        execution_input={"orderId": "A1"} if execution_input is None else execution_input,
        start_time="2024-01-01T00:00:00.000Z",
        entropy=FixedEntropy(),
        limits=limits,
        globals=dict(globals_ or {}),
    )


def compile_states(states: str) -> FlowPlan:
    head = (
        f"Type: StateMachine\nSpecVersion: v1\nName: f\nStartAt: {_first_name(states)}\nStates:\n"
    )
    return compile_flow(head + textwrap.indent(textwrap.dedent(states).strip("\n") + "\n", "  "))


def _first_name(states: str) -> str:
    for line in textwrap.dedent(states).splitlines():
        stripped = line.strip().lstrip("- ").strip("{")
        for part in stripped.split(","):
            key, _, value = part.partition(":")
            if key.strip() == "Name":
                return value.strip().rstrip("}")
    raise AssertionError("no Name")


def state_of(plan: FlowPlan | ScopePlan, name: str) -> State:
    scope = plan.scope if isinstance(plan, FlowPlan) else plan
    return scope.states[scope.index_by_name[name]]


def one(states: str, name: str | None = None) -> Any:
    plan = compile_states(states)
    return state_of(plan, name or _first_name(states))


def runtime_error(outcome: Any) -> str:
    assert isinstance(outcome, Failed), outcome
    assert outcome.error.code == errors.RUNTIME_ERROR, outcome.error
    return outcome.error.cause


# -- Pass and the data-flow pipeline ---------------------------------------------------------


def test_pass_without_constructors_hands_its_input_on() -> None:
    plan = compile_states("- {Type: Pass, Name: A, Next: B}\n- {Type: Succeed, Name: B}")
    state = state_of(plan, "A")
    assert isinstance(state, PassState)
    data = {"a": [1, 2]}
    outcome = state.enter(data, make_run())
    assert outcome == Advance(data, 1)
    assert isinstance(outcome, Advance) and outcome.output is data and outcome.globals is None


def test_pass_constructors() -> None:
    state = one("""
        - Type: Pass
          Name: A
          InputConstructor:
            FieldA: 123
            doubled.$: $Input.n * 2
          OutputConstructor:
            seen.$: $Input
            out.$: $Output.doubled
          End: true
    """)
    outcome = state.enter({"n": 4}, make_run())
    assert outcome == Advance({"seen": {"FieldA": 123, "doubled": 8}, "out": 8}, None)


def test_pipeline_order_on_a_task() -> None:
    """InputConstructor → work → GlobalConstructor (raw $Output) → OutputConstructor ($Global before the merge)."""
    state = one("""
        - Type: Task
          Name: T
          Action: FC:InvokeFunction
          Parameters:
            functionName: f
            body:
              x.$: $Input.x
          InputConstructor:
            x.$: $Input.raw
            tenantBefore.$: $Global.tenant
          GlobalConstructor:
            tenant.$: $Output.Body.tenant
            sawOutput.$: $Output
            sawInput.$: $Input.x
          OutputConstructor:
            result.$: $Output.Body.value
            tenantSeen.$: $Global.tenant
            input.$: $Input
          End: true
    """)
    assert isinstance(state, TaskState)
    run = make_run({"tenant": "old", "keep": 1})
    task = state.enter({"raw": 7}, run)
    assert isinstance(task, RunTask)
    assert task.input == {"x": 7, "tenantBefore": "old"}
    assert task.parameters == {"functionName": "f", "body": {"x": 7}}
    raw_output = {"Body": {"tenant": "new", "value": 42}}
    outcome = state.finish(task.input, raw_output, run)
    assert isinstance(outcome, Advance)
    assert outcome.next is None
    assert outcome.output == {
        "result": 42,
        "tenantSeen": "old",
        "input": {"x": 7, "tenantBefore": "old"},
    }
    assert outcome.globals == {"tenant": "new", "keep": 1, "sawOutput": raw_output, "sawInput": 7}
    assert run.globals == {
        "tenant": "old",
        "keep": 1,
    }  # the engine applies the new globals, not the state


def test_global_constructor_alone_keeps_the_output() -> None:
    state = one("- {Type: Pass, Name: A, GlobalConstructor: {seen.$: $Output.v}, End: true}")
    outcome = state.enter({"v": 1}, make_run({"other": True}))
    assert outcome == Advance({"v": 1}, None, {"other": True, "seen": 1})


def test_context_variables() -> None:
    state = one("""
        - Type: Task
          Name: Call
          Action: FC:InvokeFunction
          TaskMode: WaitForCustomCallback
          Parameters:
            functionName: f
            token.$: $Context.Current.TaskToken
            ctx.$: $Context
          OutputConstructor:
            out.$: $Context.Current.Output
            retries.$: $Context.Current.RetryCount
          End: true
    """)
    run = make_run()
    task = state.enter({"a": 1}, run, retry_count=2, now=NOW, task_token="tok-1")
    assert isinstance(task, RunTask)
    assert task.mode is TaskMode.WAIT_FOR_CUSTOM_CALLBACK
    assert task.parameters["token"] == "tok-1"
    assert task.parameters["ctx"] == {
        "Execution": {
            "Name": "exec-1",
            "Input": {"orderId": "A1"},
            "StartTime": "2024-01-01T00:00:00.000Z",
        },
        "Flow": {"Name": "orders"},
        "Current": {"Name": "Call", "Input": {"a": 1}, "RetryCount": 2, "TaskToken": "tok-1"},
    }
    assert state.finish({"a": 1}, {"Body": 5}, run, retry_count=2) == Advance(
        {"out": {"Body": 5}, "retries": 2}, None
    )


def test_entropy_is_the_runs() -> None:
    state = one(
        "- {Type: Pass, Name: A, OutputConstructor: {id.$: uuid(), r.$: 'mathRandom(5, 10)'}, End: true}"
    )
    outcome = state.enter({}, make_run())
    assert outcome == Advance({"id": "00000000-0000-4000-8000-000000000001", "r": 5}, None)


def test_expression_failure_names_the_state_the_field_and_the_expression() -> None:
    state = one("- {Type: Pass, Name: Sum, OutputConstructor: {total.$: $Input.a + 1}, End: true}")
    cause = runtime_error(state.enter({"a": "x"}, make_run()))
    assert "state 'Sum'" in cause
    assert "OutputConstructor" in cause and "total" in cause and "$Input.a + 1" in cause


def test_input_constructor_failure() -> None:
    state = one("- {Type: Pass, Name: P, InputConstructor: {n.$: -$Input.s}, End: true}")
    cause = runtime_error(state.enter({"s": "text"}, make_run()))
    assert "state 'P'" in cause and "InputConstructor" in cause


# -- payload and $Global limits -----------------------------------------------------------------

SMALL = Limits(max_payload_bytes=100, max_global_key_bytes=8, max_global_value_bytes=20)


def test_output_over_the_payload_limit() -> None:
    state = one(
        "- {Type: Pass, Name: Big, OutputConstructor: {s.$: $Input.s + $Input.s}, End: true}"
    )
    assert isinstance(state.enter({"s": "x" * 30}, make_run(limits=SMALL)), Advance)
    cause = runtime_error(state.enter({"s": "x" * 60}, make_run(limits=SMALL)))
    assert "state 'Big'" in cause and "output" in cause and "over the limit of 100 bytes" in cause


def test_input_over_the_payload_limit() -> None:
    state = one(
        "- {Type: Pass, Name: Big, InputConstructor: {s.$: $Input.s + $Input.s}, End: true}"
    )
    cause = runtime_error(
        state.enter({"s": "é" * 30}, make_run(limits=SMALL))
    )  # 120 bytes in UTF-8
    assert "input" in cause and "over the limit" in cause


def test_task_raw_output_over_the_limit() -> None:
    plain = one(
        "- {Type: Task, Name: T, Action: FC:InvokeFunction, Parameters: {functionName: f}, End: true}"
    )
    assert "over the limit" in runtime_error(
        plain.finish({}, {"Body": "x" * 200}, make_run(limits=SMALL))
    )
    # What counts is the state's output: an OutputConstructor may keep only a small part.
    shaped = one(
        "- {Type: Task, Name: T, Action: FC:InvokeFunction, Parameters: {functionName: f}, OutputConstructor: {n.$: $Output.n}, End: true}"
    )
    assert shaped.finish({}, {"n": 1, "Body": "x" * 200}, make_run(limits=SMALL)) == Advance(
        {"n": 1}, None
    )


def test_global_limits() -> None:
    state = one("- {Type: Pass, Name: G, GlobalConstructor: {short.$: $Input.v}, End: true}")
    assert "GlobalConstructor value of 'short'" in runtime_error(
        state.enter({"v": "x" * 30}, make_run(limits=SMALL))
    )
    long_key = one("- {Type: Pass, Name: G, GlobalConstructor: {averylongkey: 1}, End: true}")
    assert "GlobalConstructor key 'averylongkey'" in runtime_error(
        long_key.enter({}, make_run(limits=SMALL))
    )


def test_data_nested_too_deeply_is_a_runtime_error() -> None:
    # JSON that a parser accepted near its depth limit cannot always be written out again
    # deeper in the stack: that must fail the state, not escape as RecursionError.
    data: Any = 1
    for _ in range(sys.getrecursionlimit()):
        data = {"a": data}
    state = one("- {Type: Pass, Name: A, OutputConstructor: {x.$: $Input}, End: true}")
    assert "the output is nested too deeply" in runtime_error(state.enter(data, make_run()))
    task = one(
        "- {Type: Task, Name: T, Action: FC:InvokeFunction, Parameters: {functionName: f}, End: true}"
    )
    assert "nested too deeply" in runtime_error(task.finish({}, data, make_run()))


# -- Task --------------------------------------------------------------------------------------


def test_task_enter_describes_the_call() -> None:
    state = one("""
        - Type: Task
          Name: T
          Action: HTTP:Request
          TaskMode: RequestComplete
          Timeout: 30
          HeartbeatSeconds: 5
          Parameters:
            url.$: format("https://x/{}", $Input.id)
            method: POST
            headers: {a: b}
          End: true
    """)
    outcome = state.enter({"id": 9}, make_run())
    assert outcome == RunTask(
        {"id": 9},
        "HTTP:Request",
        {"url": "https://x/9", "method": "POST", "headers": {"a": "b"}},
        TaskMode.REQUEST_COMPLETE,
        30.0,
        5.0,
    )


def test_task_timeout_zero_means_none_and_timeout_expression() -> None:
    zero = one(
        "- {Type: Task, Name: T, Action: FC:InvokeFunction, Parameters: {functionName: f}, Timeout: 0, End: true}"
    )
    assert isinstance(task := zero.enter({}, make_run()), RunTask) and task.timeout_seconds is None
    dynamic = one(
        "- {Type: Task, Name: T, Action: FC:InvokeFunction, Parameters: {functionName: f}, Timeout.$: $Input.t, End: true}"
    )
    assert (
        isinstance(task := dynamic.enter({"t": 2.5}, make_run()), RunTask)
        and task.timeout_seconds == 2.5
    )
    assert (
        isinstance(task := dynamic.enter({"t": 0}, make_run()), RunTask)
        and task.timeout_seconds is None
    )
    for bad in ("soon", -1, 604801, True, None, 10**400):
        cause = runtime_error(dynamic.enter({"t": bad}, make_run()))
        assert "Timeout.$" in cause and "state 'T'" in cause


def test_task_parameters_failure_names_the_key() -> None:
    state = one(
        "- {Type: Task, Name: T, Action: FC:InvokeFunction, Parameters: {functionName: f, body: {n.$: $Input.a * 2}}, End: true}"
    )
    cause = runtime_error(state.enter({"a": "x"}, make_run()))
    assert "Parameters" in cause and "body.n" in cause and "$Input.a * 2" in cause


# -- Retry and Catch ----------------------------------------------------------------------------

RULES = """
- Type: Task
  Name: T
  Action: FC:InvokeFunction
  Parameters: {functionName: f}
  Retry:
    - Errors: [Throttled]
      MaxAttempts: 4
      IntervalSeconds: 2
      BackoffRate: 3
      MaxBackoffSeconds: 10
    - Errors: [FnF.ALL]
      MaxAttempts: 1
      IntervalSeconds: 0.5
  Catch:
    - Errors: [CardDeclined]
      Next: Declined
    - Errors: [FnF.ALL]
      OutputConstructor:
        code.$: $Context.Current.Error.Code
        detail.$: $Context.Current.Error.Detail
        input.$: $Input
        retries.$: $Context.Current.RetryCount
      Next: Other
  End: true
- {Type: Fail, Name: Declined, Code: Declined}
- {Type: Succeed, Name: Other}
"""


@pytest.fixture(scope="module")
def rules_task() -> TaskState:
    state = one(RULES, "T")
    assert isinstance(state, TaskState)
    return state


def test_retry_delays_grow_by_the_backoff_rate_up_to_the_cap(rules_task: TaskState) -> None:
    run = make_run()
    retries: tuple[int, ...] = ()
    delays = []
    for _ in range(4):
        outcome = rules_task.recover({"in": 1}, FlowError("Throttled", "slow down"), run, retries)
        assert isinstance(outcome, RetryAfter)
        delays.append(outcome.delay_seconds)
        retries = outcome.retries
    assert delays == [2.0, 6.0, 10.0, 10.0]  # 2, 2×3, min(18, 10), min(54, 10)
    assert retries == (4, 0)
    # Exhausted: the first matching rule decides, so FnF.ALL's rule does not retry it again.
    outcome = rules_task.recover({"in": 1}, FlowError("Throttled", "slow down"), run, retries)
    assert outcome == Advance(
        {"code": "Throttled", "detail": "slow down", "input": {"in": 1}, "retries": 4}, 2
    )


def test_retry_counts_are_per_rule(rules_task: TaskState) -> None:
    run = make_run()
    first = rules_task.recover({}, FlowError("Throttled"), run, ())
    assert first == RetryAfter(2.0, (1, 0)) and first.retry_count == 1
    second = rules_task.recover({}, FlowError("Boom"), run, first.retries)
    assert second == RetryAfter(0.5, (1, 1)) and second.retry_count == 2
    # The FnF.ALL rule is spent, the Throttled rule is not.
    third = rules_task.recover({}, FlowError("Throttled"), run, second.retries)
    assert third == RetryAfter(6.0, (2, 1))
    assert isinstance(rules_task.recover({}, FlowError("Boom"), run, third.retries), Advance)


def test_catch_rules_in_order(rules_task: TaskState) -> None:
    run = make_run()
    # CardDeclined: its retry (FnF.ALL) first, then the first matching Catch, without a constructor.
    assert rules_task.recover({}, FlowError("CardDeclined", "no"), run, ()) == RetryAfter(
        0.5, (0, 1)
    )
    outcome = rules_task.recover({}, FlowError("CardDeclined", "no"), run, (0, 1))
    assert outcome == Advance({"Code": "CardDeclined", "Detail": "no"}, 1)


def test_no_matching_rule_fails_with_the_error() -> None:
    state = one(
        """
        - Type: Task
          Name: T
          Action: FC:InvokeFunction
          Parameters: {functionName: f}
          Retry: [{Errors: [A], MaxAttempts: 0, IntervalSeconds: 1}]
          Catch: [{Errors: [B], Next: N}]
          End: true
        - {Type: Succeed, Name: N}
    """,
        "T",
    )
    error = FlowError("C", "cause")
    assert state.recover({}, error, make_run(), ()) == Failed(error)
    # MaxAttempts 0: no retry at all, straight to Catch.
    assert state.recover({}, FlowError("A"), make_run(), ()) == Failed(FlowError("A"))
    assert state.recover({}, FlowError("B", "b"), make_run(), ()) == Advance(
        {"Code": "B", "Detail": "b"}, 1
    )


@pytest.mark.parametrize(
    "code",
    [
        errors.RUNTIME_ERROR,
        errors.TIMEOUT,
        errors.TASK_FAILED,
        errors.HEARTBEAT_TIMEOUT,
        "HTTP.503",
        "Custom.Error",
        errors.FAILED,
    ],
)
def test_fnf_all_matches_every_error(code: str) -> None:
    state = one(
        """
        - Type: Task
          Name: T
          Action: FC:InvokeFunction
          Parameters: {functionName: f}
          Catch: [{Errors: [FnF.ALL], Next: N}]
          End: true
        - {Type: Succeed, Name: N}
    """,
        "T",
    )
    assert state.recover({}, FlowError(code, "why"), make_run(), ()) == Advance(
        {"Code": code, "Detail": "why"}, 1
    )


def test_catch_constructor_failure_is_a_runtime_error(rules_task: TaskState) -> None:
    state = one(
        """
        - Type: Task
          Name: T
          Action: FC:InvokeFunction
          Parameters: {functionName: f}
          Catch: [{Errors: [FnF.ALL], Next: N, OutputConstructor: {x.$: $Input.a * 2}}]
          End: true
        - {Type: Succeed, Name: N}
    """,
        "T",
    )
    cause = runtime_error(state.recover({"a": "x"}, FlowError("E"), make_run(), ()))
    assert "Catch.OutputConstructor" in cause and "state 'T'" in cause


def test_retry_delay_formula() -> None:
    rule = RetryRule(
        frozenset({"X"}), False, max_attempts=5, interval_seconds=1.5, backoff_rate=2.0
    )
    assert [rule.delay(n) for n in range(1, 5)] == [1.5, 3.0, 6.0, 12.0]
    constant = RetryRule(frozenset({"X"}), False, max_attempts=5, interval_seconds=4.0)
    assert [constant.delay(n) for n in range(1, 4)] == [4.0, 4.0, 4.0]
    # Huge exponents must not overflow: the delay stays finite (at most a year) or is capped.
    steep = RetryRule(
        frozenset({"X"}), False, max_attempts=1000, interval_seconds=1.0, backoff_rate=100.0
    )
    assert math.isfinite(steep.delay(1000)) and steep.delay(1000) == 365 * 24 * 3600
    capped = RetryRule(frozenset({"X"}), False, 1000, 1.0, 100.0, max_backoff_seconds=60.0)
    assert capped.delay(1000) == 60.0
    zero = RetryRule(frozenset({"X"}), False, 1000, 0.0, 100.0)
    assert zero.delay(1000) == 0.0


def test_states_without_rules_just_fail() -> None:
    plan = compile_states(
        "- {Type: Pass, Name: A, Next: B}\n- {Type: Wait, Name: B, Seconds: 1, Next: C}\n- {Type: Succeed, Name: C}"
    )
    error = FlowError("X", "y")
    for name in ("A", "B", "C"):
        assert state_of(plan, name).recover({}, error, make_run(), ()) == Failed(error)


# -- Choice ------------------------------------------------------------------------------------

CHOICE = """
- Type: Choice
  Name: Route
  InputConstructor:
    n.$: $Input.n
    vip.$: $Context.Execution.Input.vip
  Branches:
    - Condition: $Input.n > 10
      Next: Big
    - Condition: $Input.n > 5 || $Input.vip == true
      Next: Medium
    - Condition: $Input.n
      Next: Big
  Default: Small
- {Type: Succeed, Name: Big}
- {Type: Succeed, Name: Medium}
- {Type: Succeed, Name: Small}
"""


@pytest.mark.parametrize(
    ("n", "vip", "target"),
    [(11, False, 1), (20, True, 1), (6, False, 2), (1, True, 2)],
)
def test_choice_takes_the_first_true_branch(n: int, vip: bool, target: int) -> None:
    state = one(CHOICE, "Route")
    assert isinstance(state, ChoiceState)
    outcome = state.enter({"n": n, "other": 1}, make_run(execution_input={"vip": vip}))
    assert outcome == Advance({"n": n, "vip": vip}, target)  # output = the constructed input


def test_choice_default_and_non_boolean_condition() -> None:
    state = one(CHOICE.replace("    - Condition: $Input.n\n      Next: Big\n", ""), "Route")
    assert state.enter({"n": 1}, make_run(execution_input={"vip": False})) == Advance(
        {"n": 1, "vip": False}, 3
    )
    non_boolean = one(CHOICE, "Route")
    cause = runtime_error(non_boolean.enter({"n": 1}, make_run(execution_input={"vip": False})))
    assert "state 'Route'" in cause and "Branches[2].Condition" in cause and "'$Input.n'" in cause
    assert "not a boolean" in cause
    # null from a missing field is not a boolean either
    cause = runtime_error(non_boolean.enter({}, make_run(execution_input={"vip": False})))
    assert "null" in cause


def test_choice_condition_runtime_error() -> None:
    state = one(
        """
        - Type: Choice
          Name: C
          Branches: [{Condition: '$Input.a > "x"', Next: D}]
          Default: D
        - {Type: Succeed, Name: D}
    """,
        "C",
    )
    cause = runtime_error(state.enter({"a": 1}, make_run()))
    assert "state 'C'" in cause and "Branches[0].Condition" in cause


# -- Wait --------------------------------------------------------------------------------------


def test_wait_seconds() -> None:
    state = one("- {Type: Wait, Name: W, Seconds: 10, Next: D}\n- {Type: Succeed, Name: D}", "W")
    assert isinstance(state, WaitState)
    assert state.enter({"a": 1}, make_run(), now=NOW) == WaitUntil({"a": 1}, NOW + 10)
    assert state.finish({"a": 1}, {"a": 1}, make_run()) == Advance({"a": 1}, 1)


@pytest.mark.parametrize(("value", "instant"), [(5, NOW + 5), (2.5, NOW + 2.5), (0, NOW)])
def test_wait_seconds_expression(value: float, instant: float) -> None:
    state = one("- {Type: Wait, Name: W, Seconds.$: $Input.s, End: true}")
    assert state.enter({"s": value}, make_run(), now=NOW) == WaitUntil({"s": value}, instant)


@pytest.mark.parametrize("value", [-1, "5", None, True, [1], 10**400])
def test_wait_seconds_expression_that_is_not_a_duration(value: Any) -> None:
    state = one("- {Type: Wait, Name: W, Seconds.$: $Input.s, End: true}")
    cause = runtime_error(state.enter({"s": value}, make_run(), now=NOW))
    assert "state 'W'" in cause and "Seconds.$" in cause and "seconds >= 0" in cause


def test_wait_until_a_literal_instant() -> None:
    state = one("- {Type: Wait, Name: W, UntilDateTime: '2030-01-01T08:00:00+08:00', End: true}")
    assert state.enter({}, make_run(), now=NOW) == WaitUntil({}, 1893456000.0)
    assert state.enter({}, make_run(), now=0.0) == WaitUntil(
        {}, 1893456000.0
    )  # absolute, whatever now is


@pytest.mark.parametrize(
    ("text", "instant"),
    [
        ("2030-01-01T00:00:00Z", 1893456000.0),
        ("2030-01-01T00:00:00.5z", 1893456000.5),
        ("2029-12-31T19:00:00-05:00", 1893456000.0),
        ("2020-01-01T00:00:00Z", 1577836800.0),  # in the past: the engine does not wait
    ],
)
def test_wait_until_an_expression(text: str, instant: float) -> None:
    state = one("- {Type: Wait, Name: W, UntilDateTime.$: $Input.at, End: true}")
    outcome = state.enter({"at": text}, make_run(), now=NOW)
    assert outcome == WaitUntil({"at": text}, instant)


@pytest.mark.parametrize(
    ("value", "words"),
    [("2030-01-01T00:00:00", "time zone"), ("soon", "RFC 3339"), (5, "a number"), (None, "null")],
)
def test_wait_until_an_expression_that_is_not_an_instant(value: Any, words: str) -> None:
    state = one("- {Type: Wait, Name: W, UntilDateTime.$: $Input.at, End: true}")
    cause = runtime_error(state.enter({"at": value}, make_run(), now=NOW))
    assert "UntilDateTime.$" in cause and words in cause


def test_wait_output_constructor() -> None:
    state = one(
        "- {Type: Wait, Name: W, Seconds: 1, InputConstructor: {a: 1}, OutputConstructor: {b.$: $Input.a}, End: true}"
    )
    outcome = state.enter({}, make_run(), now=NOW)
    assert outcome == WaitUntil({"a": 1}, NOW + 1)
    assert state.finish(outcome.input, outcome.input, make_run()) == Advance({"b": 1}, None)


# -- Parallel ----------------------------------------------------------------------------------

PARALLEL = """
- Type: Parallel
  Name: Par
  InputConstructor: {x.$: $Input.x}
  OutputConstructor:
    left.$: $Output.Branch0
    right.$: $Output.Branch1.v
  Branches:
    - StartAt: L
      States: [{Type: Pass, Name: L, End: true}]
    - StartAt: R
      States: [{Type: Pass, Name: R, End: true}]
  End: true
"""


def test_parallel() -> None:
    state = one(PARALLEL)
    assert isinstance(state, ParallelState)
    run = make_run()
    outcome = state.enter({"x": 1, "y": 2}, run)
    assert outcome == RunBranches({"x": 1})
    assert state.finish_branches({"x": 1}, [{"a": 1}, {"v": 2}], run) == Advance(
        {"left": {"a": 1}, "right": 2}, None
    )
    plain = one(
        PARALLEL.replace(
            "  OutputConstructor:\n    left.$: $Output.Branch0\n    right.$: $Output.Branch1.v\n",
            "",
        )
    )
    assert plain.finish_branches({}, [1, "two"], run) == Advance(
        {"Branch0": 1, "Branch1": "two"}, None
    )
    assert "over the limit" in runtime_error(
        plain.finish_branches({}, ["x" * 60, "y" * 60], make_run(limits=SMALL))
    )


# -- Map ---------------------------------------------------------------------------------------

MAP = """
- Type: Map
  Name: Each
  InputConstructor:
    xs.$: $Input.xs
    factor.$: $Input.factor
  ItemsPath: $Input.xs
  MaxConcurrency: 3
  ItemConstructor:
    value.$: $Item
    index.$: $Index
    factor.$: $Input.factor
  Processor:
    StartAt: P
    States: [{Type: Pass, Name: P, End: true}]
  End: true
"""


def test_map_item_constructor() -> None:
    state = one(MAP)
    assert isinstance(state, MapState)
    outcome = state.enter({"xs": ["a", "b"], "factor": 10, "other": 0}, make_run())
    assert outcome == RunIterations(
        {"xs": ["a", "b"], "factor": 10},
        [{"value": "a", "index": 0, "factor": 10}, {"value": "b", "index": 1, "factor": 10}],
        3,
    )


def test_map_without_item_constructor_uses_the_items() -> None:
    state = one("""
        - Type: Map
          Name: Each
          ItemsPath: $Input.xs
          Processor: {StartAt: P, States: [{Type: Pass, Name: P, End: true}]}
          End: true
    """)
    items = [1, "two", None, {"k": [3]}]
    outcome = state.enter({"xs": items}, make_run())
    assert outcome == RunIterations({"xs": items}, items, 40)  # absent MaxConcurrency: the default
    assert state.finish_items({"xs": items}, [2, 4], make_run()) == Advance({"Items": [2, 4]}, None)
    assert state.enter({"xs": []}, make_run()) == RunIterations({"xs": []}, [], 40)


@pytest.mark.parametrize(
    ("items", "kind"),
    [({"a": 1}, "a mapping"), ("abc", "a string"), (None, "null"), (3, "a number")],
)
def test_map_items_not_an_array(items: Any, kind: str) -> None:
    state = one(MAP)
    cause = runtime_error(state.enter({"xs": items, "factor": 1}, make_run()))
    assert (
        "state 'Each'" in cause
        and "ItemsPath" in cause
        and "not an array" in cause
        and kind in cause
    )


def test_map_item_constructor_failure_and_size() -> None:
    state = one(
        MAP.replace(
            "factor.$: $Input.factor\n  Processor", "factor.$: $Input.factor * $Item\n  Processor"
        )
    )
    cause = runtime_error(state.enter({"xs": [1, "x"], "factor": 2}, make_run()))
    assert "ItemConstructor (item 1)" in cause
    big = one(MAP.replace("value.$: $Item", "value.$: $Item + $Item + $Item"))
    cause = runtime_error(big.enter({"xs": ["a", "x" * 40], "factor": 1}, make_run(limits=SMALL)))
    assert "item 1" in cause and "over the limit" in cause


def test_map_output_constructor() -> None:
    state = one(
        MAP.replace(
            "  End: true", "  OutputConstructor: {n.$: arrayLength($Output.Items)}\n  End: true"
        )
    )
    assert state.finish_items({}, [1, 2, 3], make_run()) == Advance({"n": 3}, None)


# -- Succeed and Fail --------------------------------------------------------------------------


def test_succeed_ends_the_scope_with_its_output() -> None:
    state = one(
        "- {Type: Succeed, Name: S, InputConstructor: {a.$: $Input.x}, OutputConstructor: {b.$: $Input.a}}"
    )
    assert isinstance(state, SucceedState)
    assert state.enter({"x": 1}, make_run()) == Advance({"b": 1}, None)


def test_fail_default_code() -> None:
    state = one("- {Type: Fail, Name: F}")
    assert isinstance(state, FailState)
    assert state.enter({}, make_run()) == Failed(FlowError(errors.FAILED, ""))
    assert errors.FAILED == "FnF.Failed"


def test_fail_code_and_detail() -> None:
    state = one("- {Type: Fail, Name: F, Code: CardDeclined, Detail: the card was declined}")
    assert state.enter({"a": 1}, make_run()) == Failed(
        FlowError("CardDeclined", "the card was declined")
    )
    assert state.recover({}, FlowError("CardDeclined"), make_run(), ()) == Failed(
        FlowError("CardDeclined")
    )


def test_fail_input_constructor_failure_comes_first() -> None:
    state = one("- {Type: Fail, Name: F, Code: X, InputConstructor: {a.$: $Input.a * 2}}")
    assert "state 'F'" in runtime_error(state.enter({"a": "text"}, make_run()))
