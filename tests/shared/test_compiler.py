"""The FDL compiler: every kind of problem with its location, words and line; valid flows and their plans.

The table below has one definition per kind of problem. Each must produce exactly that one
problem (so a cascade of follow-on complaints is caught too), at the expected location
and line, with words that say what is wrong.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import pytest

from shared import errors
from shared.compiler import check_flow, compile_flow
from shared.errors import InvalidArgument, InvalidDefinition
from shared.fdl.problems import Problem
from shared.limits import Limits
from shared.plan import ExecutionMode, FlowPlan, ScopePlan
from shared.ports import TaskMode
from shared.states.choice import ChoiceState
from shared.states.fail import FailState
from shared.states.map import MapState
from shared.states.parallel import ParallelState
from shared.states.pass_ import PassState
from shared.states.succeed import SucceedState
from shared.states.task import TaskState
from shared.states.wait import WaitState

STANDARD = ExecutionMode.STANDARD
EXPRESS = ExecutionMode.EXPRESS

HEAD = "Type: StateMachine\nSpecVersion: v1\nName: f\nStartAt: A\nStates:\n"
"""Five lines: the first state's ``- Type`` is on line 6."""


def flow(states: str, head: str = HEAD) -> str:
    """A definition from a dedented list of states (written at column 0)."""
    return head + textwrap.indent(textwrap.dedent(states).strip("\n") + "\n", "  ")


def problems_of(text: str, mode: ExecutionMode = STANDARD) -> list[Problem]:
    return check_flow(text, mode)


def show(problems: list[Problem]) -> str:
    return "\n".join(str(p) for p in problems)


@dataclass(frozen=True)
class Bad:
    id: str
    text: str
    location: str
    words: tuple[str, ...]
    line: int | None
    mode: ExecutionMode = STANDARD


PASS_B = "- Type: Pass\n  Name: B\n  End: true\n"
TASK_A = "- Type: Task\n  Name: A\n  Action: FC:InvokeFunction\n  Parameters: {functionName: f}\n"
"""Four lines (6-9) of a Task named A, without transition or rules."""

