"""Fail: ends the scope with the error ``Code`` (default ``FnF.Failed``) and its ``Detail``.

The failure propagates to the enclosing Parallel or Map, whose Retry and Catch see it,
or ends the execution.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from shared import errors
from shared.context import RunContext
from shared.errors import FlowError
from shared.fdl.problems import Loc
from shared.outcomes import Failed
from shared.states.base import COMMON_FIELDS, CompileContext, StateBase, StateFailure

__all__ = ["FailState", "compile_fail"]

# The documentation's own example writes End: true on a Fail state; accept it.
FIELDS: Final = COMMON_FIELDS | {"Code", "Detail", "OutputConstructor", "End"}


@dataclass(frozen=True, slots=True, kw_only=True)
class FailState(StateBase):
    """Raises ``error`` when entered."""

    type_name = "Fail"

    error: FlowError

    def enter(
        self,
        raw_input: Any,
        run: RunContext,
        retry_count: int = 0,
        now: float = 0.0,
        task_token: str | None = None,
    ) -> Failed:
        if self.input_constructor is not None:
            try:
                self.prepare_input(raw_input, run, retry_count)
            except StateFailure as failure:
                return Failed(failure.error)
        return Failed(self.error)


def compile_fail(node: Mapping[str, Any], loc: Loc, index: int, cx: CompileContext) -> FailState:
    problems = cx.problems
    problems.fields(node, loc, FIELDS, owner="a Fail state")
    code = problems.string(node, "Code", loc) or errors.FAILED
    if len(code) > 128:
        problems.add(loc.key("Code"), "must be at most 128 characters")
    detail = problems.string(node, "Detail", loc, non_empty=False) or ""
    if node.get("End", True) is not True:
        problems.add(
            loc.key("End"), "a Fail state always ends the execution; remove End or set it to true"
        )
    cx.constructor(node, "OutputConstructor", loc)
    return FailState(
        name=node["Name"],
        index=index,
        next=None,
        input_constructor=cx.constructor(node, "InputConstructor", loc),
        error=FlowError(code, detail),
    )
