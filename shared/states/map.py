"""Map (inline mode): runs the Processor once per item of ``ItemsPath``.

Output ``{"Items": [...]}`` in input order; ``MaxConcurrency`` absent or 0 means the
configured default (40). ``ItemConstructor`` builds each iteration's input from
``$Item``, ``$Index`` (from 0) and ``$Input`` (the Map's input after its
InputConstructor). ``ItemsPath`` that is not an array is ``FnF.RuntimeError``. The first
failed iteration fails the Map with its error and stops the rest (DESIGN.md §3).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from shared.context import RunContext
from shared.expressions import Expression, ExpressionRuntimeError
from shared.fdl.problems import Loc, describe_type
from shared.outcomes import Advance, Failed, RunIterations
from shared.states.base import (
    COMMON_FIELDS,
    INPUT_VARIABLES,
    ITEM_VARIABLES,
    OUTPUT_FIELDS,
    TRANSITION_FIELDS,
    CompileContext,
    StateFailure,
)
from shared.states.rules import RulesState, compile_rules
from shared.templates import EvaluationError, Template, compile_expression_field

if TYPE_CHECKING:
    from shared.plan import ScopePlan

__all__ = ["MapState", "compile_map"]

# "MaxConcuccency" is how the documentation's field table spells it; accept both.
FIELDS: Final = (
    COMMON_FIELDS
    | OUTPUT_FIELDS
    | TRANSITION_FIELDS
    | {
        "ItemsPath",
        "Processor",
        "MaxConcurrency",
        "MaxConcuccency",
        "ItemConstructor",
        "Retry",
        "Catch",
    }
)
DISTRIBUTED_FIELDS: Final = frozenset(
    {
        "ProcessorConfig",
        "ItemReader",
        "ItemBatcher",
        "ResultWriter",
        "MaxItems",
        "ToleratedFailurePercentage",
        "ToleratedFailureCount",
    }
)


@dataclass(frozen=True, slots=True, kw_only=True)
class MapState(RulesState):
    """An inline Map."""

    type_name = "Map"

    items_path: Expression
    processor: ScopePlan
    max_concurrency: int
    item_constructor: Template | None = None

    def enter(
        self,
        raw_input: Any,
        run: RunContext,
        retry_count: int = 0,
        now: float = 0.0,
        task_token: str | None = None,
    ) -> RunIterations | Failed:
        try:
            data = self.prepare_input(raw_input, run, retry_count)
            variables: dict[str, Any] = {"$Input": data, "$Global": run.globals}
            if "$Context" in self.items_path.variables or (
                self.item_constructor and self.item_constructor.uses_context
            ):
                variables["$Context"] = run.context_value(self.name, data, retry_count)
            items = self._items(variables, run)
            if self.item_constructor is not None:
                items = self._construct(items, variables, run)
            return RunIterations(data, items, self.max_concurrency)
        except StateFailure as failure:
            return Failed(failure.error)

    def finish_items(
        self, state_input: Any, outputs: Sequence[Any], run: RunContext, retry_count: int = 0
    ) -> Advance | Failed:
        """Every iteration succeeded with ``outputs`` (in item order)."""
        return self.finish(state_input, {"Items": list(outputs)}, run, retry_count)

    def _items(self, variables: dict[str, Any], run: RunContext) -> list[Any]:
        try:
            items = self.items_path.evaluate(variables, run.entropy)
        except ExpressionRuntimeError as exc:
            raise self.runtime_error(
                f"ItemsPath: expression '{self.items_path.source}' failed: {exc}"
            ) from None
        if not isinstance(items, list):
            raise self.runtime_error(
                f"ItemsPath: '{self.items_path.source}' gave {describe_type(items)}, not an array"
            )
        return items

    def _construct(self, items: list[Any], variables: dict[str, Any], run: RunContext) -> list[Any]:
        constructor = self.item_constructor
        assert constructor is not None
        inputs = []
        for position, item in enumerate(items):
            scope = {**variables, "$Item": item, "$Index": position}
            try:
                value = constructor.build(scope, run.entropy)
            except EvaluationError as exc:
                raise self.runtime_error(
                    f"ItemConstructor (item {position}).{exc.describe()}"
                ) from None
            # Each result is an iteration's input, under the same limit as any state's input.
            self._check_size(value, f"input of item {position} (from ItemConstructor)", run.limits)
            inputs.append(value)
        return inputs


def compile_map(node: Mapping[str, Any], loc: Loc, index: int, cx: CompileContext) -> MapState:
    problems = cx.problems
    for name in DISTRIBUTED_FIELDS & node.keys():
        problems.add(
            loc.key(name),
            f"'{name}' belongs to the distributed Map mode, which this runtime does not support yet",
        )
    problems.fields(
        node, loc, FIELDS | DISTRIBUTED_FIELDS, ("ItemsPath", "Processor"), owner="a Map state"
    )
    items_path = None
    if "ItemsPath" in node:
        items_path = compile_expression_field(
            node["ItemsPath"], loc.key("ItemsPath"), problems, INPUT_VARIABLES, "ItemsPath"
        )
    processor = None
    if "Processor" in node:
        processor = cx.compile_scope(
            node["Processor"], loc.key("Processor"), f"{node['Name']}/items"
        )
    limit = cx.limits.max_map_concurrency
    concurrency_field = (
        "MaxConcuccency"
        if "MaxConcuccency" in node and "MaxConcurrency" not in node
        else "MaxConcurrency"
    )
    concurrency = problems.integer(node, concurrency_field, loc, minimum=0, maximum=limit) or 0
    item_constructor = cx.constructor(node, "ItemConstructor", loc, ITEM_VARIABLES)
    return MapState(
        name=node["Name"],
        index=index,
        next=cx.transition(node, loc),
        items_path=items_path,  # type: ignore[arg-type]  # None only when problems were reported
        processor=processor,  # type: ignore[arg-type]
        max_concurrency=concurrency or cx.limits.default_map_concurrency,
        item_constructor=item_constructor,
        **cx.common(node, loc),
        **compile_rules(node, loc, cx),
    )