BAD: list[Bad] = [
    # -- the document ------------------------------------------------------------------
    Bad(
        "not yaml",
        "Type: StateMachine\nStates: [ {Name: A, Type: Pass\n",
        "",
        ("not valid YAML",),
        3,
    ),
    Bad("empty", "", "", ("empty",), None),
    Bad("not a mapping", "- a\n- b\n", "the definition", ("must be a mapping", "a list"), 1),
    Bad(
        "missing Type",
        "SpecVersion: v1\nStartAt: A\nStates:\n  - {Type: Succeed, Name: A}\n",
        "Type",
        ("required", "Type", "missing"),
        1,
    ),
    Bad(
        "wrong Type",
        flow("- {Type: Succeed, Name: A}").replace("StateMachine", "Machine"),
        "Type",
        ("StateMachine", "Machine"),
        1,
    ),
    Bad(
        "wrong SpecVersion",
        flow("- {Type: Succeed, Name: A}").replace("v1", "v2"),
        "SpecVersion",
        ("v1", "v2"),
        2,
    ),
    Bad(
        "missing SpecVersion",
        flow("- {Type: Succeed, Name: A}").replace("SpecVersion: v1\n", ""),
        "SpecVersion",
        ("required", "missing"),
        1,
    ),
    Bad(
        "missing StartAt",
        flow("- {Type: Succeed, Name: A}").replace("StartAt: A\n", ""),
        "StartAt",
        ("required", "StartAt"),
        1,
    ),
    Bad(
        "StartAt unknown",
        flow("- {Type: Succeed, Name: Begin}"),
        "StartAt",
        ("no state named 'A'",),
        4,
    ),
    Bad(
        "StartAt case typo",
        flow("- {Type: Succeed, Name: a}"),
        "StartAt",
        ("no state named 'A'", "did you mean 'a'"),
        4,
    ),
    Bad(
        "StartAt not a string",
        flow("- {Type: Succeed, Name: A}").replace("StartAt: A", "StartAt: [A]"),
        "StartAt",
        ("must name a state", "a list"),
        4,
    ),
    Bad(
        "missing States",
        "Type: StateMachine\nSpecVersion: v1\nStartAt: A\n",
        "States",
        ("required", "States"),
        1,
    ),
    Bad(
        "States not a list",
        "Type: StateMachine\nSpecVersion: v1\nStartAt: A\nStates: {A: 1}\n",
        "States",
        ("non-empty list", "a mapping"),
        4,
    ),
    Bad(
        "States empty",
        "Type: StateMachine\nSpecVersion: v1\nStartAt: A\nStates: []\n",
        "States",
        ("non-empty list", "an empty list"),
        4,
    ),
    Bad(
        "unknown top field",
        flow("- {Type: Succeed, Name: A}") + "Descripton: x\n",
        "Descripton",
        ("unknown field", "did you mean 'Description'"),
        7,
    ),
    Bad(
        "Name not a string",
        flow("- {Type: Succeed, Name: A}").replace("Name: f", "Name: [f]"),
        "Name",
        ("must be a string", "a list"),
        3,
    ),
    Bad(
        "Timeout zero",
        flow("- {Type: Succeed, Name: A}") + "Timeout: 0\n",
        "Timeout",
        ("integer from 1", "not 0"),
        7,
    ),
    Bad(
        "Timeout past express limit",
        flow("- {Type: Succeed, Name: A}") + "Timeout: 301\n",
        "Timeout",
        ("from 1 to 300", "301"),
        7,
        EXPRESS,
    ),
    Bad(
        "Timeout not a number",
        flow("- {Type: Succeed, Name: A}") + "Timeout: soon\n",
        "Timeout",
        ("integer", "a string"),
        7,
    ),
    # -- any state ------------------------------------------------------------------------
    Bad(
        "state not a mapping",
        flow("- {Type: Succeed, Name: A}\n- Pass"),
        "States[1]",
        ("must be a state", "a string"),
        7,
    ),
    Bad(
        "state without Name",
        flow("- {Type: Succeed, Name: A}\n- {Type: Pass, End: true}"),
        "States[1].Name",
        ("needs a Name",),
        7,
    ),
    Bad(
        "Name too long",
        flow(f"- {{Type: Succeed, Name: {'n' * 129}}}").replace(
            "StartAt: A", f"StartAt: {'n' * 129}"
        ),
        f"States[0] (Name: {'n' * 129}).Name",
        ("at most 128",),
        6,
    ),
    Bad(
        "state without Type",
        flow("- {Name: A, End: true}"),
        "States[0] (Name: A).Type",
        ("required", "Type", "Pass, Task"),
        6,
    ),
    Bad(
        "unknown Type",
        flow("- {Type: Loop, Name: A, End: true}"),
        "States[0] (Name: A).Type",
        ("'Loop' is not a state type",),
        6,
    ),
    Bad(
        "Type not a string",
        flow("- {Type: [Pass], Name: A, End: true}"),
        "States[0] (Name: A).Type",
        ("not a state type",),
        6,
    ),
    Bad(
        "unknown field with hint",
        flow("- Type: Pass\n  Name: A\n  Nxt: B\n  End: true"),
        "States[0] (Name: A).Nxt",
        ("unknown field 'Nxt'", "Pass state", "did you mean 'Next'"),
        8,
    ),
    Bad(
        "field of the wrong case",
        flow("- Type: Pass\n  Name: A\n  inputConstructor: {}\n  End: true"),
        "States[0] (Name: A).inputConstructor",
        ("unknown field 'inputConstructor'", "did you mean 'InputConstructor'"),
        8,
    ),
    Bad(
        "Retry on Pass",
        flow("- Type: Pass\n  Name: A\n  End: true\n  Retry: []"),
        "States[0] (Name: A).Retry",
        ("unknown field 'Retry'",),
        9,
    ),
    Bad(
        "Next and End",
        flow("- Type: Pass\n  Name: A\n  Next: B\n  End: true\n" + PASS_B),
        "States[0] (Name: A).Next",
        ("both Next and End",),
        8,
    ),
    Bad(
        "neither Next nor End",
        flow("- Type: Pass\n  Name: A"),
        "States[0] (Name: A)",
        ("either Next", "End: true"),
        6,
    ),
    Bad(
        "neither Next nor End, before another state",
        flow("- Type: Pass\n  Name: A\n" + PASS_B),
        "States[0] (Name: A)",
        ("either Next",),
        6,
    ),
    Bad(
        "End false alone",
        flow("- Type: Pass\n  Name: A\n  End: false"),
        "States[0] (Name: A).End",
        ("End: false needs a Next",),
        8,
    ),
    Bad(
        "End not a boolean",
        flow("- Type: Pass\n  Name: A\n  End: yes"),
        "States[0] (Name: A).End",
        ("true or false", "a string"),
        8,
    ),
    Bad(
        "Next unknown",
        flow("- Type: Pass\n  Name: A\n  Next: Nowhere"),
        "States[0] (Name: A).Next",
        ("no state named 'Nowhere'",),
        8,
    ),
    Bad(
        "Next typo is not followed by unreachable noise",
        flow("- Type: Pass\n  Name: A\n  Next: b\n" + PASS_B),
        "States[0] (Name: A).Next",
        ("no state named 'b'", "did you mean 'B'"),
        8,
    ),
    Bad(
        "Next not a string",
        flow("- Type: Pass\n  Name: A\n  Next: 5\n" + PASS_B),
        "States[0] (Name: A).Next",
        ("must name a state", "a number"),
        8,
    ),
    Bad(
        "Next into a branch",
        flow("""
            - Type: Pass
              Name: A
              Next: Inner
            - Type: Parallel
              Name: Par
              End: true
              Branches:
                - StartAt: Inner
                  States:
                    - {Type: Pass, Name: Inner, End: true}
        """),
        "States[0] (Name: A).Next",
        ("'Inner' is a state in another scope", "branch 0 of Parallel 'Par'"),
        8,
    ),
    Bad(
        "Next out of a processor",
        flow("""
            - Type: Map
              Name: A
              ItemsPath: $Input.xs
              Next: Out
              Processor:
                StartAt: Inner
                States:
                  - {Type: Pass, Name: Inner, Next: Out}
            - {Type: Pass, Name: Out, End: true}
        """),
        "States[0] (Name: A).Processor.States[0] (Name: Inner).Next",
        ("'Out' is a state in another scope", "the flow"),
        13,
    ),
    Bad(
        "duplicate name",
        flow(
            "- {Type: Pass, Name: A, Next: B}\n- {Type: Pass, Name: B, Next: A}\n- {Type: Pass, Name: B, End: true}"
        ),
        "States[2] (Name: B).Name",
        ("'B' is already used", "unique"),
        8,
    ),
    Bad(
        "duplicate name across scopes",
        flow("""
            - Type: Parallel
              Name: A
              End: true
              Branches:
                - StartAt: A
                  States:
                    - {Type: Succeed, Name: A}
        """),
        "States[0] (Name: A).Branches[0].States[0] (Name: A).Name",
        ("'A' is already used", "the flow"),
        12,
    ),
    Bad(
        "unreachable",
        flow("- {Type: Pass, Name: A, End: true}\n- {Type: Pass, Name: Orphan, End: true}"),
        "States[1] (Name: Orphan)",
        ("'Orphan' can never run", "StartAt 'A'"),
        7,
    ),
    Bad(
        "unreachable in a branch",
        flow(
            "- Type: Parallel\n  Name: A\n  End: true\n  Branches:\n    - StartAt: B1\n      States:\n        - {Type: Pass, Name: B1, End: true}\n        - {Type: Pass, Name: B2, End: true}"
        ),
        "States[0] (Name: A).Branches[0].States[1] (Name: B2)",
        ("'B2' can never run", "StartAt 'B1'"),
        13,
    ),
    # -- constructors and expressions -----------------------------------------------------
    Bad(
        "constructor not a mapping",
        flow("- Type: Pass\n  Name: A\n  InputConstructor: [1]\n  End: true"),
        "States[0] (Name: A).InputConstructor",
        ("mapping", "a list"),
        8,
    ),
    Bad(
        "bad expression",
        flow("- Type: Pass\n  Name: A\n  OutputConstructor:\n    total.$: $Input.a +\n  End: true"),
        "States[0] (Name: A).OutputConstructor.total.$",
        ("'total.$' is not a valid expression", "$Input.a +"),
        9,
    ),
    Bad(
        "literal under a .$ key",
        flow(
            "- Type: Pass\n  Name: A\n  InputConstructor:\n    greeting.$: hello world\n  End: true"
        ),
        "States[0] (Name: A).InputConstructor.greeting.$",
        ("greeting", "not a valid expression", "drop '.$'"),
        9,
    ),
    Bad(
        ".$ value not a string",
        flow("- Type: Pass\n  Name: A\n  InputConstructor:\n    n.$: 5\n  End: true"),
        "States[0] (Name: A).InputConstructor.n.$",
        ("expression string", "a number", "drop '.$'"),
        9,
    ),
    Bad(
        "bare .$ key",
        flow("- Type: Pass\n  Name: A\n  InputConstructor:\n    .$: $Input\n  End: true"),
        "States[0] (Name: A).InputConstructor..$",
        ("needs a name",),
        9,
    ),
    Bad(
        "key and .$ key clash",
        flow(
            "- Type: Pass\n  Name: A\n  InputConstructor:\n    a: 1\n    a.$: $Input.a\n  End: true"
        ),
        "States[0] (Name: A).InputConstructor.a.$",
        ("both set the key 'a'",),
        10,
    ),
    Bad(
        "nested bad expression",
        flow(
            "- Type: Pass\n  Name: A\n  InputConstructor:\n    outer:\n      - {inner.$: '$Input.'}\n  End: true"
        ),
        "States[0] (Name: A).InputConstructor.outer[0].inner.$",
        ("not a valid expression",),
        10,
    ),
    Bad(
        "$Output in InputConstructor",
        flow("- Type: Pass\n  Name: A\n  InputConstructor:\n    a.$: $Output.x\n  End: true"),
        "States[0] (Name: A).InputConstructor.a.$",
        ("$Output cannot be used in InputConstructor", "only in OutputConstructor"),
        9,
    ),
    Bad(
        "$Item in OutputConstructor",
        flow("- Type: Pass\n  Name: A\n  OutputConstructor:\n    a.$: $Item\n  End: true"),
        "States[0] (Name: A).OutputConstructor.a.$",
        ("$Item cannot be used", "ItemConstructor"),
        9,
    ),
    Bad(
        "unknown function",
        flow(
            "- Type: Pass\n  Name: A\n  OutputConstructor:\n    x.$: noSuchFunction($Input)\n  End: true"
        ),
        "States[0] (Name: A).OutputConstructor.x.$",
        ("noSuchFunction",),
        9,
    ),
    Bad(
        "GlobalConstructor not a mapping",
        flow("- Type: Pass\n  Name: A\n  GlobalConstructor: x\n  End: true"),
        "States[0] (Name: A).GlobalConstructor",
        ("mapping", "a string"),
        8,
    ),
    # -- Task -----------------------------------------------------------------------------
    Bad(
        "Action missing",
        flow("- Type: Task\n  Name: A\n  Parameters: {functionName: f}\n  End: true"),
        "States[0] (Name: A).Action",
        ("required field 'Action'", "Task state"),
        6,
    ),
    Bad(
        "Action unknown",
        flow(
            "- Type: Task\n  Name: A\n  Action: ECS:DescribeInstances\n  Parameters: {x: 1}\n  End: true"
        ),
        "States[0] (Name: A).Action",
        ("'ECS:DescribeInstances' is not a supported action", "FC:InvokeFunction"),
        8,
    ),
    Bad(
        "TaskMode unknown",
        flow(TASK_A + "  TaskMode: Async\n  End: true"),
        "States[0] (Name: A).TaskMode",
        ("'Async' is not a task mode", "RequestComplete"),
        10,
    ),
    Bad(
        "TaskMode unsupported by HTTP",
        flow(
            "- Type: Task\n  Name: A\n  Action: HTTP:Request\n  TaskMode: WaitForSystemCallback\n  Parameters: {url: 'http://x'}\n  End: true"
        ),
        "States[0] (Name: A).TaskMode",
        ("HTTP:Request does not support WaitForSystemCallback",),
        9,
    ),
    Bad(
        "express callback",
        flow(TASK_A + "  TaskMode: WaitForCustomCallback\n  End: true"),
        "States[0] (Name: A).TaskMode",
        ("WaitForCustomCallback", "Express", "RequestComplete"),
        10,
        EXPRESS,
    ),
    Bad(
        "Parameters missing",
        flow("- Type: Task\n  Name: A\n  Action: FC:InvokeFunction\n  End: true"),
        "States[0] (Name: A).Parameters",
        ("needs Parameters", "functionName"),
        6,
    ),
    Bad(
        "Parameters lack functionName",
        flow(
            "- Type: Task\n  Name: A\n  Action: FC:InvokeFunction\n  Parameters: {body: {}}\n  End: true"
        ),
        "States[0] (Name: A).Parameters",
        ("needs functionName or resourceArn",),
        9,
    ),
    Bad(
        "Parameters not a mapping",
        flow("- Type: Task\n  Name: A\n  Action: FC:InvokeFunction\n  Parameters: f\n  End: true"),
        "States[0] (Name: A).Parameters",
        ("mapping", "a string"),
        9,
    ),
    Bad(
        "HTTP method unknown",
        flow(
            "- Type: Task\n  Name: A\n  Action: HTTP:Request\n  Parameters: {url: 'http://x', method: FETCH}\n  End: true"
        ),
        "States[0] (Name: A).Parameters.method",
        ("'FETCH' is not an HTTP method",),
        9,
    ),
    Bad(
        "Timeout over the limit",
        flow(TASK_A + "  Timeout: 604801\n  End: true"),
        "States[0] (Name: A).Timeout",
        ("from 0 to 604800", "604801"),
        10,
    ),
    Bad(
        "Timeout negative",
        flow(TASK_A + "  Timeout: -1\n  End: true"),
        "States[0] (Name: A).Timeout",
        ("from 0 to 604800", "-1"),
        10,
    ),
    Bad(
        "Timeout and Timeout.$",
        flow(TASK_A + "  Timeout: 5\n  Timeout.$: $Input.t\n  End: true"),
        "States[0] (Name: A).Timeout.$",
        ("either Timeout or Timeout.$",),
        11,
    ),
    Bad(
        "Timeout.$ not an expression",
        flow(TASK_A + "  Timeout.$: 5\n  End: true"),
        "States[0] (Name: A).Timeout.$",
        ("expression string", "a number"),
        10,
    ),
    Bad(
        "HeartbeatSeconds not below Timeout",
        flow(TASK_A + "  Timeout: 10\n  HeartbeatSeconds: 10\n  End: true"),
        "States[0] (Name: A).HeartbeatSeconds",
        ("less than Timeout",),
        11,
    ),
    # -- Retry and Catch ------------------------------------------------------------------
    Bad(
        "Retry not a list",
        flow(TASK_A + "  Retry: {Errors: [X]}\n  End: true"),
        "States[0] (Name: A).Retry",
        ("list of rules",),
        10,
    ),
    Bad(
        "Retry rule not a mapping",
        flow(TASK_A + "  Retry: [x]\n  End: true"),
        "States[0] (Name: A).Retry[0]",
        ("must be a rule", "a string"),
        10,
    ),
    Bad(
        "MaxAttempts negative",
        flow(
            TASK_A
            + "  Retry:\n    - Errors: [FnF.ALL]\n      MaxAttempts: -1\n      IntervalSeconds: 1\n  End: true"
        ),
        "States[0] (Name: A).Retry[0].MaxAttempts",
        ("must be an integer from 0", "-1"),
        12,
    ),
    Bad(
        "MaxAttempts not an integer",
        flow(
            TASK_A
            + "  Retry:\n    - Errors: [FnF.ALL]\n      MaxAttempts: 1.5\n      IntervalSeconds: 1\n  End: true"
        ),
        "States[0] (Name: A).Retry[0].MaxAttempts",
        ("must be an integer", "a number"),
        12,
    ),
    Bad(
        "MaxAttempts missing",
        flow(TASK_A + "  Retry:\n    - Errors: [FnF.ALL]\n      IntervalSeconds: 1\n  End: true"),
        "States[0] (Name: A).Retry[0].MaxAttempts",
        ("required field 'MaxAttempts'", "Retry rule"),
        11,
    ),
    Bad(
        "IntervalSeconds negative",
        flow(
            TASK_A
            + "  Retry:\n    - {Errors: [X], MaxAttempts: 1, IntervalSeconds: -2}\n  End: true"
        ),
        "States[0] (Name: A).Retry[0].IntervalSeconds",
        ("must be a number from 0", "-2"),
        11,
    ),
    Bad(
        "BackoffRate below 1",
        flow(
            TASK_A
            + "  Retry:\n    - {Errors: [X], MaxAttempts: 1, IntervalSeconds: 1, BackoffRate: 0.5}\n  End: true"
        ),
        "States[0] (Name: A).Retry[0].BackoffRate",
        ("from 1 to 100", "0.5"),
        11,
    ),
    Bad(
        "MaxBackoffSeconds not a number",
        flow(
            TASK_A
            + "  Retry:\n    - {Errors: [X], MaxAttempts: 1, IntervalSeconds: 1, MaxBackoffSeconds: lots}\n  End: true"
        ),
        "States[0] (Name: A).Retry[0].MaxBackoffSeconds",
        ("must be a number", "a string"),
        11,
    ),
    Bad(
        "Errors empty",
        flow(
            TASK_A + "  Retry:\n    - {Errors: [], MaxAttempts: 1, IntervalSeconds: 1}\n  End: true"
        ),
        "States[0] (Name: A).Retry[0].Errors",
        ("non-empty list", "an empty list"),
        11,
    ),
    Bad(
        "Errors item not a string",
        flow(
            TASK_A
            + "  Retry:\n    - {Errors: [X, 5], MaxAttempts: 1, IntervalSeconds: 1}\n  End: true"
        ),
        "States[0] (Name: A).Retry[0].Errors[1]",
        ("non-empty string", "a number"),
        11,
    ),
    Bad(
        "FnF.ALL not alone",
        flow(
            TASK_A
            + "  Retry:\n    - {Errors: [X, FnF.ALL], MaxAttempts: 1, IntervalSeconds: 1}\n  End: true"
        ),
        "States[0] (Name: A).Retry[0].Errors",
        ("FnF.ALL", "only name"),
        11,
    ),
    Bad(
        "FnF.ALL not last",
        flow(
            TASK_A
            + "  Retry:\n    - {Errors: [FnF.ALL], MaxAttempts: 1, IntervalSeconds: 1}\n    - {Errors: [X], MaxAttempts: 1, IntervalSeconds: 1}\n  End: true"
        ),
        "States[0] (Name: A).Retry[0].Errors",
        ("FnF.ALL", "must be the last"),
        11,
    ),
    Bad(
        "Retry unknown field",
        flow(
            TASK_A
            + "  Retry:\n    - {Errors: [X], MaxAttempts: 1, IntervalSeconds: 1, Interval: 2}\n  End: true"
        ),
        "States[0] (Name: A).Retry[0].Interval",
        ("unknown field 'Interval'", "Retry rule"),
        11,
    ),
    Bad(
        "Catch without Next",
        flow(TASK_A + "  Catch:\n    - Errors: [FnF.ALL]\n  End: true"),
        "States[0] (Name: A).Catch[0].Next",
        ("required field 'Next'", "Catch rule"),
        11,
    ),
    Bad(
        "Catch Next unknown",
        flow(TASK_A + "  Catch:\n    - {Errors: [FnF.ALL], Next: Nowhere}\n  End: true"),
        "States[0] (Name: A).Catch[0].Next",
        ("no state named 'Nowhere'",),
        11,
    ),
    Bad(
        "Catch FnF.ALL not last",
        flow(
            TASK_A
            + "  Catch:\n    - {Errors: [FnF.ALL], Next: B}\n    - {Errors: [X], Next: B}\n  End: true\n"
            + PASS_B
        ),
        "States[0] (Name: A).Catch[0].Errors",
        ("must be the last",),
        11,
    ),
    Bad(
        "Catch OutputConstructor with $Output",
        flow(
            TASK_A
            + "  Catch:\n    - Errors: [FnF.ALL]\n      Next: B\n      OutputConstructor: {o.$: $Output}\n  End: true\n"
            + PASS_B
        ),
        "States[0] (Name: A).Catch[0].OutputConstructor.o.$",
        ("$Output cannot be used",),
        13,
    ),
    Bad(
        "Catch unknown field",
        flow(
            TASK_A
            + "  Catch:\n    - {Errors: [X], Next: B, ResultPath: $.x}\n  End: true\n"
            + PASS_B
        ),
        "States[0] (Name: A).Catch[0].ResultPath",
        ("unknown field 'ResultPath'", "Catch rule"),
        11,
    ),
    # -- Choice ---------------------------------------------------------------------------
    Bad(
        "Choice without Default",
        flow(
            "- Type: Choice\n  Name: A\n  Branches:\n    - {Condition: $Input.x == 1, Next: B}\n"
            + PASS_B
        ),
        "States[0] (Name: A).Default",
        ("needs Default",),
        6,
    ),
    Bad(
        "Choice without Default, before the state it meant",
        flow(
            "- Type: Choice\n  Name: A\n  Branches:\n    - {Condition: $Input.x == 1, Next: B}\n"
            + PASS_B
            + "- {Type: Succeed, Name: C}"
        ),
        "States[0] (Name: A).Default",
        ("needs Default",),
        6,
    ),
    Bad(
        "Choice branch with a bad Condition keeps its target reachable",
        flow(
            "- Type: Choice\n  Name: A\n  Branches:\n    - {Condition: '$Input.x ==', Next: C}\n  Default: B\n"
            + PASS_B
            + "- {Type: Succeed, Name: C}"
        ),
        "States[0] (Name: A).Branches[0].Condition",
        ("not valid",),
        9,
    ),
    Bad(
        "Catch without Next, before the state it meant",
        flow(TASK_A + "  Catch:\n    - Errors: [FnF.ALL]\n  End: true\n" + PASS_B),
        "States[0] (Name: A).Catch[0].Next",
        ("required field 'Next'",),
        11,
    ),
    Bad(
        "Choice without Branches",
        flow("- Type: Choice\n  Name: A\n  Default: B\n" + PASS_B),
        "States[0] (Name: A).Branches",
        ("required field 'Branches'",),
        6,
    ),
    Bad(
        "Choice Branches empty",
        flow("- Type: Choice\n  Name: A\n  Branches: []\n  Default: B\n" + PASS_B),
        "States[0] (Name: A).Branches",
        ("non-empty list",),
        8,
    ),
    Bad(
        "Choice Default unknown",
        flow(
            "- Type: Choice\n  Name: A\n  Branches:\n    - {Condition: $Input.x == 1, Next: B}\n  Default: C\n"
            + PASS_B
        ),
        "States[0] (Name: A).Default",
        ("no state named 'C'",),
        10,
    ),
    Bad(
        "Choice branch Next unknown",
        flow(
            "- Type: Choice\n  Name: A\n  Branches:\n    - {Condition: $Input.x == 1, Next: C}\n  Default: B\n"
            + PASS_B
        ),
        "States[0] (Name: A).Branches[0].Next",
        ("no state named 'C'",),
        9,
    ),
    Bad(
        "Choice Condition missing",
        flow("- Type: Choice\n  Name: A\n  Branches:\n    - {Next: B}\n  Default: B\n" + PASS_B),
        "States[0] (Name: A).Branches[0].Condition",
        ("required field 'Condition'", "Choice branch"),
        9,
    ),
    Bad(
        "Choice Condition invalid",
        flow(
            "- Type: Choice\n  Name: A\n  Branches:\n    - {Condition: '$Input.x ==', Next: B}\n  Default: B\n"
            + PASS_B
        ),
        "States[0] (Name: A).Branches[0].Condition",
        ("not valid",),
        9,
    ),
    Bad(
        "Choice Condition not a string",
        flow(
            "- Type: Choice\n  Name: A\n  Branches:\n    - {Condition: true, Next: B}\n  Default: B\n"
            + PASS_B
        ),
        "States[0] (Name: A).Branches[0].Condition",
        ("expression string", "a boolean"),
        9,
    ),
    Bad(
        "Choice Condition with $Output",
        flow(
            "- Type: Choice\n  Name: A\n  Branches:\n    - {Condition: $Output.x == 1, Next: B}\n  Default: B\n"
            + PASS_B
        ),
        "States[0] (Name: A).Branches[0].Condition",
        ("$Output cannot be used in a Condition",),
        9,
    ),
    Bad(
        "Choice with Next",
        flow(
            "- Type: Choice\n  Name: A\n  Branches:\n    - {Condition: $Input.x == 1, Next: B}\n  Default: B\n  Next: B\n"
            + PASS_B
        ),
        "States[0] (Name: A).Next",
        ("Choice state takes no Next",),
        11,
    ),
    Bad(
        "Choice with End",
        flow(
            "- Type: Choice\n  Name: A\n  Branches:\n    - {Condition: $Input.x == 1, Next: B}\n  Default: B\n  End: true\n"
            + PASS_B
        ),
        "States[0] (Name: A).End",
        ("Choice state takes no End",),
        11,
    ),
    Bad(
        "Choice branch unknown field",
        flow(
            "- Type: Choice\n  Name: A\n  Branches:\n    - {Condition: $Input.x == 1, Next: B, Variable: x}\n  Default: B\n"
            + PASS_B
        ),
        "States[0] (Name: A).Branches[0].Variable",
        ("unknown field 'Variable'", "Choice branch"),
        9,
    ),
    Bad(
        "Choice OutputConstructor",
        flow(
            "- Type: Choice\n  Name: A\n  Branches:\n    - {Condition: $Input.x == 1, Next: B}\n  Default: B\n  OutputConstructor: {}\n"
            + PASS_B
        ),
        "States[0] (Name: A).OutputConstructor",
        ("unknown field 'OutputConstructor'", "Choice state"),
        11,
    ),
    # -- Parallel -------------------------------------------------------------------------
    Bad(
        "Parallel Branches empty",
        flow("- {Type: Parallel, Name: A, Branches: [], End: true}"),
        "States[0] (Name: A).Branches",
        ("list of 1 to 50 branches",),
        6,
    ),
    Bad(
        "Parallel Branches missing",
        flow("- {Type: Parallel, Name: A, End: true}"),
        "States[0] (Name: A).Branches",
        ("required field 'Branches'",),
        6,
    ),
    Bad(
        "Parallel too many branches",
        flow(
            "- Type: Parallel\n  Name: A\n  End: true\n  Branches:\n"
            + "".join(
                f"    - {{StartAt: P{i}, States: [{{Type: Succeed, Name: P{i}}}]}}\n"
                for i in range(51)
            )
        ),
        "States[0] (Name: A).Branches",
        ("51 branches", "at most 50"),
        9,
    ),
    Bad(
        "Parallel branch not a mapping",
        flow("- {Type: Parallel, Name: A, Branches: [x], End: true}"),
        "States[0] (Name: A).Branches[0]",
        ("StartAt and States", "a string"),
        6,
    ),
    Bad(
        "Parallel branch without StartAt",
        flow(
            "- Type: Parallel\n  Name: A\n  End: true\n  Branches:\n    - States: [{Type: Succeed, Name: B}]"
        ),
        "States[0] (Name: A).Branches[0].StartAt",
        ("required field 'StartAt'",),
        10,
    ),
    Bad(
        "Parallel branch unknown field",
        flow(
            "- Type: Parallel\n  Name: A\n  End: true\n  Branches:\n    - StartAt: B\n      Comment: x\n      States: [{Type: Succeed, Name: B}]"
        ),
        "States[0] (Name: A).Branches[0].Comment",
        ("unknown field 'Comment'",),
        11,
    ),
    Bad(
        "Parallel branch state problem",
        flow(
            "- Type: Parallel\n  Name: A\n  End: true\n  Branches:\n    - StartAt: B\n      States:\n        - {Type: Pass, Name: B}"
        ),
        "States[0] (Name: A).Branches[0].States[0] (Name: B)",
        ("either Next",),
        12,
    ),
    # -- Map ------------------------------------------------------------------------------
    Bad(
        "Map without Processor",
        flow("- {Type: Map, Name: A, ItemsPath: $Input.xs, End: true}"),
        "States[0] (Name: A).Processor",
        ("required field 'Processor'",),
        6,
    ),
    Bad(
        "Map without ItemsPath",
        flow(
            "- {Type: Map, Name: A, End: true, Processor: {StartAt: P, States: [{Type: Succeed, Name: P}]}}"
        ),
        "States[0] (Name: A).ItemsPath",
        ("required field 'ItemsPath'",),
        6,
    ),
    Bad(
        "Map ItemsPath invalid",
        flow(
            "- {Type: Map, Name: A, ItemsPath: '$Input.', End: true, Processor: {StartAt: P, States: [{Type: Succeed, Name: P}]}}"
        ),
        "States[0] (Name: A).ItemsPath",
        ("not valid",),
        6,
    ),
    Bad(
        "Map ItemsPath with $Item",
        flow(
            "- {Type: Map, Name: A, ItemsPath: $Item, End: true, Processor: {StartAt: P, States: [{Type: Succeed, Name: P}]}}"
        ),
        "States[0] (Name: A).ItemsPath",
        ("$Item cannot be used in ItemsPath",),
        6,
    ),
    Bad(
        "Map Processor not a mapping",
        flow("- {Type: Map, Name: A, ItemsPath: $Input.xs, End: true, Processor: [P]}"),
        "States[0] (Name: A).Processor",
        ("StartAt and States", "a list"),
        6,
    ),
    Bad(
        "Map MaxConcurrency over 40",
        flow(
            "- Type: Map\n  Name: A\n  ItemsPath: $Input.xs\n  MaxConcurrency: 41\n  End: true\n  Processor: {StartAt: P, States: [{Type: Succeed, Name: P}]}"
        ),
        "States[0] (Name: A).MaxConcurrency",
        ("from 0 to 40", "41"),
        9,
    ),
    Bad(
        "Map MaxConcurrency not an integer",
        flow(
            "- Type: Map\n  Name: A\n  ItemsPath: $Input.xs\n  MaxConcurrency: many\n  End: true\n  Processor: {StartAt: P, States: [{Type: Succeed, Name: P}]}"
        ),
        "States[0] (Name: A).MaxConcurrency",
        ("integer", "a string"),
        9,
    ),
    Bad(
        "Map distributed field",
        flow(
            "- Type: Map\n  Name: A\n  ItemsPath: $Input.xs\n  ItemReader: {}\n  End: true\n  Processor: {StartAt: P, States: [{Type: Succeed, Name: P}]}"
        ),
        "States[0] (Name: A).ItemReader",
        ("distributed Map mode",),
        9,
    ),
    Bad(
        "Map ItemConstructor with $Output",
        flow(
            "- Type: Map\n  Name: A\n  ItemsPath: $Input.xs\n  ItemConstructor: {v.$: $Output}\n  End: true\n  Processor: {StartAt: P, States: [{Type: Succeed, Name: P}]}"
        ),
        "States[0] (Name: A).ItemConstructor.v.$",
        ("$Output cannot be used in ItemConstructor",),
        9,
    ),
    Bad(
        "Map processor express callback",
        flow(
            "- Type: Map\n  Name: A\n  ItemsPath: $Input.xs\n  End: true\n  Processor:\n    StartAt: P\n    States:\n      - {Type: Task, Name: P, Action: FC:InvokeFunction, TaskMode: WaitForSystemCallback, Parameters: {functionName: f}, End: true}"
        ),
        "States[0] (Name: A).Processor.States[0] (Name: P).TaskMode",
        ("Express",),
        13,
        EXPRESS,
    ),
    # -- Wait -----------------------------------------------------------------------------
    Bad(
        "Wait without duration",
        flow("- {Type: Wait, Name: A, End: true}"),
        "States[0] (Name: A)",
        ("needs one of Seconds",),
        6,
    ),
    Bad(
        "Wait with two durations",
        flow(
            "- Type: Wait\n  Name: A\n  Seconds: 1\n  UntilDateTime: '2030-01-01T00:00:00Z'\n  End: true"
        ),
        "States[0] (Name: A).UntilDateTime",
        ("only one of Seconds, UntilDateTime",),
        9,
    ),
    Bad(
        "Wait Seconds negative",
        flow("- {Type: Wait, Name: A, Seconds: -1, End: true}"),
        "States[0] (Name: A).Seconds",
        (">= 0", "-1"),
        6,
    ),
    Bad(
        "Wait Seconds a string",
        flow("- Type: Wait\n  Name: A\n  Seconds: '10'\n  End: true"),
        "States[0] (Name: A).Seconds",
        ("must be a number", "a string"),
        8,
    ),
    Bad(
        "Wait past a year",
        flow("- Type: Wait\n  Name: A\n  Seconds: 31536001\n  End: true"),
        "States[0] (Name: A).Seconds",
        ("waits 31536001 seconds", "one-year"),
        8,
    ),
    Bad(
        "Express Wait past five minutes",
        flow("- Type: Wait\n  Name: A\n  Seconds: 600\n  End: true"),
        "States[0] (Name: A).Seconds",
        ("600", "five-minute limit"),
        8,
        EXPRESS,
    ),
    Bad(
        "Wait UntilDateTime without offset",
        flow("- Type: Wait\n  Name: A\n  UntilDateTime: '2030-01-01T00:00:00'\n  End: true"),
        "States[0] (Name: A).UntilDateTime",
        ("RFC 3339", "time zone"),
        8,
    ),
    Bad(
        "Wait UntilDateTime garbage",
        flow("- Type: Wait\n  Name: A\n  UntilDateTime: tomorrow\n  End: true"),
        "States[0] (Name: A).UntilDateTime",
        ("'tomorrow' is not an RFC 3339 date-time",),
        8,
    ),
    Bad(
        "Wait Seconds.$ invalid",
        flow("- Type: Wait\n  Name: A\n  Seconds.$: '$Input.'\n  End: true"),
        "States[0] (Name: A).Seconds.$",
        ("not valid",),
        8,
    ),
    # -- Succeed and Fail -----------------------------------------------------------------
    Bad(
        "Succeed with Next",
        flow("- {Type: Succeed, Name: A, Next: B}"),
        "States[0] (Name: A).Next",
        ("unknown field 'Next'", "Succeed state"),
        6,
    ),
    Bad(
        "Succeed End false",
        flow("- {Type: Succeed, Name: A, End: false}"),
        "States[0] (Name: A).End",
        ("always ends its scope",),
        6,
    ),
    Bad(
        "Fail Code not a string",
        flow("- {Type: Fail, Name: A, Code: 5}"),
        "States[0] (Name: A).Code",
        ("must be a string", "a number"),
        6,
    ),
    Bad(
        "Fail Code too long",
        flow(f"- {{Type: Fail, Name: A, Code: {'C' * 129}}}"),
        "States[0] (Name: A).Code",
        ("at most 128",),
        6,
    ),
    Bad(
        "Fail End false",
        flow("- {Type: Fail, Name: A, End: false}"),
        "States[0] (Name: A).End",
        ("always ends the execution",),
        6,
    ),
    Bad(
        "Fail Retry",
        flow("- {Type: Fail, Name: A, Retry: []}"),
        "States[0] (Name: A).Retry",
        ("unknown field 'Retry'", "Fail state"),
        6,
    ),
]


