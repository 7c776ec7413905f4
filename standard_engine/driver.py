"""How a Standard execution moves: the shared state semantics applied to stored frames.

The driver is synchronous and does no I/O. Each engine tick hands it inputs (a start, a
task result, a fired timer, a report, a stop); it advances the affected frames as far as
they go without waiting, and records into a :class:`Tick` the history events and frame
checkpoints to commit, and the effects (dispatch a task, arm a timer, cancel a call,
wake a waiter) that the engine may perform only *after* that commit.

What each state does is never decided here: ``enter``, ``finish`` and ``recover`` of the
shared plan nodes decide it, exactly as in the express engine.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from shared import errors
from shared.errors import FlowError, TaskNotWaiting
from shared.outcomes import (
    Advance,
    Failed,
    RetryAfter,
    RunBranches,
    RunIterations,
    RunTask,
    WaitUntil,
)
from shared.plan import State
from shared.ports import TaskMode
from shared.results import ExecutionStatus
from shared.states.map import MapState
from shared.states.parallel import ParallelState
from shared.states.task import TaskState
from shared.values import dumps
from standard_engine import history
from standard_engine.model import CHILD_FLOW_ACTION, Children, Execution, Frame, PendingTask, Phase
from standard_engine.store import Batch
from standard_engine.tokens import TaskTokens, TokenClaims

ITEMS_SUFFIX = "#items"

__all__ = [
    "ITEMS_SUFFIX",
    "ArmTimer",
    "CancelTask",
    "Dispatch",
    "Driver",
    "ParentNotice",
    "Tick",
    "TimerKind",
]

Continuation = tuple[Frame, Advance | Failed | None] | None


class TimerKind:
    WAIT = "wait"
    RETRY = "retry"
    TASK = "task"
    HEARTBEAT = "heartbeat"
    DEADLINE = "deadline"


@dataclass(frozen=True, slots=True)
class Dispatch:
    """Call a task's integration (after the commit that recorded TaskScheduled)."""

    execution: Execution
    frame: str
    task: PendingTask
    state_name: str
    attempt: int


@dataclass(frozen=True, slots=True)
class ArmTimer:
    due: float
    execution_id: int
    frame: str
    kind: str


@dataclass(frozen=True, slots=True)
class CancelTask:
    execution: Execution
    frame: str


@dataclass(frozen=True, slots=True)
class ParentNotice:
    """A child flow ended: report it to the parent task that waits for it."""

    child_id: int
    token: str
    status: ExecutionStatus
    output: Any
    error: FlowError | None


@dataclass(slots=True)
class Tick:
    """What one engine tick writes and then does."""

    now: float
    batch: Batch = field(default_factory=Batch)
    effects: list[Dispatch | ArmTimer | CancelTask] = field(default_factory=list)
    finished: list[Execution] = field(default_factory=list)
    notices: list[ParentNotice] = field(default_factory=list)
    started: list[Execution] = field(default_factory=list)
    state_times: list[tuple[Execution, str, str, str, float]] = field(default_factory=list)
    """(execution, state name, state type, outcome, seconds) of states left in this tick."""
    dirty: dict[tuple[int, str], tuple[Execution, Frame | None]] = field(default_factory=dict)
    queue: deque[tuple[Execution, Frame]] = field(default_factory=deque)
    draining: bool = False
    touched: dict[int, Execution] = field(default_factory=dict)

    def save(self, execution: Execution, frame: Frame) -> None:
        self.dirty[(execution.id, frame.key)] = (execution, frame)

    def drop(self, execution: Execution, key: str) -> None:
        self.dirty[(execution.id, key)] = (execution, None)

    def seal(self) -> Batch:
        """Serialise every frame touched in this tick, once, into the batch."""
        frames = self.batch.frames
        for (execution_id, key), (execution, frame) in self.dirty.items():
            if execution.status is ExecutionStatus.RUNNING:
                frames[(execution_id, key)] = None if frame is None else frame.body()
        for execution in self.touched.values():
            self.batch.progress[execution.id] = execution.next_event_id
            if execution.globals_dirty:
                self.batch.globals[execution.id] = dumps(execution.run.globals)
                execution.globals_dirty = False
        return self.batch


