"""What happened to each state of an execution, folded from its history events.

The console colours every state of the graph by what happened to it: not reached, running,
succeeded, failed, caught, retried, or cancelled (stopped because a sibling branch failed or
the execution was stopped). :class:`ExecutionProgress` reads events one at a time, in order,
and can be fed more as the execution goes on, so a 10,000-event history is read once and each
refresh of a running execution reads only the new events.

History events name a state but not which branch or iteration ran it; state names are unique
across a flow, so the name finds the node. When a Parallel or Map state finishes, anything
still running inside it was dropped by the engine without an event of its own: the fold counts
those visits as cancelled, which is why it is given each state's enclosing Parallel or Map.

Pure: no I/O. Event types and detail fields are those of ``standard_engine/history.py``.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from shared.results import HistoryEvent

__all__ = ["Attempt", "ChildCounts", "ExecutionProgress", "StateProgress", "StateStatus"]

MAX_ATTEMPTS_KEPT: Final = 50
"""Failed attempts kept per state (the newest); the counts cover all of them."""
MAX_FAILED_CHILDREN_KEPT: Final = 100
"""Failed iterations or branches listed per Map or Parallel state (the first ones)."""
MAX_VALUE_CHARS: Final = 16_384
"""Inputs and outputs larger than this (as JSON text) are kept as a shortened string: the
panel shows a preview, the history has them whole. It bounds the memory a cached execution
takes (a few values per state)."""

_ENDED: Final = {
    "ExecutionSucceeded": "Succeeded",
    "ExecutionFailed": "Failed",
    "ExecutionTimedOut": "TimedOut",
    "ExecutionStopped": "Stopped",
}


class StateStatus(enum.Enum):
    """What the graph shows for a state."""

    NOT_REACHED = "not_reached"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CAUGHT = "caught"
    RETRIED = "retried"
    """Failed at least once, was retried, and then succeeded."""
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Attempt:
    """One failure of a state: retried, caught, or final."""

    event_id: int
    time: float
    error: str
    cause: str
    retry_after_seconds: float | None
    """Set when the failure was retried after that delay."""
    caught: bool
    task_parameters: Any = None
    """The parameters of the task call that failed, when a task's failure caused it: with
    concurrent iterations, the only record of *which* input failed."""

    def to_json(self) -> dict[str, Any]:
        return {
            "eventId": self.event_id,
            "time": self.time,
            "error": self.error,
            "cause": self.cause,
            "retryAfterSeconds": self.retry_after_seconds,
            "caught": self.caught,
            "taskParameters": self.task_parameters,
        }


@dataclass(slots=True)
class ChildCounts:
    """The branches of a Parallel state or the iterations of a Map state."""

    kind: str
    """``branch`` or ``iteration``."""
    started: int = 0
    succeeded: int = 0
    failed: int = 0
    cancelled: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)
    """The first failed ones: ``{"index", "error", "cause", "eventId"}``."""

    @property
    def running(self) -> int:
        return self.started - self.succeeded - self.failed - self.cancelled

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "started": self.started,
            "running": self.running,
            "succeeded": self.succeeded,
            "failed": self.failed,
            "cancelled": self.cancelled,
            "failures": self.failures,
        }


@dataclass(slots=True)
class StateProgress:
    """Everything the fold knows about one state, over all its visits."""

    name: str
    entered: int = 0
    exited: int = 0
    """StepExited events: successes, and also the step after a caught failure."""
    failed: int = 0
    """Failures that were neither retried nor caught."""
    caught: int = 0
    retried: int = 0
    cancelled: int = 0
    open: int = 0
    """Visits entered and not yet ended."""
    retry_pending: int = 0
    """Visits that failed and wait for their retry (they count as running)."""
    first_entered_at: float | None = None
    last_event_at: float | None = None
    last_input: Any = None
    last_output: Any = None
    error: Attempt | None = None
    """The first failure that was not retried (or, failing that, the latest attempt)."""
    attempts: list[Attempt] = field(default_factory=list)
    children: ChildCounts | None = None
    failed_task: Any = None
    """Parameters of the task whose failure the next StepFailed reports."""

    @property
    def active(self) -> int:
        return self.open + self.retry_pending

    def status(self) -> StateStatus:
        """The colour: a failure outranks running, which outranks the quieter outcomes."""
        if self.failed:
            return StateStatus.FAILED
        if self.active:
            return StateStatus.RUNNING
        if self.caught:
            return StateStatus.CAUGHT
        if self.retried and self.exited:
            return StateStatus.RETRIED
        if self.exited:
            return StateStatus.SUCCEEDED
        if self.cancelled:
            return StateStatus.CANCELLED
        return StateStatus.NOT_REACHED

    def summary(self) -> dict[str, Any]:
        """The small part the graph needs for every state."""
        return {
            "status": self.status().value,
            "entered": self.entered,
            "succeeded": self.exited - self.caught,
            "failed": self.failed,
            "caught": self.caught,
            "retried": self.retried,
            "cancelled": self.cancelled,
            "running": self.active,
            "firstEnteredAt": self.first_entered_at,
            "lastEventAt": self.last_event_at,
            "children": self.children.to_json() if self.children else None,
        }

    def detail(self) -> dict[str, Any]:
        """The summary and the state's data: what the panel shows when the state is clicked."""
        return {
            **self.summary(),
            "name": self.name,
            "input": self.last_input,
            "output": self.last_output,
            "error": self.error.to_json() if self.error else None,
            "attempts": [a.to_json() for a in self.attempts],
        }