@pytest.mark.parametrize("case", BAD, ids=[case.id for case in BAD])
def test_each_kind_of_problem(case: Bad) -> None:
    problems = problems_of(case.text, case.mode)
    assert len(problems) == 1, f"expected one problem, got:\n{show(problems)}"
    problem = problems[0]
    assert problem.location == case.location, show(problems)
    for word in case.words:
        assert word in problem.message, f"{word!r} not in: {problem}"
    assert problem.line == case.line, show(problems)
    with pytest.raises(InvalidDefinition) as caught:
        compile_flow(case.text, case.mode)
    assert caught.value.problems == [str(problem)]


def test_case_ids_are_unique() -> None:
    ids = [case.id for case in BAD]
    assert len(ids) == len(set(ids))


def test_problem_text_reads_line_location_message() -> None:
    (problem,) = problems_of(
        flow(
            TASK_A
            + "  Retry:\n    - Errors: [FnF.ALL]\n      MaxAttempts: -1\n      IntervalSeconds: 1\n  End: true"
        )
    )
    assert (
        str(problem)
        == "line 12: States[0] (Name: A).Retry[0].MaxAttempts: must be an integer from 0 to 1000, not -1"
    )


def test_every_problem_of_a_definition_in_one_pass() -> None:
    text = (
        flow("""
        - Type: Task
          Name: A
          Action: FC:InvokeFunction
          Parameters: {functionName: charge}
          Timeout: 999999999
          Retry:
            - Errors: [FnF.ALL]
              MaxAttempts: -1
              IntervalSeconds: 1
          Next: Missing
        - Type: Choice
          Name: Route
          Branches:
            - Condition: $Input.a ==
              Next: Done
        - Type: Pass
          Name: Done
          Colour: blue
          End: true
        - Type: Wait
          Name: Done
          End: true
        - Type: Map
          Name: Each
          ItemsPath: $Input.xs
          MaxConcurrency: 100
          End: true
          Processor:
            StartAt: P
            States:
              - {Type: Pass, Name: P, End: true}
              - {Type: Pass, Name: Q, End: true}
        - Type: Pass
          Name: Orphan
          InputConstructor:
            x.$: nope(
          End: true
        - Type: Succeed
          Name: Last
          Next: Done
    """)
        + "Extra: 1\n"
    )
    problems = problems_of(text)
    expected = [
        (10, "States[0] (Name: A).Timeout", "from 0 to 604800"),
        (13, "States[0] (Name: A).Retry[0].MaxAttempts", "from 0 to 1000"),
        (15, "States[0] (Name: A).Next", "no state named 'Missing'"),
        (16, "States[1] (Name: Route).Default", "needs Default"),
        (19, "States[1] (Name: Route).Branches[0].Condition", "not valid"),
        (23, "States[2] (Name: Done).Colour", "unknown field 'Colour'"),
        (25, "States[3] (Name: Done)", "needs one of Seconds"),
        (26, "States[3] (Name: Done).Name", "'Done' is already used"),
        (31, "States[4] (Name: Each).MaxConcurrency", "from 0 to 40"),
        (37, "States[4] (Name: Each).Processor.States[1] (Name: Q)", "'Q' can never run"),
        (41, "States[5] (Name: Orphan).InputConstructor.x.$", "not a valid expression"),
        (45, "States[6] (Name: Last).Next", "unknown field 'Next'"),
        (46, "Extra", "unknown field 'Extra'"),
    ]
    got = [(p.line, p.location) for p in problems]
    assert got == [(line, location) for line, location, _ in expected], show(problems)
    for problem, (_, _, words) in zip(problems, expected, strict=True):
        assert words in problem.message, str(problem)
    with pytest.raises(InvalidDefinition) as caught:
        compile_flow(text)
    assert caught.value.problems == [str(p) for p in problems]
    assert caught.value.message.startswith(f"the flow definition has {len(problems)} problems:\n")
    assert isinstance(caught.value, InvalidArgument)
    assert caught.value.code == "InvalidDefinition"


