"""Properties of the compiler on arbitrary and mutated text, and of the states on arbitrary data.

* ``check_flow`` never raises, whatever the text; ``compile_flow`` raises nothing but
  :class:`InvalidDefinition`; they agree on whether a text is valid.
* Every problem is one line of text; problems come in line order; when the text loads,
  every problem has a line.
* The pure state semantics never raise on JSON data: they return an outcome.
"""

from __future__ import annotations

import json
import random
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.compiler import check_flow, compile_flow
from shared.context import RunContext
from shared.errors import FlowError, InvalidDefinition
from shared.fdl.loader import DefinitionSyntaxError, load_document
from shared.limits import Limits
from shared.outcomes import (
    Advance,
    Failed,
    RetryAfter,
    RunBranches,
    RunIterations,
    RunTask,
    WaitUntil,
)
from shared.plan import ExecutionMode, FlowPlan, ScopePlan
from shared.states.map import MapState
from shared.states.parallel import ParallelState

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

VALID = """\
Type: StateMachine
SpecVersion: v1
Name: sample
StartAt: Prepare
States:
  - Type: Pass
    Name: Prepare
    InputConstructor:
      order.$: $Input.order
      count.$: arrayLength($Input.items)
    GlobalConstructor:
      tenant.$: $Input.order.tenant
    Next: Charge
  - Type: Task
    Name: Charge
    Action: FC:InvokeFunction
    Timeout: 30
    Parameters:
      functionName: charge
      body:
        id.$: $Input.order.id
    Retry:
      - Errors: [FC.ResourceThrottled]
        MaxAttempts: 3
        IntervalSeconds: 1
        BackoffRate: 2
        MaxBackoffSeconds: 10
    Catch:
      - Errors: [FnF.ALL]
        OutputConstructor:
          code.$: $Context.Current.Error.Code
        Next: Failed
    OutputConstructor:
      charged.$: $Output.Body
      items.$: $Input.items
    Next: Route
  - Type: Choice
    Name: Route
    Branches:
      - Condition: $Input.charged.amount > 100
        Next: Both
    Default: Each
  - Type: Parallel
    Name: Both
    Branches:
      - StartAt: Left
        States:
          - Type: Wait
            Name: Left
            Seconds: 1
            End: true
      - StartAt: Right
        States:
          - Type: Succeed
            Name: Right
    Next: Each
  - Type: Map
    Name: Each
    ItemsPath: $Input.items
    MaxConcurrency: 4
    ItemConstructor:
      value.$: $Item
      index.$: $Index
    Processor:
      StartAt: Work
      States:
        - Type: Pass
          Name: Work
          End: true
    Next: Done
  - Type: Succeed
    Name: Done
  - Type: Fail
    Name: Failed
    Code: PaymentFailed
    Detail: the payment failed
"""

TOKENS = [
    "Type",
    "Name",
    "StartAt",
    "States",
    "Next",
    "End",
    "Pass",
    "Task",
    "Choice",
    "Parallel",
    "Map",
    "Wait",
    "Succeed",
    "Fail",
    "Retry",
    "Catch",
    "Errors",
    "FnF.ALL",
    "MaxAttempts",
    "Branches",
    "Default",
    "Condition",
    "ItemsPath",
    "Processor",
    "Seconds",
    "Seconds.$",
    "UntilDateTime",
    "InputConstructor",
    "OutputConstructor",
    "GlobalConstructor",
    "ItemConstructor",
    "Timeout",
    "a.$",
    "$Input",
    "$Output",
    "$Item",
    "$Context.Current.Error",
    "true",
    "false",
    "null",
    "-1",
    "0",
    "1e400",
    "0x" + "f" * 30,
    "99999999999999999999999",
    "1.5",
    "[]",
    "{}",
    "''",
    '"',
    "'",
    "&a",
    "*a",
    "!!python/object",
    "<<",
    ":",
    "- ",
    "  ",
    "\t",
    "#",
    "|",
    ">",
    "---",
    "?",
    "Charge",
    "Each",
    "Done",
    "Failed",
    "Prepare",
    "Route",
    "Both",
    "Left",
    "Right",
    "Work",
]


