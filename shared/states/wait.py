"""Wait: pauses, then hands its input on (DESIGN.md §3).

``Seconds``, ``Seconds.$``, ``UntilDateTime`` (RFC 3339) or ``UntilDateTime.$``; exactly one.
An instant in the past does not wait. Standard executions may wait up to their own time
limit (durable timers); Express ones cannot wait past five minutes, which is rejected at
validation when the value is a literal.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from shared.context import RunContext
from shared.expressions import Expression, ExpressionRuntimeError
from shared.fdl.problems import Loc, describe_type
from shared.outcomes import Failed, WaitUntil
from shared.states.base import (
    COMMON_FIELDS,
    INPUT_VARIABLES,
    OUTPUT_FIELDS,
    TRANSITION_FIELDS,
    CompileContext,
    StateBase,
    StateFailure,
)
from shared.templates import compile_expression_field

__all__ = ["WaitState", "compile_wait", "parse_instant"]

WAIT_FIELDS: Final = frozenset({"Seconds", "Seconds.$", "UntilDateTime", "UntilDateTime.$"})
FIELDS: Final = COMMON_FIELDS | OUTPUT_FIELDS | TRANSITION_FIELDS | WAIT_FIELDS


def parse_instant(text: str) -> float:
    """Parse an RFC 3339 date-time with an offset into Unix seconds; raises ValueError."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("it has no time zone offset (add 'Z' for UTC)")
    return parsed.timestamp()


@dataclass(frozen=True, slots=True, kw_only=True)
class WaitState(StateBase):
    """Exactly one of the four ways to say how long to wait is set."""

    type_name = "Wait"

    seconds: float | None = None
    seconds_expression: Expression | None = None
    until: float | None = None
    until_expression: Expression | None = None

    def enter(
        self,
        raw_input: Any,
        run: RunContext,
        retry_count: int = 0,
        now: float = 0.0,
        task_token: str | None = None,
    ) -> WaitUntil | Failed:
        try:
            data = self.prepare_input(raw_input, run, retry_count)
            return WaitUntil(data, self._instant(data, run, retry_count, now))
        except StateFailure as failure:
            return Failed(failure.error)

    def _instant(self, data: Any, run: RunContext, retry_count: int, now: float) -> float:
        if self.seconds is not None:
            return now + self.seconds
        if self.until is not None:
            return self.until
        expression = self.seconds_expression or self.until_expression
        assert expression is not None
        field = "Seconds.$" if self.seconds_expression is not None else "UntilDateTime.$"
        variables: dict[str, Any] = {"$Input": data, "$Global": run.globals}
        if "$Context" in expression.variables:
            variables["$Context"] = run.context_value(self.name, data, retry_count)
        try:
            value = expression.evaluate(variables, run.entropy)
        except ExpressionRuntimeError as exc:
            raise self.runtime_error(
                f"{field}: expression '{expression.source}' failed: {exc}"
            ) from None
        if self.seconds_expression is not None:
            seconds = _seconds(value)
            if seconds is None:
                raise self.runtime_error(
                    f"{field}: expression '{expression.source}' gave {_show(value)}, not a number of seconds >= 0"
                )
            return now + seconds
        if not isinstance(value, str):
            raise self.runtime_error(
                f"{field}: expression '{expression.source}' gave {describe_type(value)}, not an RFC 3339 date-time string"
            )
        try:
            return parse_instant(value)
        except ValueError as exc:
            raise self.runtime_error(
                f"{field}: '{value[:64]}' is not an RFC 3339 date-time: {exc}"
            ) from None


def _seconds(value: Any) -> float | None:
    """``value`` as a finite number of seconds >= 0, else ``None``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        seconds = float(value)
    except OverflowError:  # an integer too large for a float: no timer can reach it
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _show(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        return "an integer of more than 60 digits"
    return (
        f"{value}"
        if isinstance(value, int | float) and not isinstance(value, bool)
        else describe_type(value)
    )


def compile_wait(node: Mapping[str, Any], loc: Loc, index: int, cx: CompileContext) -> WaitState:
    problems = cx.problems
    problems.fields(node, loc, FIELDS, owner="a Wait state")
    given = [
        name
        for name in ("Seconds", "Seconds.$", "UntilDateTime", "UntilDateTime.$")
        if name in node
    ]
    if not given:
        problems.add(
            loc, "a Wait state needs one of Seconds, Seconds.$, UntilDateTime or UntilDateTime.$"
        )
    elif len(given) > 1:
        problems.add(loc.key(given[1]), f"a Wait state takes only one of {', '.join(given)}")
    limit = cx.limits.express_max_seconds if cx.express else cx.limits.standard_max_seconds
    seconds = problems.number(node, "Seconds", loc, minimum=0)
    if seconds is not None and seconds > limit:
        mode = (
            "an Express flow's five-minute limit" if cx.express else "the one-year execution limit"
        )
        shown = f"{seconds:.0f}" if seconds.is_integer() and seconds < 1e15 else f"{seconds:g}"
        problems.add(loc.key("Seconds"), f"waits {shown} seconds, past {mode} ({limit} seconds)")
    until = None
    if "UntilDateTime" in node:
        text = problems.string(node, "UntilDateTime", loc)
        if text is not None:
            try:
                until = parse_instant(text)
            except ValueError as exc:
                problems.add(
                    loc.key("UntilDateTime"), f"'{text[:64]}' is not an RFC 3339 date-time: {exc}"
                )
    expressions = {
        name: compile_expression_field(node[name], loc.key(name), problems, INPUT_VARIABLES, name)
        for name in ("Seconds.$", "UntilDateTime.$")
        if name in node
    }
    return WaitState(
        name=node["Name"],
        index=index,
        next=cx.transition(node, loc),
        seconds=seconds,
        seconds_expression=expressions.get("Seconds.$"),
        until=until,
        until_expression=expressions.get("UntilDateTime.$"),
        **cx.common(node, loc),
    )