def test_problems_are_in_document_order() -> None:
    text = flow(
        "- {Type: Pass, Name: A, Next: Z}\n- {Type: Pass, Name: B, Next: Y}\n- {Type: Pass, Name: C, Nxt: 1}"
    )
    lines = [p.line or 0 for p in problems_of(text)]
    assert lines == sorted(lines)
    assert len(lines) == 4  # two unknown targets, an unknown field, C without a transition


def test_line_numbers_in_json() -> None:
    text = (
        '{\n  "Type": "StateMachine",\n  "SpecVersion": "v1",\n  "StartAt": "A",\n  "States": [\n'
        '    {\n      "Type": "Pass",\n      "Name": "A",\n      "Next": "Nowhere"\n    }\n  ]\n}\n'
    )
    (problem,) = problems_of(text)
    assert (problem.line, problem.location) == (9, "States[0] (Name: A).Next")


def test_control_characters_in_names_are_escaped_so_each_problem_stays_on_one_line() -> None:
    text = flow('- Type: Pass\n  Name: A\n  "Co\\nlour\\e": 1\n  End: true')
    (problem,) = problems_of(text)
    assert "\n" not in str(problem)
    assert "\x1b" not in str(problem)
    assert "Co\\nlour\\x1b" in problem.message


def test_a_long_flow_with_many_bad_targets_is_checked_quickly() -> None:
    # One unknown target per state: the "did you mean" hint must not scan every name each time.
    count = 3000
    states = "".join(f"- {{Type: Pass, Name: s{i}, Next: t{i}}}\n" for i in range(count))
    problems = problems_of(flow(states).replace("StartAt: A", "StartAt: s0"))
    assert len(problems) == count
    assert all("no state named" in p.message for p in problems)