def assert_well_behaved(
    text: str | bytes, mode: ExecutionMode = ExecutionMode.STANDARD
) -> FlowPlan | None:
    """The properties every text must satisfy; returns the plan when the text is valid."""
    problems = check_flow(text, mode)
    assert isinstance(problems, list)
    for problem in problems:
        rendered = str(problem)
        assert "\n" not in rendered and "\r" not in rendered, rendered
        assert problem.message
    lines = [p.line or 0 for p in problems]
    assert lines == sorted(lines)
    try:
        load_document(text)
    except DefinitionSyntaxError:
        assert len(problems) == 1
    else:
        assert all(p.line is not None for p in problems), problems
    try:
        plan = compile_flow(text, mode)
    except InvalidDefinition as exc:
        assert problems, "compile_flow rejected a text that check_flow accepts"
        assert exc.problems == [str(p) for p in problems]
        return None
    assert not problems, "compile_flow accepted a text that check_flow rejects"
    assert isinstance(plan, FlowPlan)
    return plan


def test_the_sample_is_valid() -> None:
    assert check_flow(VALID) == []


@SETTINGS
@given(st.text())
def test_arbitrary_text(text: str) -> None:
    assert_well_behaved(text)


@SETTINGS
@given(st.binary())
def test_arbitrary_bytes(data: bytes) -> None:
    assert_well_behaved(data)


@SETTINGS
@given(
    st.lists(
        st.tuples(st.integers(0, 6), st.lists(st.sampled_from(TOKENS), max_size=4)), max_size=25
    )
)
def test_yaml_like_token_soup(lines: list[tuple[int, list[str]]]) -> None:
    text = "".join("  " * indent + ": ".join(words) + "\n" for indent, words in lines)
    assert_well_behaved(text)
    assert_well_behaved(text, ExecutionMode.EXPRESS)


@st.composite
def line_mutations(draw: st.DrawFn) -> str:
    lines = VALID.splitlines()
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        position = draw(st.integers(0, len(lines) - 1))
        operation = draw(
            st.sampled_from(
                ["delete", "duplicate", "swap", "indent", "dedent", "replace", "insert", "truncate"]
            )
        )
        line = lines[position]
        if operation == "delete":
            del lines[position]
        elif operation == "duplicate":
            lines.insert(position, line)
        elif operation == "swap":
            other = draw(st.integers(0, len(lines) - 1))
            lines[position], lines[other] = lines[other], line
        elif operation == "indent":
            lines[position] = "  " + line
        elif operation == "dedent":
            lines[position] = line[2:]
        elif operation == "replace":
            words = line.split()
            if words:
                old = draw(st.sampled_from(words))
                lines[position] = line.replace(old, draw(st.sampled_from(TOKENS)), 1)
        elif operation == "insert":
            column = draw(st.integers(0, len(line)))
            lines[position] = line[:column] + draw(st.text(max_size=5)) + line[column:]
        else:
            lines[position] = line[: draw(st.integers(0, len(line)))]
    return "\n".join(lines) + "\n"


@SETTINGS
@given(line_mutations())
def test_line_mutations_of_a_valid_flow(text: str) -> None:
    assert_well_behaved(text)
    assert_well_behaved(text, ExecutionMode.EXPRESS)


