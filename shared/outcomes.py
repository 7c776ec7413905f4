"""What a state asks of its engine: the closed set of step outcomes.

State semantics are pure. Entering a state either settles it at once (:class:`Advance`
or :class:`Failed`) or returns an effect for the engine to carry out (run a task, wait
until an instant, run branches or iterations). When the effect completes the engine
hands its result back to the state's ``finish``; when it fails, to the state's
``recover``, which answers with a retry, a caught transition, or the failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.errors import FlowError
from shared.ports import TaskMode

__all__ = [
    "Advance",
    "Effect",
    "Failed",
    "Outcome",
    "RetryAfter",
    "RunBranches",
    "RunIterations",
    "RunTask",
    "WaitUntil",
]


@dataclass(slots=True)
class Advance:
    """The state is done: go to ``next`` (an index in the scope) with ``output``."""

    output: Any
    next: int | None
    """``None`` ends the scope (End: true, Succeed) with ``output`` as its result."""
    globals: dict[str, Any] | None = None
    """The execution's new ``$Global`` when the state's GlobalConstructor changed it."""


@dataclass(slots=True)
class Failed:
    """The state failed with a named error (Retry/Catch not yet applied, or exhausted)."""

    error: FlowError


@dataclass(slots=True)
class RunTask:
    """Invoke the Task's integration, then call ``finish`` with its result."""

    input: Any
    """The state's input after its InputConstructor; hand it back to ``finish``."""
    action: str
    parameters: dict[str, Any]
    mode: TaskMode
    timeout_seconds: float | None
    heartbeat_seconds: float | None


@dataclass(slots=True)
class WaitUntil:
    """Resume at ``instant`` (Unix seconds, UTC), then call ``finish`` with the input."""

    input: Any
    instant: float


@dataclass(slots=True)
class RunBranches:
    """Run every Parallel branch on ``input``, then call ``finish`` with their outputs."""

    input: Any


@dataclass(slots=True)
class RunIterations:
    """Run the Map processor once per item input, then ``finish`` with the outputs."""

    input: Any
    items: list[Any]
    """Each iteration's input, after the ItemConstructor."""
    max_concurrency: int


@dataclass(slots=True)
class RetryAfter:
    """Re-enter the state after ``delay_seconds`` with the new per-rule retry counts."""

    delay_seconds: float
    retries: tuple[int, ...]

    @property
    def retry_count(self) -> int:
        return sum(self.retries)


Effect = RunTask | WaitUntil | RunBranches | RunIterations
Outcome = Advance | Failed | Effect