def test_absurd_numbers_give_problems_not_exceptions() -> None:
    huge = "9" * 4000
    text = flow(
        TASK_A
        + f"  Timeout: {huge}\n  Retry:\n    - {{Errors: [X], MaxAttempts: {huge}, IntervalSeconds: {huge}, BackoffRate: 0x{'f' * 5000}}}\n  End: true"
    )
    problems = problems_of(text)
    assert [p.location.rsplit(".", 1)[-1] for p in problems] == [
        "Timeout",
        "MaxAttempts",
        "IntervalSeconds",
        "BackoffRate",
    ]
    assert all(len(str(p)) < 300 for p in problems)
    wait = flow(f"- {{Type: Wait, Name: A, Seconds: {huge}, End: true}}")
    (problem,) = problems_of(wait)
    assert problem.location == "States[0] (Name: A).Seconds"


def test_limits_are_configurable() -> None:
    limits = Limits(max_parallel_branches=2, max_map_concurrency=5, max_task_timeout_seconds=60)
    text = flow("""
        - Type: Parallel
          Name: A
          Next: M
          Branches:
            - {StartAt: B0, States: [{Type: Succeed, Name: B0}]}
            - {StartAt: B1, States: [{Type: Succeed, Name: B1}]}
            - {StartAt: B2, States: [{Type: Succeed, Name: B2}]}
        - Type: Map
          Name: M
          ItemsPath: $Input.xs
          MaxConcurrency: 6
          Next: T
          Processor: {StartAt: P, States: [{Type: Succeed, Name: P}]}
        - {Type: Task, Name: T, Action: FC:InvokeFunction, Parameters: {functionName: f}, Timeout: 61, End: true}
    """)
    messages = show(check_flow(text, limits=limits))
    assert "at most 2" in messages
    assert "from 0 to 5" in messages
    assert "from 0 to 60" in messages
    assert check_flow(text) == []