JSON_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
    | st.sampled_from(TOKENS)
)
JSON = st.recursive(
    JSON_LEAVES,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(max_size=6) | st.sampled_from(TOKENS), children, max_size=3)
    ),
    max_leaves=8,
)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_paths(item, (*path, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_paths(item, (*path, index)))
    return found


_VALID_JSON = json.dumps(yaml.safe_load(VALID))
_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


@st.composite
def tree_mutations(draw: st.DrawFn) -> str:
    tree = json.loads(_VALID_JSON)
    rng = random.Random(draw(st.integers(0, 2**32)))
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(tree)
        path = rng.choice(paths[1:])
        parent = tree
        for step in path[:-1]:
            parent = parent[step]
        operation = draw(st.sampled_from(["set", "delete", "add-key"]))
        if operation == "set":
            parent[path[-1]] = draw(JSON)
        elif operation == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.sampled_from(TOKENS))] = draw(JSON)
    if draw(st.booleans()):
        return json.dumps(tree, indent=draw(st.sampled_from([None, 2])))
    return str(yaml.dump(tree, Dumper=_Dumper, sort_keys=False))


@SETTINGS
@given(tree_mutations(), JSON)
def test_structural_mutations_of_a_valid_flow(text: str, data: Any) -> None:
    plan = assert_well_behaved(text)
    assert_well_behaved(text, ExecutionMode.EXPRESS)
    if plan is not None:  # a mutation that is still valid: its states must behave too
        run = RunContext(
            "e", "f", {}, "2024-01-01T00:00:00Z", _Entropy(), Limits(max_payload_bytes=300)
        )
        for state in _all_states(plan.scope):
            for state_input in (
                data,
                {"order": data, "items": [data], "charged": {"amount": data}},
            ):
                assert isinstance(state.enter(state_input, run, 0, 1_700_000_000.0), OUTCOMES)
                assert isinstance(state.finish(state_input, data, run), Advance | Failed)
                assert isinstance(
                    state.recover(state_input, FlowError("X", "y"), run, ()),
                    RetryAfter | Advance | Failed,
                )


# -- the state semantics on arbitrary data -------------------------------------------------------


class _Entropy:
    def uuid4(self) -> str:
        return "00000000-0000-4000-8000-000000000000"

    def random_int(self, start: int, end: int) -> int:
        return start


OUTCOMES = (Advance, Failed, RetryAfter, RunBranches, RunIterations, RunTask, WaitUntil)
PLAN = compile_flow(VALID)


def _all_states(scope: ScopePlan) -> list[Any]:
    states: list[Any] = []
    for state in scope.states:
        states.append(state)
        if isinstance(state, ParallelState):
            for branch in state.branches:
                states.extend(_all_states(branch))
        elif isinstance(state, MapState):
            states.extend(_all_states(state.processor))
    return states


STATES = _all_states(PLAN.scope)


@SETTINGS
@given(
    st.sampled_from(STATES),
    JSON,
    JSON,
    st.dictionaries(st.text(max_size=4), JSON, max_size=2),
    st.sampled_from(["FC.ResourceThrottled", "FnF.Timeout", "X"]),
    st.integers(0, 5),
)
def test_state_semantics_never_raise(
    state: Any, data: Any, output: Any, globals_: dict[str, Any], code: str, retries: int
) -> None:
    run = RunContext(
        "e",
        "f",
        {"order": data},
        "2024-01-01T00:00:00Z",
        _Entropy(),
        Limits(max_payload_bytes=300),
        globals_,
    )
    for state_input in (data, {"order": data, "items": data, "charged": output}):
        outcome = state.enter(state_input, run, retries, 1_700_000_000.0, "token")
        assert isinstance(outcome, OUTCOMES)
        assert isinstance(state.finish(state_input, output, run, retries), Advance | Failed)
        recovered = state.recover(state_input, FlowError(code, "cause"), run, ())
        assert isinstance(recovered, RetryAfter | Advance | Failed)
        if isinstance(state, ParallelState):
            assert isinstance(
                state.finish_branches(state_input, [output, data], run), Advance | Failed
            )
        if isinstance(state, MapState):
            assert isinstance(state.finish_items(state_input, [output], run), Advance | Failed)
    assert run.globals == globals_  # states never change the run themselves
