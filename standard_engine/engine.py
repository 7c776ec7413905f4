"""The standard engine: durable Standard executions on SQLite.

One *reactor* coroutine owns every running execution. It takes all the inputs that have
arrived (starts, task results, fired timers, reports, stops), lets the :class:`Driver`
apply them in memory, commits everything they wrote in ONE transaction (group commit),
and only then performs their effects: dispatching tasks, arming timers, answering
callers. Nothing that depends on a transition happens before the transition is durable,
so a crash at any point loses nothing: on start-up every Running execution is loaded from
its checkpoint and carried on by the same code (at-least-once: a call whose outcome was
not committed is made again).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import functools
import hashlib
import heapq
import itertools
import json
import logging
import re
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, TypeVar

from cachetools import LRUCache

from shared import errors
from shared.compiler import compile_flow
from shared.context import RunContext
from shared.errors import (
    ExecutionAlreadyExists,
    ExecutionNotFound,
    FlowError,
    FlowFailure,
    InvalidArgument,
    PayloadTooLarge,
    ServiceError,
    TaskNotWaiting,
)
from shared.limits import DEFAULT_LIMITS, Limits
from shared.plan import ExecutionMode, FlowPlan
from shared.ports import (
    Entropy,
    ExecutionObserver,
    SystemEntropy,
    TaskInvoker,
    TaskMode,
    TaskRequest,
)
from shared.results import ExecutionInfo, ExecutionStatus, HistoryEvent
from shared.values import dumps, json_size, parse_json, parse_json_object
from standard_engine import tracing
from standard_engine.clock import EngineClock, SystemClock
from standard_engine.driver import (
    ITEMS_SUFFIX,
    ArmTimer,
    CancelTask,
    Dispatch,
    Driver,
    ParentNotice,
    Tick,
)
from standard_engine.model import Execution, Frame, scopes_of
from standard_engine.store import ExecutionRow, Store
from standard_engine.tokens import TaskTokens

__all__ = ["EngineLocked", "StandardEngine"]

log = logging.getLogger(__name__)

T = TypeVar("T")

EXECUTION_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,127}")
MAX_PAGE = 999
RECENT_NAMES_SECONDS = 120.0
MODE = "Standard"


_Reply = tuple["asyncio.Future[Any] | None", Any, "BaseException | None"]


def _answer(replies: list[_Reply]) -> None:
    for reply, value, error in replies:
        if reply is None or reply.done():
            continue
        if error is not None:
            reply.set_exception(error)
        else:
            reply.set_result(value)


async def _nothing() -> None:
    """A commit of an empty batch."""


@dataclass(slots=True)
class _Input:
    apply: Callable[[Tick], Any]
    reply: asyncio.Future[Any] | None


class StandardEngine:
    """Runs Standard executions durably. Use ``async with StandardEngine.open(...)``."""

    def __init__(
        self,
        store: Store,
        invoker: TaskInvoker,
        *,
        clock: EngineClock,
        entropy: Entropy,
        limits: Limits,
        retention_seconds: float | None,
        observer: ExecutionObserver | None = None,
    ) -> None:
        self._observer = observer
        self._lock: IO[bytes] | None = None
        self._store = store
        self._invoker = invoker
        self._clock = clock
        self._entropy = entropy
        self._limits = limits
        self._retention = retention_seconds
        self._driver: Driver | None = None
        self._tokens: TaskTokens | None = None
        self._running: dict[int, Execution] = {}
        self._by_name: dict[tuple[str, str], Execution] = {}
        self._recently_finished: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._plans: LRUCache[str, FlowPlan] = LRUCache(maxsize=1024)
        self._inbox: asyncio.Queue[_Input] = asyncio.Queue()
        self._timers: list[tuple[float, int, int, str, str]] = []
        self._timer_seq = itertools.count()
        self._timer_wake = asyncio.Event()
        self._next_id = 0
        self._background: list[asyncio.Task[None]] = []
        self._closing = False
        self._failure: BaseException | None = None
        self.invocations = 0
        """Task calls made by this process (tests compare it across crashes)."""

    # -- life cycle --------------------------------------------------------------------

    @classmethod
    async def open(
        cls,
        path: str | Path,
        invoker: TaskInvoker,
        *,
        clock: EngineClock | None = None,
        entropy: Entropy | None = None,
        limits: Limits = DEFAULT_LIMITS,
        retention_seconds: float | None = None,
        observer: ExecutionObserver | None = None,
    ) -> StandardEngine:
        """Open (or create) the database, recover every running execution, and start.

        Raises :class:`EngineLocked` when another process runs a standard engine on the
        same file: two reactors would both resume every running execution.
        """
        lock = _lock_database(Path(path))
        try:
            store = await Store.open(path)
        except BaseException:
            lock.close()
            raise
        engine = cls(
            store,
            invoker,
            clock=clock or SystemClock(),
            entropy=entropy or SystemEntropy(),
            limits=limits,
            retention_seconds=retention_seconds,
            observer=observer,
        )
        engine._lock = lock
        await engine._start()
        return engine

    async def __aenter__(self) -> StandardEngine:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def _start(self) -> None:
        self._tokens = TaskTokens(await self._store.token_secret())
        self._driver = Driver(self._tokens, self._limits.max_history_events)
        self._next_id = await self._store.max_execution_id()
        self._background = [
            asyncio.create_task(self._reactor(), name="cloudflow-standard-reactor"),
            asyncio.create_task(self._timer_loop(), name="cloudflow-standard-timers"),
        ]
        if self._retention is not None:
            self._background.append(
                asyncio.create_task(self._retention_loop(), name="cloudflow-standard-retention")
            )
        await self._recover()

    async def close(self) -> None:
        """Stop without finishing anything: running executions resume at the next open."""
        if self._closing:
            return
        self._closing = True
        for execution in self._running.values():
            for task in execution.running_tasks.values():
                task.cancel()
        for task in self._background:
            task.cancel()
        # return_exceptions: a reactor that stopped on an error has logged it already.
        await asyncio.gather(*self._background, return_exceptions=True)
        self._fail_waiting(
            ServiceError("the standard engine is shutting down; retry on the restarted server")
        )
        await self._store.close()
        if self._lock is not None:
            self._lock.close()  # releases the lock

    async def _recover(self) -> None:
        """Load every Running execution from its checkpoint and carry it on.

        Two queries in all, not two per execution: every frame in the table belongs to a
        running execution (a finished one's frames go with its last commit).
        """
        rows = await self._store.running_executions()
        frames: dict[int, list[tuple[str, str]]] = {}
        for execution_id, key, body in await self._store.all_frames():
            frames.setdefault(execution_id, []).append((key, body))
        resumed: list[Execution] = []
        for row in rows:
            try:
                execution = await self._load(row, frames.get(row.id, []))
            except Exception:  # one broken execution must not keep the others from resuming
                log.exception("cannot resume execution %s of flow %s", row.name, row.flow_name)
                continue
            self._adopt(execution)
            resumed.append(execution)
        # A few large inputs rather than one per execution: fewer, fuller ticks.
        for start in range(0, len(resumed), 500):
            await self._submit(
                functools.partial(self._resume_all, resumed[start : start + 500]), wait=False
            )
        if rows:
            log.info("resumed %d running executions", len(rows))
        for child in await self._store.unreported_children():
            self._notify_parent(
                ParentNotice(
                    child.id,
                    child.parent_token or "",
                    ExecutionStatus(child.status),
                    json.loads(child.output) if child.output is not None else None,
                    FlowError(child.error_code, child.error_message or "")
                    if child.error_code
                    else None,
                )
            )

    async def _load(self, row: ExecutionRow, frames: list[tuple[str, str]]) -> Execution:
        plan = self._plans.get(row.plan_digest) if row.plan_digest is not None else None
        if plan is None:
            definition = await self._store.plan_definition(
                row.plan_digest, row.flow_name, row.revision
            )
            if definition is None:
                raise RuntimeError("its flow definition is missing from the database")
            plan, _ = self._plan(definition)
        execution = self._new_execution(
            row.id,
            row.flow_name,
            row.name,
            row.revision,
            plan,
            parse_json_object(row.input, "input"),
            row.input,
            row.started_at,
            row.deadline,
        )
        execution.next_event_id = row.next_event_id
        execution.parent_token = row.parent_token
        execution.trace_context = row.trace_context
        execution.run.globals = parse_json_object(row.globals, "globals")
        for key, body in frames:
            if key.endswith(ITEMS_SUFFIX):
                execution.items[key.removesuffix(ITEMS_SUFFIX)] = _json_list(body)
            else:
                execution.frames[key] = Frame.load(key, body, execution.scopes)
        return execution

    # -- the public API (the gateway's StandardBackend) ---------------------------------

    async def start_execution(
        self,
        flow_name: str,
        revision: int,
        definition: str,
        execution_name: str | None,
        input_json: str,
        *,
        parent_token: str | None = None,
    ) -> ExecutionInfo:
        """Start an execution; idempotent for the name of a running one.

        ``parent_token`` makes it a child flow: when it ends, its result is reported to the
        parent's task with that token (FNF:StartExecution in WaitForSystemCallback mode).
        """
        self._check_open()
        # A generated name starts with a letter, so it obeys the same rules as a given one.
        name = execution_name or f"exec-{uuid.uuid4()}"
        if not EXECUTION_NAME.fullmatch(name):
            raise InvalidArgument(
                f"execution name '{name[:140]}' is not valid: use 1-128 letters, digits, '_' or '-', starting with a letter or '_'"
            )
        try:
            execution_input = parse_json_object(input_json, "the execution input")
        except ValueError as exc:
            raise InvalidArgument(str(exc)) from None
        size = json_size(execution_input)
        if size > self._limits.max_payload_bytes:
            raise PayloadTooLarge(
                f"the execution input is {size} bytes, over the limit of {self._limits.max_payload_bytes} bytes"
            )
        plan, digest = self._plan(definition)
        running = self._by_name.get((flow_name, name))
        if running is not None:
            _check_same_parent(running, parent_token)
            return self._info(running)
        if await self._store.execution(flow_name, name) is not None:
            raise ExecutionAlreadyExists(
                f"execution '{name}' of flow '{flow_name}' already exists and has finished; use another name"
            )
        input_text = dumps(execution_input)
        trace_context = tracing.capture()

        def apply(tick: Tick) -> ExecutionInfo:
            existing = self._by_name.get((flow_name, name))
            if existing is not None:
                _check_same_parent(existing, parent_token)
                return self._info(existing)
            if (flow_name, name) in self._recently_finished:
                raise ExecutionAlreadyExists(
                    f"execution '{name}' of flow '{flow_name}' already exists and has finished; use another name"
                )
            self._next_id += 1
            now = tick.now
            execution = self._new_execution(
                self._next_id,
                flow_name,
                name,
                revision,
                plan,
                execution_input,
                input_text,
                now,
                now + plan.timeout_seconds,
            )
            tick.batch.plans[digest] = definition
            tick.batch.new_executions.append(
                (
                    execution.id,
                    flow_name,
                    name,
                    revision,
                    "Running",
                    input_text,
                    None,
                    None,
                    None,
                    now,
                    None,
                    execution.deadline,
                    1,
                    "{}",
                    parent_token,
                    trace_context,
                    digest,
                )
            )
            execution.parent_token = parent_token
            execution.trace_context = trace_context
            self._adopt(execution)
            self._driver_().start(execution, tick)
            return self._info(execution)

        result: ExecutionInfo = await self._submit(apply)
        return result

    async def describe_execution(
        self, flow_name: str, execution_name: str, wait_seconds: float = 0
    ) -> ExecutionInfo:
        row = await self._store.execution(flow_name, execution_name)
        if row is None:
            raise ExecutionNotFound(f"flow '{flow_name}' has no execution named '{execution_name}'")
        if row.status == "Running" and wait_seconds > 0:
            # Still in _running means its end (if reached in memory) is not committed yet;
            # waiters are woken only after that commit.
            execution = self._running.get(row.id)
            if execution is not None:
                waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                execution.waiters.append(waiter)
                try:
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(min(wait_seconds, 60.0)):
                            await waiter
                finally:
                    if waiter in execution.waiters:
                        execution.waiters.remove(waiter)
            row = await self._store.execution(flow_name, execution_name) or row
        return _info_from_row(row)

    async def stop_execution(
        self, flow_name: str, execution_name: str, error: str, cause: str
    ) -> ExecutionInfo:
        self._check_open()
        if len(error) > 128 or len(cause) > 4096:
            raise InvalidArgument("error may have at most 128 characters and cause at most 4096")
        row = await self._store.execution(flow_name, execution_name)
        if row is None:
            raise ExecutionNotFound(f"flow '{flow_name}' has no execution named '{execution_name}'")

        def apply(tick: Tick) -> None:
            execution = self._running.get(row.id)
            if execution is not None:
                self._driver_().stop(
                    execution, error or "FnF.Stopped", cause or "the execution was stopped", tick
                )

        await self._submit(apply)
        return await self.describe_execution(flow_name, execution_name)

    async def list_executions(
        self,
        flow_name: str,
        *,
        status: ExecutionStatus | None = None,
        name_prefix: str = "",
        started_after: float | None = None,
        started_before: float | None = None,
        page_size: int = 60,
        page_token: str = "",
    ) -> tuple[list[ExecutionInfo], str]:
        size = _page_size(page_size, 99)
        after = _decode_list_token(page_token) if page_token else None
        rows = await self._store.list_executions(
            flow_name,
            status=status.value if status else None,
            name_prefix=name_prefix,
            started_after=started_after,
            started_before=started_before,
            after=after,
            limit=size + 1,
        )
        more = len(rows) > size
        rows = rows[:size]
        token = _encode_list_token(rows[-1].started_at, rows[-1].id) if more and rows else ""
        return [_info_from_row(r) for r in rows], token

    async def get_execution_history(
        self, flow_name: str, execution_name: str, page_size: int = 60, page_token: str = ""
    ) -> tuple[list[HistoryEvent], str]:
        row = await self._store.execution(flow_name, execution_name)
        if row is None:
            raise ExecutionNotFound(f"flow '{flow_name}' has no execution named '{execution_name}'")
        size = _page_size(page_size, MAX_PAGE)
        try:
            after = int(page_token) if page_token else 0
        except ValueError:
            raise InvalidArgument("page_token is not a token this server returned") from None
        rows = await self._store.events(row.id, after, size + 1)
        more = len(rows) > size
        events = [HistoryEvent(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows[:size]]
        return events, (str(events[-1].event_id) if more and events else "")

    async def report_task_succeeded(self, task_token: str, output_json: str) -> int:
        try:
            output = _parse_json(output_json, "output")
        except ValueError as exc:
            raise InvalidArgument(str(exc)) from None
        return await self._report(task_token, output, None)

    async def report_task_failed(self, task_token: str, error: str, cause: str) -> int:
        if not 1 <= len(error) <= 128 or len(cause) > 4096:
            raise InvalidArgument("error must have 1 to 128 characters and cause at most 4096")
        return await self._report(task_token, None, FlowError(error, cause))

    async def report_task_heartbeat(self, task_token: str) -> int:
        self._check_open()
        claims = self._tokens_().verify(task_token)

        def apply(tick: Tick) -> int:
            return self._driver_().heartbeat(
                self._reported_execution(claims.execution_id), claims, tick
            )

        result: int = await self._submit(apply)
        return result

    async def _report(self, task_token: str, output: Any, error: FlowError | None) -> int:
        self._check_open()
        claims = self._tokens_().verify(task_token)

        def apply(tick: Tick) -> int:
            execution = self._reported_execution(claims.execution_id)
            return self._driver_().report(execution, claims, output, error, tick)

        result: int = await self._submit(apply)
        return result

    def _reported_execution(self, execution_id: int) -> Execution:
        execution = self._running.get(execution_id)
        if execution is None or execution.status is not ExecutionStatus.RUNNING:
            raise TaskNotWaiting(
                "the execution of this task token has finished; the report changes nothing"
            )
        return execution

    @property
    def running_count(self) -> int:
        return len(self._running)

    # -- the reactor -------------------------------------------------------------------

    async def _submit(self, apply: Callable[[Tick], T], *, wait: bool = True) -> T:
        if self._failure is not None:
            raise ServiceError(
                "the standard engine stopped after a storage failure; restart the server"
            ) from self._failure
        reply: asyncio.Future[Any] | None = (
            asyncio.get_running_loop().create_future() if wait else None
        )
        self._inbox.put_nowait(_Input(apply, reply))
        if reply is None:
            return None  # type: ignore[return-value]
        return await reply  # type: ignore[no-any-return]

    async def _reactor(self) -> None:
        """Forever: take every input that has arrived, apply them, commit once, then act."""
        inbox = self._inbox
        while True:
            inputs = [await inbox.get()]
            while not inbox.empty():
                inputs.append(inbox.get_nowait())
            tick, replies = self._apply(inputs)
            batch = tick.seal()
            try:
                if batch:
                    await self._store.commit(batch)
            except Exception as exc:
                # Memory is now ahead of the database: stop rather than act on
                # transitions that are not durable. A restart resumes from the database.
                self._stop_after(exc, inputs, "a failure to write its database")
                raise
            self._perform(tick)
            _answer(replies)

    def _apply(self, inputs: list[_Input]) -> tuple[Tick, list[_Reply]]:
        tick = Tick(now=self._clock.now())
        replies: list[_Reply] = []
        for item in inputs:
            try:
                replies.append((item.reply, item.apply(tick), None))
            except ServiceError as exc:
                replies.append((item.reply, None, exc))
            except Exception as exc:
                # A bug: memory may now be half-updated. Stop before committing it; a
                # restart resumes every execution from its last committed checkpoint.
                self._stop_after(exc, inputs, "an internal error while applying a change")
                raise
        return tick, replies

    @staticmethod
    def _observe(tick: Tick, observer: ExecutionObserver) -> None:
        for execution in tick.started:
            observer.execution_started(execution.flow_name, MODE)
        for execution, state, kind, outcome, seconds in tick.state_times:
            observer.state_finished(execution.flow_name, MODE, state, kind, outcome, seconds)
        for execution in tick.finished:
            seconds = (execution.stopped_at or execution.started_at) - execution.started_at
            observer.execution_finished(execution.flow_name, MODE, execution.status.value, seconds)

    def _stop_after(self, exc: BaseException, inputs: list[_Input], what: str) -> None:
        """The reactor stops: fail every caller now instead of letting them wait forever."""
        log.exception("the standard engine stopped after %s", what, exc_info=exc)
        self._failure = exc
        error = ServiceError(
            f"the standard engine stopped after {what}; restart the server to resume"
        )
        for item in inputs:
            if item.reply is not None and not item.reply.done():
                item.reply.set_exception(error)
        self._fail_waiting(error)

    def _fail_waiting(self, error: ServiceError) -> None:
        """Answer every input still queued and wake every long-poll."""
        while not self._inbox.empty():
            pending = self._inbox.get_nowait()
            if pending.reply is not None and not pending.reply.done():
                pending.reply.set_exception(error)
        for execution in self._running.values():
            for waiter in execution.waiters:
                if not waiter.done():
                    waiter.set_result(None)

    def _perform(self, tick: Tick) -> None:
        finished = {execution.id for execution in tick.finished}
        for effect in tick.effects:
            if isinstance(effect, Dispatch):
                if effect.execution.id not in finished:
                    self._dispatch(effect)
            elif isinstance(effect, ArmTimer):
                if effect.execution_id not in finished:
                    self._arm(effect)
            elif isinstance(effect, CancelTask):
                task = effect.execution.running_tasks.pop(effect.frame, None)
                if task is not None:
                    task.cancel()
        for notice in tick.notices:
            self._notify_parent(notice)
        if self._observer is not None:
            self._observe(tick, self._observer)
        for execution in tick.finished:
            self._running.pop(execution.id, None)
            self._by_name.pop((execution.flow_name, execution.name), None)
            self._remember_finished((execution.flow_name, execution.name))
            for task in execution.running_tasks.values():
                task.cancel()
            execution.running_tasks.clear()
            for waiter in execution.waiters:
                if not waiter.done():
                    waiter.set_result(None)

    def _arm(self, effect: ArmTimer) -> None:
        timers = self._timers
        earliest = timers[0][0] if timers else None
        heapq.heappush(
            timers,
            (effect.due, next(self._timer_seq), effect.execution_id, effect.frame, effect.kind),
        )
        if earliest is None or effect.due < earliest:
            self._timer_wake.set()  # the timer loop sleeps until the old head: wake it earlier
        # Timers of finished executions are dropped lazily when due; a heap much larger
        # than the work in progress (year-long deadlines of finished executions) is rebuilt.
        if len(timers) > 1024 and len(timers) > 8 * (len(self._running) + 1):
            live = [t for t in timers if t[2] in self._running]
            heapq.heapify(live)
            self._timers[:] = live

    def _dispatch(self, effect: Dispatch) -> None:
        execution, task = effect.execution, effect.task
        frame = execution.frames.get(effect.frame)
        if (
            execution.status is not ExecutionStatus.RUNNING
            or frame is None
            or frame.task is not task
        ):
            return  # a later tick (applied while this one committed) already moved on
        request = TaskRequest(
            action=task.action,
            parameters=task.parameters,
            mode=task.mode,
            timeout_seconds=task.timeout,
            task_token=task.token,
            execution_name=execution.name,
            state_name=effect.state_name,
            attempt=effect.attempt,
        )
        previous = execution.running_tasks.pop(effect.frame, None)
        if previous is not None:
            previous.cancel()
        execution.running_tasks[effect.frame] = asyncio.create_task(
            self._invoke(execution, effect.frame, task.id, request)
        )

    async def _invoke(
        self, execution: Execution, frame: str, task_id: int, request: TaskRequest
    ) -> None:
        self.invocations += 1
        result: Any = None
        error: FlowError | None = None
        span = tracing.task_span(
            execution.trace_context,
            execution.name,
            execution.flow_name,
            request.state_name,
            request.action,
        )
        with span as (headers, outcome):
            if headers:
                request = dataclasses.replace(request, headers=headers)
            started = self._clock.now()
            try:
                result = await self._invoker.invoke(request)
            except FlowFailure as failure:
                error = failure.error
            except Exception as exc:  # a crash inside an integration fails the task, not the engine
                error = FlowError(
                    errors.TASK_FAILED, f"state '{request.state_name}': {type(exc).__name__}: {exc}"
                )
            outcome[0] = error.code if error else None
        if self._observer is not None:
            kind = (
                "succeeded"
                if error is None
                else "timed_out"
                if error.code == errors.TIMEOUT
                else "failed"
            )
            seconds = self._clock.now() - started
            self._observer.task_finished(execution.flow_name, MODE, request.action, kind, seconds)
        if request.mode is not TaskMode.WAIT_FOR_CUSTOM_CALLBACK:
            try:
                json_size(result)
            except (TypeError, ValueError) as exc:
                result, error = (
                    None,
                    FlowError(
                        errors.TASK_FAILED,
                        f"state '{request.state_name}': the result is not JSON ({exc})",
                    ),
                )
        if execution.running_tasks.get(frame) is asyncio.current_task():
            del execution.running_tasks[frame]
        if self._closing:
            return

        def apply(tick: Tick) -> None:
            if execution.status is ExecutionStatus.RUNNING:
                self._driver_().task_finished(execution, frame, task_id, result, error, tick)

        await self._submit(apply, wait=False)

    # -- timers ------------------------------------------------------------------------

    async def _timer_loop(self) -> None:
        timers = self._timers
        while True:
            now = self._clock.now()
            due: list[tuple[float, int, int, str, str]] = []
            while timers and timers[0][0] <= now:
                due.append(heapq.heappop(timers))
            for instant, _, execution_id, frame, kind in due:
                execution = self._running.get(execution_id)
                if execution is not None:
                    await self._submit(
                        functools.partial(self._fire, execution, frame, kind, instant), wait=False
                    )
            self._timer_wake.clear()
            delay = timers[0][0] - self._clock.now() if timers else None
            await self._clock.sleep(delay, self._timer_wake)

    async def _retention_loop(self) -> None:
        """Purge finished executions past the retention age, in bounded batches.

        The deletes go through the reactor like every other write: the store has one
        writer connection, and two transactions must never interleave on it.
        """
        assert self._retention is not None
        while True:
            ids = await self._store.finished_before(self._clock.now() - self._retention, 500)
            if ids:
                await self._submit(functools.partial(self._purge, ids))
            await asyncio.sleep(0.1 if ids else 60.0)

    def _purge(self, ids: list[int], tick: Tick) -> None:
        tick.batch.purged.extend(ids)

    def _notify_parent(self, notice: ParentNotice) -> None:
        """Report a child flow's end to its parent task, in a later tick (after its commit)."""

        def apply(tick: Tick) -> None:
            tick.batch.parents_notified.append(notice.child_id)
            try:
                claims = self._tokens_().verify(notice.token)
                parent = self._reported_execution(claims.execution_id)
            except ServiceError:
                return  # the parent is gone or finished: nothing waits for this child any more
            if notice.status is ExecutionStatus.SUCCEEDED:
                output, error = notice.output, None
            else:
                output, error = (
                    None,
                    notice.error or FlowError(errors.TASK_FAILED, "the child flow did not succeed"),
                )
            with contextlib.suppress(TaskNotWaiting):
                self._driver_().report(parent, claims, output, error, tick)

        self._inbox.put_nowait(_Input(apply, None))

    def _resume_all(self, executions: list[Execution], tick: Tick) -> None:
        driver = self._driver_()
        for execution in executions:
            if execution.status is ExecutionStatus.RUNNING:
                driver.resume(execution, tick)

    def _fire(
        self, execution: Execution, frame: str, kind: str, instant: float, tick: Tick
    ) -> None:
        self._driver_().timer_fired(execution, frame, kind, instant, tick)

    # -- helpers -----------------------------------------------------------------------

    def _plan(self, definition: str) -> tuple[FlowPlan, str]:
        """The compiled plan of a definition and its digest (the key it is stored under)."""
        digest = hashlib.sha256(definition.encode("utf-8")).hexdigest()
        plan = self._plans.get(digest)
        if plan is None:
            plan = compile_flow(definition, ExecutionMode.STANDARD, self._limits)
            self._plans[digest] = plan
        return plan, digest

    def _new_execution(
        self,
        execution_id: int,
        flow_name: str,
        name: str,
        revision: int,
        plan: FlowPlan,
        execution_input: Any,
        input_text: str,
        started: float,
        deadline: float,
    ) -> Execution:
        run = RunContext(
            execution_name=name,
            flow_name=flow_name,
            execution_input=execution_input,
            start_time=_rfc3339(started),
            entropy=self._entropy,
            limits=self._limits,
        )
        return Execution(
            id=execution_id,
            flow_name=flow_name,
            name=name,
            revision=revision,
            plan=plan,
            run=run,
            input_text=input_text,
            started_at=started,
            deadline=deadline,
            next_event_id=1,
            scopes=scopes_of(plan),
        )

    def _adopt(self, execution: Execution) -> None:
        self._running[execution.id] = execution
        self._by_name[(execution.flow_name, execution.name)] = execution

    def _remember_finished(self, key: tuple[str, str]) -> None:
        """Names finished in this process, briefly: closes the race between a start's check and its apply."""
        now = self._clock.now()
        recent = self._recently_finished
        recent[key] = now
        while recent and next(iter(recent.values())) < now - RECENT_NAMES_SECONDS:
            recent.popitem(last=False)

    def _info(self, execution: Execution) -> ExecutionInfo:
        return ExecutionInfo(
            name=execution.name,
            flow_name=execution.flow_name,
            flow_revision=execution.revision,
            status=execution.status,
            input=execution.input_text,
            output=execution.output_text,
            error_code=execution.error.code if execution.error else None,
            error_message=execution.error.cause if execution.error else None,
            started_at=execution.started_at,
            stopped_at=execution.stopped_at,
        )

    def _check_open(self) -> None:
        if self._closing:
            raise ServiceError("the standard engine is shutting down")
        if self._failure is not None:
            raise ServiceError(
                "the standard engine stopped after a storage failure; restart the server"
            )

    def _driver_(self) -> Driver:
        assert self._driver is not None
        return self._driver

    def _tokens_(self) -> TaskTokens:
        assert self._tokens is not None
        return self._tokens


def _check_same_parent(running: Execution, parent_token: str | None) -> None:
    """A running child flow reports to one parent task: another parent may not adopt it."""
    if parent_token is not None and running.parent_token != parent_token:
        raise ExecutionAlreadyExists(
            f"execution '{running.name}' of flow '{running.flow_name}' is already running for "
            "another task; give the child flow a unique executionName (or none)"
        )


class EngineLocked(RuntimeError):
    """Another process already runs a standard engine on this database file."""


def _lock_database(path: Path) -> IO[bytes]:
    """An exclusive lock beside the database, held while the engine runs (released on exit,
    also by a crash: the operating system drops it with the process)."""
    import fcntl

    handle = open(f"{path}.engine-lock", "wb")  # noqa: SIM115 - held open for the engine's life
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise EngineLocked(
            f"another process runs the standard engine on {path}; one database has one engine "
            "(start further processes with --reuse-port to serve Express flows beside it)"
        ) from None
    return handle


def _info_from_row(row: ExecutionRow) -> ExecutionInfo:
    return ExecutionInfo(
        name=row.name,
        flow_name=row.flow_name,
        flow_revision=row.revision,
        status=ExecutionStatus(row.status),
        input=row.input,
        output=row.output,
        error_code=row.error_code,
        error_message=row.error_message,
        started_at=row.started_at,
        stopped_at=row.stopped_at,
    )


def _page_size(requested: int, maximum: int) -> int:
    if requested < 0:
        raise InvalidArgument(f"page_size must be from 0 to {maximum}")
    return min(requested or 60, maximum)


def _encode_list_token(started_at: float, execution_id: int) -> str:
    return base64.urlsafe_b64encode(f"{started_at!r}:{execution_id}".encode()).decode()


def _decode_list_token(token: str) -> tuple[float, int]:
    try:
        started, execution_id = base64.urlsafe_b64decode(token.encode()).decode().split(":")
        return float(started), int(execution_id)
    except (ValueError, UnicodeDecodeError):
        raise InvalidArgument("page_token is not a token this server returned") from None


def _parse_json(text: str, what: str) -> Any:
    return parse_json(text, what) if text.strip() else None


def _json_list(text: str) -> list[Any]:
    import json

    value = json.loads(text)
    assert isinstance(value, list)
    return value


def _rfc3339(instant: float) -> str:
    return (
        datetime.fromtimestamp(instant, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )
