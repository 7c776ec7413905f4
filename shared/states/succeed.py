"""Succeed: ends its own scope (the flow, a branch or an iteration) like ``return``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from shared.context import RunContext
from shared.fdl.problems import Loc
from shared.outcomes import Advance, Failed
from shared.states.base import COMMON_FIELDS, OUTPUT_FIELDS, CompileContext, StateBase, StateFailure

__all__ = ["SucceedState", "compile_succeed"]

# End is accepted although redundant: published flows write it (DESIGN.md §3).
FIELDS: Final = COMMON_FIELDS | OUTPUT_FIELDS | {"End"}


@dataclass(frozen=True, slots=True, kw_only=True)
class SucceedState(StateBase):
    """Ends the current scope with its (constructed) input as the scope's result."""

    type_name = "Succeed"

    def enter(
        self,
        raw_input: Any,
        run: RunContext,
        retry_count: int = 0,
        now: float = 0.0,
        task_token: str | None = None,
    ) -> Advance | Failed:
        try:
            data = self.prepare_input(raw_input, run, retry_count)
            return self.advance(data, data, run, retry_count, None)
        except StateFailure as failure:
            return Failed(failure.error)


def compile_succeed(
    node: Mapping[str, Any], loc: Loc, index: int, cx: CompileContext
) -> SucceedState:
    cx.problems.fields(node, loc, FIELDS, owner="a Succeed state")
    if node.get("End", True) is not True:
        cx.problems.add(
            loc.key("End"), "a Succeed state always ends its scope; remove End or set it to true"
        )
    return SucceedState(name=node["Name"], index=index, next=None, **cx.common(node, loc))