class ExecutionProgress:
    """The fold of one execution's history; feed events in order with :meth:`apply`."""

    def __init__(self, parents: Mapping[str, str | None]) -> None:
        """``parents`` maps every state to its enclosing Parallel or Map state (or None)."""
        self._states: dict[str, StateProgress] = {}
        self._inside: dict[str, list[str]] = {}
        self._tasks: dict[int, Any] = {}
        """Parameters of the tasks scheduled and not yet ended, by TaskScheduled event id."""
        for name in parents:
            self._states[name] = StateProgress(name)
            ancestor = parents.get(name)
            while ancestor is not None:
                self._inside.setdefault(ancestor, []).append(name)
                ancestor = parents.get(ancestor)
        self.last_event_id = 0
        """The id of the last event applied (events are numbered 1, 2, 3 ... without gaps)."""
        self.started_at: float | None = None
        self.ended_at: float | None = None
        self.end_status: str | None = None
        self.failed_state: str | None = None
        """The state whose failure (neither retried nor caught) came first: where it broke."""

    @property
    def states(self) -> Mapping[str, StateProgress]:
        return self._states

    def apply_all(self, events: Iterable[HistoryEvent]) -> None:
        for event in events:
            self.apply(event)

    def apply(self, event: HistoryEvent) -> None:
        """Fold one event in; events at or before :attr:`last_event_id` are ignored, so a page
        read again after more events arrived can be applied whole."""
        if event.event_id <= self.last_event_id:
            return
        self.last_event_id = event.event_id
        detail = _detail(event.detail)
        kind = event.type
        if kind == "ExecutionStarted":
            self.started_at = event.time
        elif kind in _ENDED:
            self._end(event, detail, _ENDED[kind])
        elif event.step_name:
            state = self._state(event.step_name)
            state.last_event_at = event.time
            self._apply_to_state(state, event, detail)

    def to_json(self) -> dict[str, Any]:
        return {
            "lastEventId": self.last_event_id,
            "startedAt": self.started_at,
            "endedAt": self.ended_at,
            "failedState": self.failed_state,
            "states": {name: s.summary() for name, s in self._states.items()},
        }

    # -- internals -------------------------------------------------------------------------

    def _state(self, name: str) -> StateProgress:
        state = self._states.get(name)
        if state is None:  # not in the graph shown (another revision): still counted
            state = self._states[name] = StateProgress(name)
        return state

    def _apply_to_state(
        self, state: StateProgress, event: HistoryEvent, detail: dict[str, Any]
    ) -> None:
        kind = event.type
        if kind == "StepEntered":
            state.entered += 1
            if state.first_entered_at is None:
                state.first_entered_at = event.time
            # A retry's StepEntered ends its wait; otherwise it is a new visit.
            if state.retry_pending:
                state.retry_pending -= 1
            state.open += 1
            state.last_input = _kept(detail.get("input"))
        elif kind == "StepExited":
            state.exited += 1
            state.open = max(0, state.open - 1)
            state.last_output = _kept(detail.get("output"))
            self._close_inside(state.name)
        elif kind == "StepFailed":
            self._failed(state, event, detail)
        elif kind == "TaskScheduled":
            self._tasks[event.event_id] = _kept(detail.get("parameters"))
        elif kind in ("TaskSucceeded", "TaskFailed", "TaskTimedOut"):
            parameters = self._tasks.pop(event.schedule_event_id, None)
            if kind != "TaskSucceeded":
                state.failed_task = parameters
        elif kind in ("BranchEntered", "IterationEntered"):
            counts = self._children(state, kind)
            counts.started += 1
        elif kind in ("BranchExited", "IterationExited"):
            self._child_exited(self._children(state, kind), event, detail)

    def _failed(self, state: StateProgress, event: HistoryEvent, detail: dict[str, Any]) -> None:
        retry_after = detail.get("retryAfterSeconds")
        caught = detail.get("caught") is True
        attempt = Attempt(
            event.event_id,
            event.time,
            str(detail.get("error", "")),
            str(detail.get("cause", "")),
            float(retry_after) if isinstance(retry_after, int | float) else None,
            caught,
            state.failed_task,
        )
        state.failed_task = None
        state.attempts.append(attempt)
        del state.attempts[:-MAX_ATTEMPTS_KEPT]
        # Whatever ran inside a failed Parallel or Map was dropped with it, retried or not.
        self._close_inside(state.name)
        if attempt.retry_after_seconds is not None:
            state.retried += 1
            state.open = max(0, state.open - 1)
            state.retry_pending += 1
        elif caught:
            state.caught += 1  # the StepExited that follows ends the visit
        else:
            state.failed += 1
            state.open = max(0, state.open - 1)
            if self.failed_state is None:
                self.failed_state = state.name
        _remember_error(state, attempt)

    def _children(self, state: StateProgress, kind: str) -> ChildCounts:
        if state.children is None:
            state.children = ChildCounts("branch" if kind.startswith("Branch") else "iteration")
        return state.children

    def _child_exited(
        self, counts: ChildCounts, event: HistoryEvent, detail: dict[str, Any]
    ) -> None:
        if "error" not in detail:
            counts.succeeded += 1
            return
        counts.failed += 1
        if len(counts.failures) < MAX_FAILED_CHILDREN_KEPT:
            counts.failures.append(
                {
                    "index": detail.get("index"),
                    "error": detail.get("error"),
                    "cause": detail.get("cause", ""),
                    "eventId": event.event_id,
                }
            )

    def _close_inside(self, container: str) -> None:
        """A Parallel or Map visit ended: what still ran inside it was cancelled."""
        outer = self._states[container]
        if outer.children is not None and outer.children.running > 0:
            outer.children.cancelled += outer.children.running
        for name in self._inside.get(container, ()):
            inner = self._states[name]
            if inner.active:
                inner.cancelled += inner.active
                inner.open = inner.retry_pending = 0
            if inner.children is not None and inner.children.running > 0:
                inner.children.cancelled += inner.children.running

    def _end(self, event: HistoryEvent, detail: dict[str, Any], status: str) -> None:
        self.ended_at = event.time
        self.end_status = status
        error = str(detail.get("error", ""))
        cause = str(detail.get("cause", ""))
        broke_here = self.failed_state is None and status in ("Failed", "TimedOut")
        for state in self._states.values():
            if not state.active:
                continue
            if status in ("Failed", "TimedOut"):
                # The execution ended under this state (its time limit, its history limit):
                # the state is where it failed, with the execution's error.
                state.failed += state.active
                _remember_error(
                    state, Attempt(event.event_id, event.time, error, cause, None, False)
                )
                if broke_here:  # states come outermost first: keep the innermost
                    self.failed_state = state.name
            else:
                state.cancelled += state.active
            state.open = state.retry_pending = 0
            if state.children is not None and state.children.running > 0:
                state.children.cancelled += state.children.running


def _remember_error(state: StateProgress, attempt: Attempt) -> None:
    """Keep the most telling failure: the first final one, else the latest caught or retried."""

    def rank(a: Attempt) -> int:
        if a.retry_after_seconds is not None:
            return 1
        return 2 if a.caught else 3

    current = state.error
    if current is None or rank(attempt) > rank(current) or rank(attempt) == rank(current) < 3:
        state.error = attempt


def _detail(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _kept(value: Any) -> Any:
    """``value``, or a shortened JSON string of it when it is too large to keep around."""
    if isinstance(value, dict | list | str):
        text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
        if len(text) > MAX_VALUE_CHARS:
            return text[:MAX_VALUE_CHARS] + f"… ({len(text)} characters in all)"
    return value