# -- valid flows and their plans --------------------------------------------------------------

EVERY_STATE = """\
Type: StateMachine
SpecVersion: v1
Name: everything
Description: one of each
Timeout: 600
StartAt: Start
States:
  - Type: Pass
    Name: Start
    Description: shapes the input
    InputConstructor:
      order.$: $Input.order
      fixed: 1
    GlobalConstructor:
      tenant.$: $Input.order.tenant
    Next: Charge
  - Type: Task
    Name: Charge
    Action: FC:InvokeFunction
    TaskMode: RequestComplete
    Timeout: 30
    HeartbeatSeconds: 10
    Parameters:
      functionName: charge
      body:
        id.$: $Input.order.id
    Retry:
      - Errors: [FC.ResourceThrottled, HTTP.503]
        Description: throttled
        MaxAttempts: 3
        IntervalSeconds: 2
        BackoffRate: 2
        MaxBackoffSeconds: 5
      - Errors: [FnF.ALL]
        MaxAttempts: 1
        IntervalSeconds: 0.5
    Catch:
      - Errors: [CardDeclined]
        Next: Declined
      - Errors: [FnF.ALL]
        Description: anything else
        OutputConstructor:
          code.$: $Context.Current.Error.Code
        Next: Failed
    OutputConstructor:
      charge.$: $Output.Body
    Next: Route
  - Type: Choice
    Name: Route
    InputConstructor:
      amount.$: $Input.charge.amount
    Branches:
      - Condition: $Input.amount > 100
        Description: big
        Next: Both
      - Condition: $Context.Execution.Input.vip == true
        Next: Each
    Default: Pause
  - Type: Parallel
    Name: Both
    Branches:
      - StartAt: Left
        States:
          - {Type: Pass, Name: Left, End: true}
      - StartAt: Right
        Description: the other side
        States:
          - {Type: Wait, Name: Right, Seconds: 1, Next: RightDone}
          - {Type: Succeed, Name: RightDone}
    Next: Each
  - Type: Map
    Name: Each
    ItemsPath: $Input.items
    MaxConcuccency: 5
    ItemConstructor:
      value.$: $Item
      index.$: $Index
    Processor:
      StartAt: Work
      States:
        - {Type: Pass, Name: Work, End: true}
    Next: Pause
  - Type: Wait
    Name: Pause
    UntilDateTime: "2030-01-01T00:00:00Z"
    Next: Later
  - Type: Wait
    Name: Later
    Seconds.$: $Input.delay
    Next: Done
  - Type: Succeed
    Name: Done
    End: true
  - Type: Fail
    Name: Declined
    Code: CardDeclined
    Detail: the card was declined
    End: true
  - Type: Fail
    Name: Failed
"""


