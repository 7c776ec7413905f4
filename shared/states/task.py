"""Task: calls an integration and waits for it in one of three modes (DESIGN.md §5).

``Action`` is ``FC:InvokeFunction``, ``HTTP:Request`` or ``FNF:StartExecution``. The
``Parameters`` are evaluated against the state's input and handed, with the mode and the
``Timeout``, to the engine, which performs the call; the raw result becomes ``$Output``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from shared.context import RunContext
from shared.expressions import Expression, ExpressionRuntimeError
from shared.fdl.problems import Loc, describe_type
from shared.outcomes import Failed, RunTask
from shared.ports import TaskMode
from shared.states.base import (
    COMMON_FIELDS,
    INPUT_VARIABLES,
    OUTPUT_FIELDS,
    TRANSITION_FIELDS,
    CompileContext,
    StateFailure,
)
from shared.states.rules import RulesState, compile_rules
from shared.templates import Template, compile_expression_field

__all__ = ["ACTIONS", "TaskState", "compile_task"]

FIELDS: Final = (
    COMMON_FIELDS
    | OUTPUT_FIELDS
    | TRANSITION_FIELDS
    | {
        "Action",
        "TaskMode",
        "Parameters",
        "Timeout",
        "Timeout.$",
        "HeartbeatSeconds",
        "Retry",
        "Catch",
    }
)

FC_INVOKE: Final = "FC:InvokeFunction"
HTTP_REQUEST: Final = "HTTP:Request"
FNF_START: Final = "FNF:StartExecution"

ACTIONS: Final[dict[str, frozenset[TaskMode]]] = {
    FC_INVOKE: frozenset(TaskMode),
    HTTP_REQUEST: frozenset({TaskMode.REQUEST_COMPLETE, TaskMode.WAIT_FOR_CUSTOM_CALLBACK}),
    FNF_START: frozenset(TaskMode),
}
"""Each action and the task modes it supports (cloudflow-reference.md §3.1)."""

REQUIRED_PARAMETERS: Final[dict[str, tuple[str, ...]]] = {
    FC_INVOKE: ("functionName", "resourceArn"),
    HTTP_REQUEST: ("url",),
    FNF_START: ("flowName", "resourceArn"),
}
"""At least one of these parameters (or its ``.$`` form) must be given."""

HTTP_METHODS: Final = frozenset({"GET", "POST", "PATCH", "PUT", "DELETE", "HEAD"})


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskState(RulesState):
    """A call of an integration."""

    type_name = "Task"

    action: str
    mode: TaskMode = TaskMode.REQUEST_COMPLETE
    parameters: Template | None = None
    timeout_seconds: float | None = None
    timeout_expression: Expression | None = None
    heartbeat_seconds: float | None = None

    def enter(
        self,
        raw_input: Any,
        run: RunContext,
        retry_count: int = 0,
        now: float = 0.0,
        task_token: str | None = None,
    ) -> RunTask | Failed:
        try:
            data = self.prepare_input(raw_input, run, retry_count)
            variables: dict[str, Any] = {"$Input": data, "$Global": run.globals}
            if self._needs_context():
                variables["$Context"] = run.context_value(
                    self.name, data, retry_count, task_token=task_token
                )
            parameters: dict[str, Any] = {}
            if self.parameters is not None:
                parameters = self._build(self.parameters, "Parameters", variables, run)
            timeout = self._timeout(variables, run)
            return RunTask(
                data, self.action, parameters, self.mode, timeout, self.heartbeat_seconds
            )
        except StateFailure as failure:
            return Failed(failure.error)

    def _needs_context(self) -> bool:
        return (self.parameters is not None and self.parameters.uses_context) or (
            self.timeout_expression is not None and "$Context" in self.timeout_expression.variables
        )

    def _timeout(self, variables: dict[str, Any], run: RunContext) -> float | None:
        expression = self.timeout_expression
        if expression is None:
            return self.timeout_seconds or None
        try:
            value = expression.evaluate(variables, run.entropy)
        except ExpressionRuntimeError as exc:
            raise self.runtime_error(
                f"Timeout.$: expression '{expression.source}' failed: {exc}"
            ) from None
        limit = run.limits.max_task_timeout_seconds
        number = isinstance(value, int | float) and not isinstance(value, bool)
        # Compare before any float conversion: an integer too large for a float is just over the limit.
        if (
            not number
            or (isinstance(value, float) and not math.isfinite(value))
            or not 0 <= value <= limit
        ):
            shown = (
                describe_type(value)
                if not number
                else "a number of more than 60 digits"
                if abs(value) > 10**60
                else str(value)
            )
            raise self.runtime_error(
                f"Timeout.$: expression '{expression.source}' gave {shown}, not a number of seconds from 0 to {limit}"
            )
        return float(value) or None


def compile_task(node: Mapping[str, Any], loc: Loc, index: int, cx: CompileContext) -> TaskState:
    problems = cx.problems
    problems.fields(node, loc, FIELDS, ("Action",), owner="a Task state")
    action = problems.string(node, "Action", loc)
    if action is not None and action not in ACTIONS:
        problems.add(
            loc.key("Action"),
            f"'{action}' is not a supported action; use one of {', '.join(ACTIONS)}",
        )
        action = None
    mode = _mode(node, loc, cx, action)
    parameters = None
    if "Parameters" in node:
        parameters = _parameters(node["Parameters"], loc.key("Parameters"), cx, action)
    elif action is not None:
        problems.add(
            loc.key("Parameters"),
            f"{action} needs Parameters with {' or '.join(REQUIRED_PARAMETERS[action])}",
        )
    limit = cx.limits.max_task_timeout_seconds
    timeout = problems.number(node, "Timeout", loc, minimum=0, maximum=limit)
    timeout_expression = None
    if "Timeout.$" in node:
        if "Timeout" in node:
            problems.add(loc.key("Timeout.$"), "give either Timeout or Timeout.$, not both")
        timeout_expression = compile_expression_field(
            node["Timeout.$"], loc.key("Timeout.$"), problems, INPUT_VARIABLES, "Timeout.$"
        )
    heartbeat = problems.number(node, "HeartbeatSeconds", loc, minimum=1, maximum=limit)
    if heartbeat is not None and timeout and heartbeat >= timeout:
        problems.add(loc.key("HeartbeatSeconds"), f"must be less than Timeout ({timeout:g})")
    return TaskState(
        name=node["Name"],
        index=index,
        next=cx.transition(node, loc),
        action=action or "",
        mode=mode,
        parameters=parameters,
        timeout_seconds=timeout,
        timeout_expression=timeout_expression,
        heartbeat_seconds=heartbeat,
        **cx.common(node, loc),
        **compile_rules(node, loc, cx),
    )


def _mode(node: Mapping[str, Any], loc: Loc, cx: CompileContext, action: str | None) -> TaskMode:
    problems = cx.problems
    text = problems.string(node, "TaskMode", loc)
    if text is None:
        return TaskMode.REQUEST_COMPLETE
    try:
        mode = TaskMode(text)
    except ValueError:
        choices = ", ".join(m.value for m in TaskMode)
        problems.add(loc.key("TaskMode"), f"'{text}' is not a task mode; use one of {choices}")
        return TaskMode.REQUEST_COMPLETE
    if cx.express and mode is not TaskMode.REQUEST_COMPLETE:
        problems.add(
            loc.key("TaskMode"),
            f"{mode.value} is not available in Express flows, which support only RequestComplete",
        )
    elif action is not None and mode not in ACTIONS[action]:
        supported = ", ".join(sorted(m.value for m in ACTIONS[action]))
        problems.add(
            loc.key("TaskMode"), f"{action} does not support {mode.value}; it supports {supported}"
        )
    return mode


def _parameters(value: Any, loc: Loc, cx: CompileContext, action: str | None) -> Template | None:
    problems = cx.problems
    from shared.templates import compile_template

    template = compile_template(value, loc, problems, INPUT_VARIABLES, "Parameters")
    if not isinstance(value, dict) or action is None:
        return template
    required = REQUIRED_PARAMETERS[action]
    if not any(name in value or f"{name}.$" in value for name in required):
        problems.add(loc, f"{action} needs {' or '.join(required)}")
    method = value.get("method")
    if action == HTTP_REQUEST and isinstance(method, str) and method.upper() not in HTTP_METHODS:
        problems.add(
            loc.key("method"),
            f"'{method}' is not an HTTP method; use one of {', '.join(sorted(HTTP_METHODS))}",
        )
    return template
