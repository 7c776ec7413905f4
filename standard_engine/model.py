"""The in-memory picture of a running Standard execution, and how its frames are stored.

An execution is a tree of *frames*: the top scope is the root frame (key ``""``); each
Parallel branch and each Map iteration runs in a child frame of the frame that holds the
Parallel or Map. A frame records where its scope is (the state, the phase, the data) so
that it can resume after a crash; each frame is stored as its own row, so a Map
checkpoints every iteration individually.
"""

from __future__ import annotations

import asyncio
import enum
import json
from dataclasses import dataclass, field
from typing import Any

from shared.context import RunContext
from shared.errors import FlowError
from shared.plan import FlowPlan, ScopePlan, State
from shared.ports import TaskMode
from shared.results import ExecutionStatus
from shared.values import dumps

CHILD_FLOW_ACTION = "FNF:StartExecution"
"""A child flow in WaitForSystemCallback mode completes its parent's task when it ends."""

__all__ = ["Children", "Execution", "Frame", "PendingTask", "Phase", "scopes_of"]


class Phase(enum.Enum):
    ENTER = "enter"
    """About to enter ``state`` with ``data`` (first time or after a retry delay)."""
    RETRY = "retry"
    """Waiting until ``due`` before re-entering ``state``."""
    TASK = "task"
    """Waiting for the task ``task``."""
    WAIT = "wait"
    """A Wait state, until ``due``."""
    CHILDREN = "children"
    """A Parallel or Map waiting for its branches or iterations."""
    DONE = "done"
    """A child frame that finished with ``data`` as its output."""


@dataclass(slots=True)
class PendingTask:
    """A Task state's call in progress."""

    id: int
    """The event id of its TaskScheduled event."""
    action: str
    parameters: dict[str, Any]
    mode: TaskMode
    timeout: float | None
    deadline: float | None
    token: str | None = None
    heartbeat: float | None = None
    """HeartbeatSeconds: the longest silence allowed between heartbeats."""
    heartbeat_due: float | None = None
    submitted: bool = False
    """The call that delivers a callback's token (or starts a child flow) went through: after a
    restart the task keeps waiting for its report instead of calling again."""

    @property
    def completes_on_report(self) -> bool:
        """True when a report (not the call's own answer) completes the task."""
        return self.mode is TaskMode.WAIT_FOR_CUSTOM_CALLBACK or (
            self.mode is TaskMode.WAIT_FOR_SYSTEM_CALLBACK and self.action == CHILD_FLOW_ACTION
        )


@dataclass(slots=True)
class Children:
    """The branches or iterations of a Parallel or Map frame."""

    activation: int
    """The StepEntered event id of the Parallel/Map: makes child keys unique per attempt."""
    total: int
    started: int = 0
    done: int = 0
    max_concurrency: int = 0


@dataclass(slots=True)
class Frame:
    key: str
    scope: ScopePlan
    state_index: int
    phase: Phase
    data: Any
    """ENTER/RETRY: the state's raw input. DONE: the frame's output."""
    state_input: Any = None
    """TASK/WAIT/CHILDREN: the state's input after its InputConstructor."""
    retries: tuple[int, ...] = ()
    due: float | None = None
    task: PendingTask | None = None
    children: Children | None = None
    parent: str | None = None
    position: int = 0
    """This frame's index among its parent's branches or iterations."""
    entered_event: int = 0
    """The StepEntered event id of the current state."""
    entered_at: float | None = None
    """When the current state was entered (in memory only: unknown after a restart)."""
    resumed: bool = False
    """True when ENTER re-enters after a retry (no new StepEntered event is needed twice)."""

    @property
    def state(self) -> State:
        return self.scope.states[self.state_index]

    def child_key(self, position: int) -> str:
        assert self.children is not None
        return f"{self.key}/{self.state.name}#{self.children.activation}.{position}"

    def body(self) -> str:
        """The frame as stored: enough to resume it after a crash."""
        task = self.task
        return dumps(
            {
                "scope": self.scope.path,
                "state": self.state_index,
                "phase": self.phase.value,
                "data": self.data,
                "input": self.state_input,
                "retries": list(self.retries),
                "due": self.due,
                "task": None
                if task is None
                else {
                    "id": task.id,
                    "action": task.action,
                    "parameters": task.parameters,
                    "mode": task.mode.value,
                    "timeout": task.timeout,
                    "deadline": task.deadline,
                    "token": task.token,
                    "heartbeat": task.heartbeat,
                    "heartbeatDue": task.heartbeat_due,
                    "submitted": task.submitted,
                },
                "children": None
                if self.children is None
                else [
                    self.children.activation,
                    self.children.total,
                    self.children.started,
                    self.children.done,
                    self.children.max_concurrency,
                ],
                "parent": self.parent,
                "position": self.position,
                "entered": self.entered_event,
            }
        )

    @classmethod
    def load(cls, key: str, body: str, scopes: dict[str, ScopePlan]) -> Frame:
        raw = json.loads(body)
        task = raw["task"]
        children = raw["children"]
        return cls(
            key=key,
            scope=scopes[raw["scope"]],
            state_index=raw["state"],
            phase=Phase(raw["phase"]),
            data=raw["data"],
            state_input=raw["input"],
            retries=tuple(raw["retries"]),
            due=raw["due"],
            task=None
            if task is None
            else PendingTask(
                task["id"],
                task["action"],
                task["parameters"],
                TaskMode(task["mode"]),
                task["timeout"],
                task["deadline"],
                task["token"],
                task.get("heartbeat"),
                task.get("heartbeatDue"),
                task.get("submitted", False),
            ),
            children=None if children is None else Children(*children),
            parent=raw["parent"],
            position=raw["position"],
            entered_event=raw["entered"],
        )


def scopes_of(plan: FlowPlan) -> dict[str, ScopePlan]:
    """Every scope of a plan by its path (``""`` is the flow; ``Par/1``, ``Each/items`` nested)."""
    from shared.states.map import MapState
    from shared.states.parallel import ParallelState

    found: dict[str, ScopePlan] = {}
    pending = [plan.scope]
    while pending:
        scope = pending.pop()
        found[scope.path] = scope
        for state in scope.states:
            if isinstance(state, ParallelState):
                pending.extend(state.branches)
            elif isinstance(state, MapState):
                pending.append(state.processor)
    return found


@dataclass(slots=True)
class Execution:
    """A running Standard execution, as the engine holds it in memory."""

    id: int
    flow_name: str
    name: str
    revision: int
    plan: FlowPlan
    run: RunContext
    input_text: str
    started_at: float
    deadline: float
    next_event_id: int
    status: ExecutionStatus = ExecutionStatus.RUNNING
    frames: dict[str, Frame] = field(default_factory=dict)
    running_tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    """Frame key → the asyncio task invoking that frame's integration."""
    waiters: list[asyncio.Future[None]] = field(default_factory=list)
    scopes: dict[str, ScopePlan] = field(default_factory=dict)
    items: dict[str, list[Any]] = field(default_factory=dict)
    """Map frame key → the inputs of its iterations (stored once, in their own row)."""
    globals_dirty: bool = False
    history_full: bool = False
    output_text: str | None = None
    error: FlowError | None = None
    stopped_at: float | None = None
    trace_context: str | None = None
    """The starting call's W3C trace context (JSON), parent of the task spans."""
    parent_token: str | None = None
    """Set for a child flow started by a parent's FNF:StartExecution task: its report goes there."""