class Driver:
    """Applies inputs to executions; see the module docstring."""

    def __init__(self, tokens: TaskTokens, max_history_events: int) -> None:
        self._tokens = tokens
        self._max_events = max_history_events

    # -- inputs ------------------------------------------------------------------------

    def start(self, ex: Execution, tick: Tick) -> None:
        tick.started.append(ex)
        self._emit(ex, tick, history.EXECUTION_STARTED, "", {"input": ex.run.execution_input})
        root = Frame(
            key="",
            scope=ex.plan.scope,
            state_index=ex.plan.scope.start,
            phase=Phase.ENTER,
            data=ex.run.execution_input,
        )
        ex.frames[""] = root
        tick.save(ex, root)
        tick.effects.append(ArmTimer(ex.deadline, ex.id, "", TimerKind.DEADLINE))
        self._run(ex, root, None, tick)

    def resume(self, ex: Execution, tick: Tick) -> None:
        """After a restart: carry on every frame from its checkpoint."""
        tick.effects.append(ArmTimer(ex.deadline, ex.id, "", TimerKind.DEADLINE))
        for frame in list(ex.frames.values()):
            if frame.phase is Phase.ENTER:
                tick.queue.append((ex, frame))
            elif frame.phase in (Phase.RETRY, Phase.WAIT):
                assert frame.due is not None
                kind = TimerKind.RETRY if frame.phase is Phase.RETRY else TimerKind.WAIT
                tick.effects.append(ArmTimer(frame.due, ex.id, frame.key, kind))
            elif frame.phase is Phase.TASK:
                task = frame.task
                assert task is not None
                if not task.submitted:
                    # At-least-once: the outcome of this call was never committed; call again.
                    # (A submitted callback keeps waiting for its report, token unchanged.)
                    tick.effects.append(
                        Dispatch(ex, frame.key, task, frame.state.name, sum(frame.retries))
                    )
                if task.deadline is not None:
                    tick.effects.append(ArmTimer(task.deadline, ex.id, frame.key, TimerKind.TASK))
                if task.heartbeat is not None:
                    # A restart is no one's silence: whoever works on it gets a full period.
                    task.heartbeat_due = tick.now + task.heartbeat
                    tick.save(ex, frame)
                    tick.effects.append(
                        ArmTimer(task.heartbeat_due, ex.id, frame.key, TimerKind.HEARTBEAT)
                    )
        self._drain(tick)

    def task_finished(
        self,
        ex: Execution,
        key: str,
        task_id: int,
        result: Any,
        error: FlowError | None,
        tick: Tick,
    ) -> None:
        frame = self._waiting_task(ex, key, task_id)
        if frame is None or frame.task is None:
            return  # a late answer for a task that timed out, was stopped or was superseded
        if frame.task.completes_on_report and error is None:
            # The call only delivered the token (or started the child flow); the state
            # completes on a report.
            self._emit(ex, tick, history.TASK_SUBMITTED, frame.state.name, {}, frame.task.id)
            frame.task.submitted = True
            tick.save(ex, frame)
            tick.touched[ex.id] = ex
            return
        self._complete_task(ex, frame, result, error, tick)

    def report(
        self, ex: Execution, claims: TokenClaims, output: Any, error: FlowError | None, tick: Tick
    ) -> int:
        """A ReportTaskSucceeded/Failed; returns the id of the event it recorded."""
        frame = self._waiting_task(ex, claims.frame, claims.task_id)
        if frame is None or frame.task is None or not frame.task.completes_on_report:
            raise TaskNotWaiting(
                "the task of this token is no longer waiting for a report (it finished, timed out or was retried)"
            )
        tick.effects.append(CancelTask(ex, frame.key))
        return self._complete_task(ex, frame, output, error, tick)

    def heartbeat(self, ex: Execution, claims: TokenClaims, tick: Tick) -> int:
        """A sign of life from whoever works on the task: its heartbeat deadline moves on.

        No timer is armed here: the one already armed re-arms itself at the new deadline
        when it fires, so a busy task's heartbeats do not pile timers up.
        """
        frame = self._waiting_task(ex, claims.frame, claims.task_id)
        if frame is None or frame.task is None:
            raise TaskNotWaiting("the task of this token is no longer running")
        task = frame.task
        if task.heartbeat is not None:
            task.heartbeat_due = tick.now + task.heartbeat
            tick.save(ex, frame)
            tick.touched[ex.id] = ex
        return task.id

    def timer_fired(self, ex: Execution, key: str, kind: str, due: float, tick: Tick) -> None:
        if kind == TimerKind.DEADLINE:
            if due == ex.deadline:
                limit = ex.deadline - ex.started_at
                self.finish(
                    ex,
                    ExecutionStatus.TIMED_OUT,
                    None,
                    FlowError(
                        errors.TIMEOUT,
                        f"the execution did not finish within its limit of {limit:g} seconds",
                    ),
                    tick,
                )
            return
        frame = ex.frames.get(key)
        if frame is None:
            return
        if kind == TimerKind.WAIT and frame.phase is Phase.WAIT and frame.due == due:
            frame.due = None
            state = frame.state
            self._run(
                ex,
                frame,
                state.finish(frame.state_input, frame.state_input, ex.run, sum(frame.retries)),
                tick,
            )
        elif kind == TimerKind.RETRY and frame.phase is Phase.RETRY and frame.due == due:
            frame.phase, frame.due = Phase.ENTER, None
            self._run(ex, frame, None, tick)
        elif (
            kind == TimerKind.HEARTBEAT
            and frame.phase is Phase.TASK
            and frame.task is not None
            and frame.task.heartbeat_due is not None
            and frame.task.heartbeat_due > due
        ):
            # A heartbeat came since this timer was armed: wait until the new deadline.
            tick.effects.append(
                ArmTimer(frame.task.heartbeat_due, ex.id, frame.key, TimerKind.HEARTBEAT)
            )
        elif (
            kind == TimerKind.HEARTBEAT
            and frame.phase is Phase.TASK
            and frame.task is not None
            and frame.task.heartbeat_due == due
        ):
            task = frame.task
            cause = f"state '{frame.state.name}': no heartbeat for {task.heartbeat:g} seconds"
            detail = {"error": errors.HEARTBEAT_TIMEOUT, "cause": cause}
            self._emit(ex, tick, history.TASK_TIMED_OUT, frame.state.name, detail, task.id)
            tick.effects.append(CancelTask(ex, frame.key))
            frame.task = None
            self._run(ex, frame, Failed(FlowError(errors.HEARTBEAT_TIMEOUT, cause)), tick)
        elif (
            kind == TimerKind.TASK
            and frame.phase is Phase.TASK
            and frame.task is not None
            and frame.task.deadline == due
        ):
            task = frame.task
            cause = f"state '{frame.state.name}': the task did not finish within {task.timeout:g} seconds"
            self._emit(
                ex,
                tick,
                history.TASK_TIMED_OUT,
                frame.state.name,
                {"error": errors.TIMEOUT, "cause": cause},
                task.id,
            )
            tick.effects.append(CancelTask(ex, frame.key))
            frame.task = None
            self._run(ex, frame, Failed(FlowError(errors.TIMEOUT, cause)), tick)

    def stop(self, ex: Execution, error: str, cause: str, tick: Tick) -> None:
        self.finish(ex, ExecutionStatus.STOPPED, None, FlowError(error, cause), tick)

    def finish(
        self,
        ex: Execution,
        status: ExecutionStatus,
        output: Any,
        error: FlowError | None,
        tick: Tick,
    ) -> None:
        """End the execution: its last event, its final row, and every call cancelled."""
        if ex.status is not ExecutionStatus.RUNNING:
            return
        event_type = history.EXECUTION_ENDED[status]
        detail: dict[str, Any] = (
            {"output": output} if error is None else {"error": error.code, "cause": error.cause}
        )
        self._emit(ex, tick, event_type, "", detail, force=True)
        ex.status = status
        output_text = dumps(output) if status is ExecutionStatus.SUCCEEDED else None
        ex.output_text, ex.error, ex.stopped_at = output_text, error, tick.now
        tick.batch.finished[ex.id] = (
            status.value,
            output_text,
            error.code if error else None,
            error.cause if error else None,
            tick.now,
        )
        for key in list(ex.running_tasks):
            tick.effects.append(CancelTask(ex, key))
        ex.frames.clear()
        tick.finished.append(ex)
        if ex.parent_token is not None:
            tick.notices.append(ParentNotice(ex.id, ex.parent_token, status, output, error))

    # -- driving a frame ---------------------------------------------------------------

    def _drain(self, tick: Tick) -> None:
        """Run the frames queued in this tick (new branches and iterations), iteratively.

        Only the outermost call drains: a frame run from here that queues more frames must
        not start a nested drain, or a Map of thousands of items would recurse as deep.
        """
        if tick.draining:
            return
        tick.draining = True
        try:
            while tick.queue:
                ex, frame = tick.queue.popleft()
                if ex.status is ExecutionStatus.RUNNING and ex.frames.get(frame.key) is frame:
                    self._run(ex, frame, None, tick)
        finally:
            tick.draining = False

    def _run(
        self, ex: Execution, frame: Frame, outcome: Advance | Failed | None, tick: Tick
    ) -> None:
        """Drive ``frame`` (and the parents it completes) until everything waits."""
        tick.touched[ex.id] = ex
        step: Continuation = (frame, outcome)
        while step is not None and ex.status is ExecutionStatus.RUNNING:
            frame, outcome = step
            tick.save(ex, frame)
            step = self._step(ex, frame, outcome, tick)
            if ex.history_full and ex.status is ExecutionStatus.RUNNING:
                limit = self._max_events
                self.finish(
                    ex,
                    ExecutionStatus.FAILED,
                    None,
                    FlowError(
                        errors.RUNTIME_ERROR,
                        f"the execution reached its limit of {limit} history events",
                    ),
                    tick,
                )
        self._drain(tick)

    def _step(
        self, ex: Execution, frame: Frame, outcome: Advance | Failed | None, tick: Tick
    ) -> Continuation:
        state = frame.state
        if outcome is None:
            entered = self._enter(ex, frame, state, tick)
            if not isinstance(entered, Advance | Failed):
                return self._block(ex, frame, state, entered, tick)
            outcome = entered
        if isinstance(outcome, Advance):
            return self._advance(ex, frame, outcome, tick)
        return self._fail(ex, frame, outcome.error, tick)

    def _enter(self, ex: Execution, frame: Frame, state: State, tick: Tick) -> Any:
        frame.entered_event = self._emit(
            ex, tick, history.STEP_ENTERED, state.name, {"input": frame.data}
        )
        frame.entered_at = tick.now
        frame.state_input = None
        token = None
        if isinstance(state, TaskState) and _needs_token(
            state.mode, state.action, state.heartbeat_seconds
        ):
            # The TaskScheduled event is the next one: its id names this attempt.
            token = self._tokens.issue(TokenClaims(ex.id, frame.key, ex.next_event_id))
        return state.enter(frame.data, ex.run, sum(frame.retries), tick.now, token)

    def _advance(self, ex: Execution, frame: Frame, outcome: Advance, tick: Tick) -> Continuation:
        if outcome.globals is not None:
            ex.run.globals = outcome.globals
            ex.globals_dirty = True
        self._emit(ex, tick, history.STEP_EXITED, frame.state.name, {"output": outcome.output})
        self._timed(ex, frame, "succeeded", tick)
        if outcome.next is None:
            return self._frame_finished(ex, frame, outcome.output, tick)
        frame.state_index = outcome.next
        frame.data = outcome.output
        frame.phase = Phase.ENTER
        frame.retries = ()
        frame.state_input = None
        return (frame, None)

    def _fail(self, ex: Execution, frame: Frame, error: FlowError, tick: Tick) -> Continuation:
        state = frame.state
        state_input = frame.state_input if frame.state_input is not None else frame.data
        recovery = state.recover(state_input, error, ex.run, frame.retries)
        self._timed(ex, frame, "failed", tick)
        detail: dict[str, Any] = {"error": error.code, "cause": error.cause}
        if isinstance(recovery, RetryAfter):
            detail["retryAfterSeconds"] = recovery.delay_seconds
            self._emit(ex, tick, history.STEP_FAILED, state.name, detail)
            frame.phase = Phase.RETRY
            frame.retries = recovery.retries
            frame.due = tick.now + recovery.delay_seconds
            frame.state_input = None
            tick.effects.append(ArmTimer(frame.due, ex.id, frame.key, TimerKind.RETRY))
            return None
        if isinstance(recovery, Advance):
            detail["caught"] = True
            self._emit(ex, tick, history.STEP_FAILED, state.name, detail)
            return self._advance(ex, frame, recovery, tick)
        self._emit(
            ex,
            tick,
            history.STEP_FAILED,
            state.name,
            {"error": recovery.error.code, "cause": recovery.error.cause},
        )
        return self._frame_failed(ex, frame, recovery.error, tick)

    @staticmethod
    def _timed(ex: Execution, frame: Frame, outcome: str, tick: Tick) -> None:
        """Note how long the state took, once per entry (for metrics)."""
        if frame.entered_at is not None:
            state = frame.state
            tick.state_times.append(
                (ex, state.name, state.type_name, outcome, tick.now - frame.entered_at)
            )
            frame.entered_at = None

    def _block(
        self, ex: Execution, frame: Frame, state: State, effect: Any, tick: Tick
    ) -> Continuation:
        match effect:
            case RunTask():
                return self._schedule_task(ex, frame, effect, tick)
            case WaitUntil():
                if effect.instant <= tick.now:
                    return (
                        frame,
                        state.finish(effect.input, effect.input, ex.run, sum(frame.retries)),
                    )
                frame.phase, frame.due, frame.state_input = Phase.WAIT, effect.instant, effect.input
                tick.effects.append(ArmTimer(effect.instant, ex.id, frame.key, TimerKind.WAIT))
                return None
            case RunBranches():
                assert isinstance(state, ParallelState)
                inputs = [effect.input] * len(state.branches)
                return self._start_children(ex, frame, effect.input, inputs, len(inputs), tick)
            case RunIterations():
                assert isinstance(state, MapState)
                if not effect.items:
                    return (frame, state.finish_items(effect.input, [], ex.run, sum(frame.retries)))
                return self._start_children(
                    ex, frame, effect.input, effect.items, effect.max_concurrency, tick
                )
        raise AssertionError(f"unexpected outcome {effect!r}")

    def _schedule_task(
        self, ex: Execution, frame: Frame, effect: RunTask, tick: Tick
    ) -> Continuation:
        state = frame.state
        detail = {
            "action": effect.action,
            "parameters": effect.parameters,
            "taskMode": effect.mode.value,
            "timeout": effect.timeout_seconds,
        }
        task_id = self._emit(ex, tick, history.TASK_SCHEDULED, state.name, detail)
        deadline = tick.now + effect.timeout_seconds if effect.timeout_seconds else None
        token = None
        if _needs_token(effect.mode, effect.action, effect.heartbeat_seconds):
            token = self._tokens.issue(TokenClaims(ex.id, frame.key, task_id))
        heartbeat = effect.heartbeat_seconds
        task = PendingTask(
            task_id,
            effect.action,
            effect.parameters,
            effect.mode,
            effect.timeout_seconds,
            deadline,
            token,
            heartbeat,
            tick.now + heartbeat if heartbeat else None,
        )
        frame.phase, frame.task, frame.state_input = Phase.TASK, task, effect.input
        self._emit(ex, tick, history.TASK_STARTED, state.name, {}, task_id)
        tick.effects.append(Dispatch(ex, frame.key, task, state.name, sum(frame.retries)))
        if deadline is not None:
            tick.effects.append(ArmTimer(deadline, ex.id, frame.key, TimerKind.TASK))
        if task.heartbeat_due is not None:
            tick.effects.append(ArmTimer(task.heartbeat_due, ex.id, frame.key, TimerKind.HEARTBEAT))
        return None

    def _complete_task(
        self, ex: Execution, frame: Frame, result: Any, error: FlowError | None, tick: Tick
    ) -> int:
        task = frame.task
        assert task is not None
        state = frame.state
        frame.task = None
        if error is not None:
            event_id = self._emit(
                ex,
                tick,
                history.TASK_FAILED,
                state.name,
                {"error": error.code, "cause": error.cause},
                task.id,
            )
            self._run(ex, frame, Failed(error), tick)
        else:
            event_id = self._emit(
                ex, tick, history.TASK_SUCCEEDED, state.name, {"output": result}, task.id
            )
            self._run(
                ex, frame, state.finish(frame.state_input, result, ex.run, sum(frame.retries)), tick
            )
        return event_id

    def _waiting_task(self, ex: Execution, key: str, task_id: int) -> Frame | None:
        frame = ex.frames.get(key)
        if (
            frame is None
            or frame.phase is not Phase.TASK
            or frame.task is None
            or frame.task.id != task_id
        ):
            return None
        return frame

    # -- branches and iterations -------------------------------------------------------

    def _start_children(
        self,
        ex: Execution,
        frame: Frame,
        state_input: Any,
        inputs: list[Any],
        concurrency: int,
        tick: Tick,
    ) -> Continuation:
        frame.phase, frame.state_input = Phase.CHILDREN, state_input
        frame.children = Children(
            frame.entered_event, len(inputs), max_concurrency=max(1, concurrency)
        )
        if isinstance(frame.state, MapState):
            ex.items[frame.key] = inputs
            tick.batch.frames[(ex.id, _items_key(frame))] = dumps(inputs)
        for _ in range(min(frame.children.max_concurrency, len(inputs))):
            self._start_child(ex, frame, inputs, tick)
        return None

    def _start_child(self, ex: Execution, parent: Frame, inputs: list[Any], tick: Tick) -> None:
        children = parent.children
        assert children is not None
        position = children.started
        children.started += 1
        state = parent.state
        assert isinstance(state, ParallelState | MapState)
        scope = state.branches[position] if isinstance(state, ParallelState) else state.processor
        child = Frame(
            key=parent.child_key(position),
            scope=scope,
            state_index=scope.start,
            phase=Phase.ENTER,
            data=inputs[position],
            parent=parent.key,
            position=position,
        )
        ex.frames[child.key] = child
        entered = (
            history.BRANCH_ENTERED
            if isinstance(state, ParallelState)
            else history.ITERATION_ENTERED
        )
        self._emit(ex, tick, entered, state.name, {"index": position, "input": child.data})
        tick.save(ex, child)
        tick.save(ex, parent)
        tick.queue.append((ex, child))

    def _frame_finished(self, ex: Execution, frame: Frame, output: Any, tick: Tick) -> Continuation:
        if frame.parent is None:
            self.finish(ex, ExecutionStatus.SUCCEEDED, output, None, tick)
            return None
        parent = ex.frames[frame.parent]
        children = parent.children
        assert children is not None
        frame.phase, frame.data = Phase.DONE, output
        state = parent.state
        exited = (
            history.BRANCH_EXITED if isinstance(state, ParallelState) else history.ITERATION_EXITED
        )
        self._emit(ex, tick, exited, state.name, {"index": frame.position, "output": output})
        children.done += 1
        tick.save(ex, parent)
        if children.started < children.total:
            self._start_child(ex, parent, ex.items[parent.key], tick)
        if children.done < children.total:
            return None
        outputs = [ex.frames[parent.child_key(i)].data for i in range(children.total)]
        self._drop_children(ex, parent, tick)
        retry_count = sum(parent.retries)
        if isinstance(state, ParallelState):
            return (parent, state.finish_branches(parent.state_input, outputs, ex.run, retry_count))
        assert isinstance(state, MapState)
        return (parent, state.finish_items(parent.state_input, outputs, ex.run, retry_count))

    def _frame_failed(
        self, ex: Execution, frame: Frame, error: FlowError, tick: Tick
    ) -> Continuation:
        if frame.parent is None:
            self.finish(ex, ExecutionStatus.FAILED, None, error, tick)
            return None
        parent = ex.frames[frame.parent]
        state = parent.state
        exited = (
            history.BRANCH_EXITED if isinstance(state, ParallelState) else history.ITERATION_EXITED
        )
        self._emit(
            ex,
            tick,
            exited,
            state.name,
            {"index": frame.position, "error": error.code, "cause": error.cause},
        )
        # The first failure stops every sibling still running (DESIGN.md §3).
        self._drop_children(ex, parent, tick)
        return (parent, Failed(error))

    def _drop_children(self, ex: Execution, parent: Frame, tick: Tick) -> None:
        children = parent.children
        assert children is not None
        for position in range(children.started):
            self._drop_frame(ex, parent.child_key(position), tick)
        if ex.items.pop(parent.key, None) is not None:
            tick.batch.frames[(ex.id, _items_key(parent))] = None
        parent.children = None

    def _drop_frame(self, ex: Execution, key: str, tick: Tick) -> None:
        frame = ex.frames.pop(key, None)
        if frame is None:
            return
        if frame.children is not None:
            self._drop_children(ex, frame, tick)
        if key in ex.running_tasks:
            tick.effects.append(CancelTask(ex, key))
        tick.drop(ex, key)

    # -- history -----------------------------------------------------------------------

    def _emit(
        self,
        ex: Execution,
        tick: Tick,
        event_type: str,
        step: str,
        detail: dict[str, Any],
        schedule_id: int = 0,
        *,
        force: bool = False,
    ) -> int:
        event_id = ex.next_event_id
        if event_id > self._max_events and not force:
            ex.history_full = True
            return event_id
        ex.next_event_id = event_id + 1
        tick.batch.events.append(
            (ex.id, event_id, event_type, step, tick.now, dumps(detail), schedule_id)
        )
        tick.touched[ex.id] = ex
        return event_id


def _needs_token(mode: TaskMode, action: str, heartbeat: float | None) -> bool:
    """Tasks that someone outside reports on (callbacks, child flows, heartbeats) get a token."""
    return (
        mode is TaskMode.WAIT_FOR_CUSTOM_CALLBACK
        or (mode is TaskMode.WAIT_FOR_SYSTEM_CALLBACK and action == CHILD_FLOW_ACTION)
        or heartbeat is not None
    )


def _items_key(frame: Frame) -> str:
    """The row holding a Map frame's iteration inputs (frame keys never end in ``#items``)."""
    return frame.key + ITEMS_SUFFIX
