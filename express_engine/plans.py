"""Compiled plans: cached by flow name and revision so a definition is compiled once, and
what the engine learns from a plan's shape (whether a scope can ever await)."""

from __future__ import annotations

from cachetools import LRUCache

from shared.compiler import compile_flow
from shared.limits import DEFAULT_LIMITS, Limits
from shared.plan import ExecutionMode, FlowPlan, ScopePlan, State
from shared.states.map import MapState
from shared.states.parallel import ParallelState
from shared.states.task import TaskState
from shared.states.wait import WaitState

__all__ = ["PlanCache", "never_waits"]


class PlanCache:
    """An LRU cache of plans; a new revision of a flow is a new key, so no invalidation is needed."""

    def __init__(self, size: int = 1024, limits: Limits = DEFAULT_LIMITS) -> None:
        self._plans: LRUCache[tuple[str, int], FlowPlan] = LRUCache(maxsize=size)
        self._limits = limits

    def get(
        self,
        flow_name: str,
        revision: int,
        definition: str,
        mode: ExecutionMode = ExecutionMode.EXPRESS,
    ) -> FlowPlan:
        """The plan of this revision, compiling it on first use (raises InvalidDefinition)."""
        key = (flow_name, revision)
        plan = self._plans.get(key)
        if plan is None:
            plan = compile_flow(definition, mode, self._limits)
            self._plans[key] = plan
        return plan

    def __len__(self) -> int:
        return len(self._plans)


def never_waits(scope: ScopePlan) -> bool:
    """No Task, no Wait and no retry back-off delay in the scope or the scopes it holds."""
    return scope.synchronous and all(_state_never_waits(state) for state in scope.states)


def _state_never_waits(state: State) -> bool:
    if isinstance(state, ParallelState | MapState):
        if not all(
            rule.interval_seconds == 0 or rule.max_backoff_seconds == 0 for rule in state.retry
        ):
            return False
        scopes = state.branches if isinstance(state, ParallelState) else (state.processor,)
        return all(never_waits(scope) for scope in scopes)
    return not isinstance(state, TaskState | WaitState)