@pytest.fixture(scope="module")
def plan() -> FlowPlan:
    return compile_flow(EVERY_STATE)


def test_every_state_type_compiles(plan: FlowPlan) -> None:
    assert check_flow(EVERY_STATE) == []
    assert plan.name == "everything"
    assert plan.description == "one of each"
    assert plan.mode is STANDARD
    assert plan.timeout_seconds == 600.0
    assert plan.state_count == 14  # 10 at the top, 3 in the branches, 1 in the processor
    scope = plan.scope
    assert scope.path == ""
    assert scope.start == 0
    assert scope.first.name == "Start"
    assert [type(s) for s in scope.states] == [
        PassState,
        TaskState,
        ChoiceState,
        ParallelState,
        MapState,
        WaitState,
        WaitState,
        SucceedState,
        FailState,
        FailState,
    ]
    assert [s.index for s in scope.states] == list(range(10))
    assert scope.index_by_name["Failed"] == 9
    assert scope.synchronous is False


def test_plan_of_pass(plan: FlowPlan) -> None:
    start = plan.scope.states[0]
    assert isinstance(start, PassState)
    assert start.next == 1
    assert start.input_constructor is not None and start.input_constructor.variables == {"$Input"}
    assert start.global_constructor is not None
    assert start.output_constructor is None


