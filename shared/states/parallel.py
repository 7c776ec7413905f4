"""Parallel: runs every branch on the same input; output ``{"Branch0": …, "Branch1": …}``.

The first branch to fail fails the Parallel with its own error and stops the others
(DESIGN.md §3); Retry and Catch then apply to the Parallel. A Succeed inside a branch
ends only that branch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from shared.context import RunContext
from shared.fdl.problems import Loc
from shared.outcomes import Advance, Failed, RunBranches
from shared.states.base import (
    COMMON_FIELDS,
    OUTPUT_FIELDS,
    TRANSITION_FIELDS,
    CompileContext,
    StateFailure,
)
from shared.states.rules import RulesState, compile_rules

if TYPE_CHECKING:
    from shared.plan import ScopePlan

__all__ = ["ParallelState", "branch_key", "compile_parallel"]

FIELDS: Final = COMMON_FIELDS | OUTPUT_FIELDS | TRANSITION_FIELDS | {"Branches", "Retry", "Catch"}

_KEYS: Final = tuple(f"Branch{i}" for i in range(256))


def branch_key(position: int) -> str:
    return _KEYS[position] if position < len(_KEYS) else f"Branch{position}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ParallelState(RulesState):
    """Branches run concurrently; each is a scope of its own."""

    type_name = "Parallel"

    branches: tuple[ScopePlan, ...]

    def enter(
        self,
        raw_input: Any,
        run: RunContext,
        retry_count: int = 0,
        now: float = 0.0,
        task_token: str | None = None,
    ) -> RunBranches | Failed:
        try:
            return RunBranches(self.prepare_input(raw_input, run, retry_count))
        except StateFailure as failure:
            return Failed(failure.error)

    def finish_branches(
        self, state_input: Any, outputs: Sequence[Any], run: RunContext, retry_count: int = 0
    ) -> Advance | Failed:
        """Every branch succeeded with ``outputs`` (in branch order)."""
        return self.finish(
            state_input, {branch_key(i): out for i, out in enumerate(outputs)}, run, retry_count
        )


def compile_parallel(
    node: Mapping[str, Any], loc: Loc, index: int, cx: CompileContext
) -> ParallelState:
    problems = cx.problems
    problems.fields(node, loc, FIELDS, ("Branches",), owner="a Parallel state")
    branches: list[ScopePlan] = []
    value = node.get("Branches")
    limit = cx.limits.max_parallel_branches
    if "Branches" in node:
        if not isinstance(value, list) or not value:
            problems.add(
                loc.key("Branches"),
                f"must be a list of 1 to {limit} branches, each with StartAt and States",
            )
        elif len(value) > limit:
            problems.add(
                loc.key("Branches"),
                f"has {len(value)} branches; a Parallel state may have at most {limit}",
            )
    for position, branch in enumerate(value if isinstance(value, list) else []):
        scope = cx.compile_scope(
            branch, loc.key("Branches").index(position), f"{node['Name']}/{position}"
        )
        if scope is not None:
            branches.append(scope)
    return ParallelState(
        name=node["Name"],
        index=index,
        next=cx.transition(node, loc),
        branches=tuple(branches),
        **cx.common(node, loc),
        **compile_rules(node, loc, cx),
    )
