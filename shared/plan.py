"""The immutable plan that both engines execute.

A plan is what the compiler makes of a definition: every state lowered to a frozen node
of its type with names resolved to indexes, expressions parsed into evaluators, and
Retry/Catch rules ready to match. Engines receive only plans, never FDL text.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from shared.states.choice import ChoiceState
from shared.states.fail import FailState
from shared.states.map import MapState
from shared.states.parallel import ParallelState
from shared.states.pass_ import PassState
from shared.states.succeed import SucceedState
from shared.states.task import TaskState
from shared.states.wait import WaitState

__all__ = ["ExecutionMode", "FlowPlan", "ScopePlan", "State"]

State = (
    PassState
    | TaskState
    | ChoiceState
    | ParallelState
    | MapState
    | WaitState
    | SucceedState
    | FailState
)
"""The closed union of plan nodes; engines match over it."""


class ExecutionMode(enum.Enum):
    """How a flow's executions run (cloudflow-reference.md §4.1)."""

    STANDARD = "Standard"
    EXPRESS = "Express"


@dataclass(frozen=True, slots=True)
class ScopePlan:
    """A list of states with a start: the flow itself, a Parallel branch or a Map processor."""

    path: str
    """Stable id of the scope within its flow: ``""`` for the top, then ``Par/0``, ``Each/items``..."""
    states: tuple[State, ...]
    start: int
    synchronous: bool
    """True when no state in it (or in its nested scopes) ever waits: no Task, no Wait.
    Engines may run such a scope to completion without yielding."""
    index_by_name: dict[str, int] = field(default_factory=dict, compare=False, hash=False)

    @property
    def first(self) -> State:
        return self.states[self.start]


@dataclass(frozen=True, slots=True)
class FlowPlan:
    """A compiled, validated flow."""

    name: str
    """The name the definition gives itself (informational; the API's flow name rules)."""
    mode: ExecutionMode
    scope: ScopePlan
    timeout_seconds: float
    """The execution's time limit: the flow's own ``Timeout`` capped by its mode's limit."""
    description: str = ""
    state_count: int = 0