def test_plan_of_task(plan: FlowPlan) -> None:
    task = plan.scope.states[1]
    assert isinstance(task, TaskState)
    assert (task.action, task.mode, task.timeout_seconds, task.heartbeat_seconds) == (
        "FC:InvokeFunction",
        TaskMode.REQUEST_COMPLETE,
        30.0,
        10.0,
    )
    assert task.next == 2
    assert task.parameters is not None
    first, second = task.retry
    assert first.errors == {"FC.ResourceThrottled", "HTTP.503"} and not first.matches_all
    assert (
        first.max_attempts,
        first.interval_seconds,
        first.backoff_rate,
        first.max_backoff_seconds,
    ) == (3, 2.0, 2.0, 5.0)
    assert second.matches_all and second.backoff_rate == 1.0 and second.max_backoff_seconds is None
    assert second.interval_seconds == 0.5
    declined, anything = task.catch
    assert (declined.next, declined.output_constructor) == (8, None)
    assert anything.matches_all and anything.next == 9
    assert anything.output_constructor is not None and anything.output_constructor.uses_context
    assert task.has_rules and task.type_name == "Task"


def test_plan_of_choice(plan: FlowPlan) -> None:
    choice = plan.scope.states[2]
    assert isinstance(choice, ChoiceState)
    assert choice.next is None
    assert [b.next for b in choice.branches] == [3, 4]
    assert [b.condition.source for b in choice.branches] == [
        "$Input.amount > 100",
        "$Context.Execution.Input.vip == true",
    ]
    assert choice.default == 5
    assert choice.uses_context is True
    assert choice.input_constructor is not None


def test_plan_of_parallel(plan: FlowPlan) -> None:
    parallel = plan.scope.states[3]
    assert isinstance(parallel, ParallelState)
    assert parallel.next == 4
    left, right = parallel.branches
    assert isinstance(left, ScopePlan)
    assert (left.path, right.path) == ("Both/0", "Both/1")
    assert left.synchronous is True and right.synchronous is False
    assert [s.name for s in right.states] == ["Right", "RightDone"]
    assert right.states[0].next == 1


def test_plan_of_map(plan: FlowPlan) -> None:
    each = plan.scope.states[4]
    assert isinstance(each, MapState)
    assert each.items_path.source == "$Input.items"
    assert each.max_concurrency == 5  # the documentation's spelling "MaxConcuccency" is accepted
    assert each.processor.path == "Each/items"
    assert each.processor.synchronous is True
    assert each.item_constructor is not None and each.item_constructor.variables == {
        "$Item",
        "$Index",
    }
    assert each.next == 5


def test_plan_of_wait_succeed_fail(plan: FlowPlan) -> None:
    pause, later, done, declined, failed = plan.scope.states[5:]
    assert isinstance(pause, WaitState) and pause.until == 1893456000.0 and pause.seconds is None
    assert isinstance(later, WaitState) and later.seconds_expression is not None and later.next == 7
    assert isinstance(done, SucceedState) and done.next is None
    assert isinstance(declined, FailState) and declined.error == errors.FlowError(
        "CardDeclined", "the card was declined"
    )
    assert isinstance(failed, FailState) and failed.error == errors.FlowError(errors.FAILED, "")


def test_map_defaults_and_synchronous_scopes() -> None:
    plan = compile_flow(
        flow("""
            - Type: Map
              Name: A
              ItemsPath: $Input.xs
              MaxConcurrency: 0
              End: true
              Processor:
                StartAt: T
                States:
                  - {Type: Task, Name: T, Action: HTTP:Request, Parameters: {url: 'http://x', method: get}, End: true}
        """)
    )
    each = plan.scope.first
    assert isinstance(each, MapState)
    assert each.max_concurrency == 40  # 0 means the configured default
    assert each.processor.synchronous is False
    assert plan.scope.synchronous is False
    assert plan.timeout_seconds == 365 * 24 * 3600


def test_express_flow_and_its_timeout() -> None:
    text = flow("- {Type: Wait, Name: A, Seconds: 300, End: true}")
    plan = compile_flow(text, EXPRESS)
    assert plan.mode is EXPRESS and plan.timeout_seconds == 300.0
    plan = compile_flow(text + "Timeout: 60\n", EXPRESS)
    assert plan.timeout_seconds == 60.0


@pytest.mark.parametrize(
    "states",
    [
        "- {Type: Succeed, Name: A, End: true}",  # End on Succeed is documented and redundant
        "- {Type: Fail, Name: A, End: true, Detail: x}",
        "- {Type: Pass, Name: A, Next: B, End: false}\n- {Type: Succeed, Name: B}",
        "- Type: Pass\n  Name: A\n  InputConstructor:\n    literal: $Input.not-an-expression\n    'a.b': 1\n  End: true",
        "- {Type: Pass, Name: A, Next: A2}\n- {Type: Choice, Name: A2, Branches: [{Condition: $Input.n < 3, Next: A}], Default: B}\n- {Type: Succeed, Name: B}",
        "- {Type: Task, Name: A, Action: FNF:StartExecution, TaskMode: WaitForSystemCallback, Parameters: {flowName: child}, Timeout.$: $Input.t, End: true}",
        "- {Type: Task, Name: A, Action: FC:InvokeFunction, Parameters: {resourceArn.$: $Input.arn}, Timeout: 0, End: true}",
        "- {Type: Wait, Name: A, UntilDateTime.$: $Input.at, End: true}",
        "- {Type: Wait, Name: A, Seconds: 0, End: true}",
        "- Type: Fail\n  Name: A\n  Code: Oops\n  InputConstructor: {a: 1}\n  OutputConstructor: {b.$: $Input.a}",
    ],
)
def test_valid_definitions(states: str) -> None:
    text = flow(states)
    assert check_flow(text) == [], show(check_flow(text))
    compile_flow(text)


def test_bytes_and_json_definitions_compile() -> None:
    text = '{"Type": "StateMachine", "SpecVersion": "v1", "StartAt": "A", "States": [{"Type": "Pass", "Name": "A", "End": true}]}'
    assert compile_flow(text.encode()).scope.first.name == "A"
    assert compile_flow(text).name == ""


def test_the_plan_is_immutable(plan: FlowPlan) -> None:
    with pytest.raises(AttributeError):
        plan.name = "other"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        plan.scope.states[0].next = 3  # type: ignore[misc]
