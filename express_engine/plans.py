"""Compiled plans, cached by flow name and revision so a definition is compiled once."""

from __future__ import annotations

from cachetools import LRUCache

from shared.compiler import compile_flow
from shared.limits import DEFAULT_LIMITS, Limits
from shared.plan import ExecutionMode, FlowPlan

__all__ = ["PlanCache"]


class PlanCache:
    """An LRU cache of plans; a new revision of a flow is a new key, so no invalidation is needed."""

    def __init__(self, size: int = 1024, limits: Limits = DEFAULT_LIMITS) -> None:
        self._plans: LRUCache[tuple[str, int], FlowPlan] = LRUCache(maxsize=size)
        self._limits = limits

    def get(self, flow_name: str, revision: int, definition: str, mode: ExecutionMode = ExecutionMode.EXPRESS) -> FlowPlan:
        """The plan of this revision, compiling it on first use (raises InvalidDefinition)."""
        key = (flow_name, revision)
        plan = self._plans.get(key)
        if plan is None:
            plan = compile_flow(definition, mode, self._limits)
            self._plans[key] = plan
        return plan

    def __len__(self) -> int:
        return len(self._plans)
