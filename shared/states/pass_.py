"""Pass: hands its input on, shaped by its constructors (cloudflow-reference.md §1.3)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from shared.context import RunContext
from shared.fdl.problems import Loc
from shared.outcomes import Advance, Failed
from shared.states.base import (
    COMMON_FIELDS,
    OUTPUT_FIELDS,
    TRANSITION_FIELDS,
    CompileContext,
    StateBase,
    StateFailure,
)

__all__ = ["PassState", "compile_pass"]

FIELDS: Final = COMMON_FIELDS | OUTPUT_FIELDS | TRANSITION_FIELDS


@dataclass(frozen=True, slots=True, kw_only=True)
class PassState(StateBase):
    """Output = its (constructed) input, or the OutputConstructor's result."""

    type_name = "Pass"

    def enter(
        self,
        raw_input: Any,
        run: RunContext,
        retry_count: int = 0,
        now: float = 0.0,
        task_token: str | None = None,
    ) -> Advance | Failed:
        if (
            self.input_constructor is None
            and self.output_constructor is None
            and self.global_constructor is None
        ):
            return Advance(raw_input, self.next)
        try:
            data = self.prepare_input(raw_input, run, retry_count)
            return self.advance(data, data, run, retry_count, self.next)
        except StateFailure as failure:
            return Failed(failure.error)


def compile_pass(node: Mapping[str, Any], loc: Loc, index: int, cx: CompileContext) -> PassState:
    cx.problems.fields(node, loc, FIELDS, owner="a Pass state")
    return PassState(
        name=node["Name"], index=index, next=cx.transition(node, loc), **cx.common(node, loc)
    )
