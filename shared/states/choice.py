"""Choice: routes to the first branch whose Condition is true, else to Default.

Conditions are evaluated in order (cloudflow-reference.md §1.5); a condition that does
not give a boolean is ``FnF.RuntimeError`` naming the state (DESIGN.md §3). The output is
the state's (constructed) input. Choice takes neither Next nor End.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from shared.context import RunContext
from shared.expressions import Expression, ExpressionRuntimeError
from shared.fdl.problems import Loc, describe_type
from shared.outcomes import Advance, Failed
from shared.states.base import (
    COMMON_FIELDS,
    INPUT_VARIABLES,
    CompileContext,
    StateBase,
    StateFailure,
)
from shared.templates import compile_expression_field

__all__ = ["ChoiceBranch", "ChoiceState", "compile_choice"]

FIELDS: Final = COMMON_FIELDS | {"Branches", "Default"}
BRANCH_FIELDS: Final = frozenset({"Condition", "Next", "Description"})


@dataclass(frozen=True, slots=True)
class ChoiceBranch:
    condition: Expression
    next: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ChoiceState(StateBase):
    """Picks the next state; ``next`` (from the base) is unused."""

    type_name = "Choice"

    branches: tuple[ChoiceBranch, ...]
    default: int
    uses_context: bool = False

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
            return Advance(data, self._route(data, run, retry_count))
        except StateFailure as failure:
            return Failed(failure.error)

    def _route(self, data: Any, run: RunContext, retry_count: int) -> int:
        variables: dict[str, Any] = {"$Input": data, "$Global": run.globals}
        if self.uses_context:
            variables["$Context"] = run.context_value(self.name, data, retry_count)
        entropy = run.entropy
        for position, branch in enumerate(self.branches):
            try:
                verdict = branch.condition.evaluate(variables, entropy)
            except ExpressionRuntimeError as exc:
                raise self.runtime_error(
                    f"Branches[{position}].Condition: expression '{branch.condition.source}' failed: {exc}"
                ) from None
            if verdict is True:
                return branch.next
            if verdict is not False:
                raise self.runtime_error(
                    f"Branches[{position}].Condition: expression '{branch.condition.source}' "
                    f"gave {describe_type(verdict)}, not a boolean"
                )
        return self.default


def compile_choice(
    node: Mapping[str, Any], loc: Loc, index: int, cx: CompileContext
) -> ChoiceState:
    problems = cx.problems
    # Next and End get their own message below rather than "unknown field".
    problems.fields(node, loc, FIELDS | {"Next", "End"}, ("Branches",), owner="a Choice state")
    for forbidden in ("Next", "End"):
        if forbidden in node:
            problems.add(
                loc.key(forbidden),
                f"a Choice state takes no {forbidden}: use Branches[].Next and Default",
            )
    branches: list[ChoiceBranch] = []
    value = node.get("Branches")
    if "Branches" in node and (not isinstance(value, list) or not value):
        problems.add(loc.key("Branches"), "must be a non-empty list of {Condition, Next}")
    for position, item in enumerate(value if isinstance(value, list) else []):
        branch_loc = loc.key("Branches").index(position)
        branch = problems.mapping(item, branch_loc, "a branch mapping with Condition and Next")
        if branch is None:
            continue
        problems.fields(branch, branch_loc, BRANCH_FIELDS, ("Condition", "Next"), "a Choice branch")
        condition = None
        if "Condition" in branch:
            condition = compile_expression_field(
                branch["Condition"],
                branch_loc.key("Condition"),
                problems,
                INPUT_VARIABLES,
                "a Condition",
            )
        target = cx.resolve(branch["Next"], branch_loc.key("Next")) if "Next" in branch else None
        if condition is not None and target is not None:
            branches.append(ChoiceBranch(condition, target))
        else:  # a branch left out of the plan: where it leads is unknown
            cx.broken_transitions += 1
    default = None
    if "Default" in node:
        default = cx.resolve(node["Default"], loc.key("Default"))
    else:
        problems.add(
            loc.key("Default"),
            "a Choice state needs Default: the state to go to when no condition is true",
        )
        cx.broken_transitions += 1
    return ChoiceState(
        name=node["Name"],
        index=index,
        next=None,
        input_constructor=cx.constructor(node, "InputConstructor", loc),
        branches=tuple(branches),
        default=default if default is not None else -1,
        uses_context=any("$Context" in b.condition.variables for b in branches),
    )
