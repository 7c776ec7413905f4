"""The express engine: runs a compiled plan in memory, start to finish, in one call.

Express executions are synchronous (the caller waits for the result), limited to five
minutes (or the flow's own ``Timeout``), keep no history, and support only RequestComplete
tasks. What each state does comes from ``shared`` (the same code the standard engine
drives); this module only carries out the effects: it awaits tasks, sleeps for Waits and
retries, and runs branches and iterations.

Two runners drive a scope (the flow, a Parallel branch, a Map iteration):

* the *inline* runner, a plain function, for scopes that can never await (no Task, no
  Wait, no retry after a delay, in them or in the scopes they contain): runs of Pass,
  Choice, Succeed and Fail states, and whole synchronous Parallel and Map states, go
  round a tight loop with no coroutine and no timer at all;
* the *coroutine* runner for everything else: it awaits tasks, waits, back-off delays,
  and runs branches and iterations that wait as concurrent tasks.

An execution hands the event loop to others every ``STEPS_PER_TURN`` transitions, and
checks its deadline then: a Choice loop that never ends times out like any other
execution instead of freezing the process. An inline run cannot hand the loop over, so
when it reaches that count its work is dropped and, after a pause, redone (inline with a
fresh count, or else by the coroutine runner). Redoing is exact because such scopes have
no effect besides ``$Global``, which is restored first.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from opentelemetry.trace import Span

from express_engine.clock import Clock, SystemClock
from express_engine.identity import new_execution_name, rfc3339
from express_engine.payload import payload_size
from express_engine.plans import never_waits
from express_engine.tracing import ExecutionTracer
from shared import errors
from shared.context import RunContext
from shared.errors import FlowError, FlowFailure, InvalidArgument, Overloaded, PayloadTooLarge
from shared.limits import DEFAULT_LIMITS, Limits
from shared.outcomes import (
    Advance,
    Failed,
    RetryAfter,
    RunBranches,
    RunIterations,
    RunTask,
    WaitUntil,
)
from shared.plan import FlowPlan, ScopePlan, State
from shared.ports import (
    Entropy,
    ExecutionObserver,
    SystemEntropy,
    TaskInvoker,
    TaskMode,
    TaskRequest,
)
from shared.results import ExecutionResult, ExecutionStatus
from shared.states.map import MapState
from shared.states.parallel import ParallelState
from shared.states.task import TaskState
from shared.states.wait import WaitState

__all__ = ["DEFAULT_MAX_RUNNING", "STEPS_PER_TURN", "ExpressEngine", "ScopeFailed"]

DEFAULT_MAX_RUNNING: Final = 10_000
"""Executions in progress at once; past it :meth:`ExpressEngine.run` raises Overloaded."""
STEPS_PER_TURN: Final = 5_000
"""Transitions an execution makes before it lets other tasks run and checks its deadline:
a few milliseconds of work, which bounds how long one execution holds the event loop."""

_SUCCEEDED: Final = ExecutionStatus.SUCCEEDED
_NOT_INLINE: Final = object()


def _require_fields(cls: type, names: tuple[str, ...]) -> None:
    """Fail at import if ``cls`` no longer starts with the fields the engine passes by
    position: a reordering in ``shared`` must not silently swap values."""
    actual = tuple(field.name for field in dataclasses.fields(cls))[: len(names)]
    if actual != names:
        raise ImportError(
            f"express_engine passes {cls.__name__}{names} by position; it has {actual}"
        )


_require_fields(
    RunContext,
    ("execution_name", "flow_name", "execution_input", "start_time", "entropy", "limits"),
)
_require_fields(
    ExecutionResult,
    ("name", "flow_name", "status", "output", "error", "started_at", "stopped_at"),
)


class ScopeFailed(Exception):
    """Unwinds a scope that failed with an error no Retry or Catch in it handled."""

    def __init__(self, error: FlowError) -> None:
        super().__init__(error.code)
        self.error = error


class _DeadlinePassed(Exception):
    """The execution's time ran out; seen at the end of a turn."""


class _TurnUsedUp(Exception):
    """An inline run used up its execution's turn; unwinds it to be redone."""


@dataclass(slots=True)
class _Execution:
    """One running execution: the context its states see and the engine's own bookkeeping."""

    run: RunContext
    tracer: ExecutionTracer
    traced: bool
    """Spans are recorded; then every scope runs as a coroutine (a redone inline run
    would record its states twice)."""
    deadline: float
    """Unix seconds at which the execution times out."""
    steps_left: int = STEPS_PER_TURN
    """Transitions left in the execution's current turn."""


class ExpressEngine:
    """Runs Express executions in memory.

    ``max_running`` bounds the executions in progress at once: past it new ones are
    refused with :class:`~shared.errors.Overloaded` rather than queued, so a burst cannot
    exhaust memory and the caller learns at once that it should retry.
    """

    def __init__(
        self,
        invoker: TaskInvoker,
        *,
        clock: Clock | None = None,
        entropy: Entropy | None = None,
        limits: Limits = DEFAULT_LIMITS,
        max_running: int = DEFAULT_MAX_RUNNING,
        observer: ExecutionObserver | None = None,
    ) -> None:
        if max_running < 1:
            raise ValueError(f"max_running must be at least 1, not {max_running}")
        self._invoker = invoker
        self._clock: Clock = clock or SystemClock()
        self._entropy: Entropy = entropy or SystemEntropy()
        # Without an injected entropy, generated names come from a cheap unique sequence.
        self._new_name = entropy.uuid4 if entropy is not None else new_execution_name
        self._limits = limits
        self._max_running = max_running
        self._running = 0
        self._never_waits: dict[int, tuple[ScopePlan, bool]] = {}
        self._observer = observer

    @property
    def running(self) -> int:
        """Executions in progress now."""
        return self._running

    @property
    def max_running(self) -> int:
        """Executions that may be in progress at once."""
        return self._max_running

    async def run(
        self, plan: FlowPlan, execution_input: Any, *, flow_name: str = "", execution_name: str = ""
    ) -> ExecutionResult:
        """Run one execution to its end and return how it ended.

        Raises :class:`~shared.errors.Overloaded` when ``max_running`` executions are in
        progress, :class:`~shared.errors.InvalidArgument` for an input that is not a JSON
        object and :class:`~shared.errors.PayloadTooLarge` for one over the payload
        limit; a failed or timed-out execution is a result, not an exception.
        """
        self._check_input(execution_input)
        if self._running >= self._max_running:
            raise Overloaded(
                f"the express engine is overloaded: {self._running} executions are in progress, "
                f"its limit (max_running={self._max_running}); retry later"
            )
        self._running += 1
        try:
            return await self._execute(
                plan, execution_input, flow_name or plan.name, execution_name or self._new_name()
            )
        finally:
            self._running -= 1

    def _check_input(self, value: Any) -> None:
        if not isinstance(value, dict):
            raise InvalidArgument("the execution input must be a JSON object")
        try:
            size = payload_size(value)
        except (TypeError, ValueError, RecursionError) as exc:
            raise InvalidArgument(f"the execution input is not valid JSON: {exc}") from None
        if size > self._limits.max_payload_bytes:
            raise PayloadTooLarge(
                f"the execution input is {size} bytes, over the limit of "
                f"{self._limits.max_payload_bytes} bytes"
            )

    async def _execute(
        self, plan: FlowPlan, execution_input: Any, flow_name: str, name: str
    ) -> ExecutionResult:
        started = self._clock.now()
        if self._observer is not None:
            self._observer.execution_started(flow_name, "Express")
        # Positional arguments: about 10% of a short execution's cost cheaper than keywords
        # (the field order is checked at import, see _require_fields).
        run = RunContext(
            name, flow_name, execution_input, rfc3339(started), self._entropy, self._limits
        )
        limit = min(plan.timeout_seconds, self._limits.express_max_seconds)
        tracer = ExecutionTracer.start(flow_name, name, "Express")
        execution = _Execution(run, tracer, tracer.enabled, started + limit)
        scope = plan.scope
        try:
            if self._scope_never_waits(scope):
                # Nothing in the flow can await, so no timer could interrupt it and none is
                # armed: the deadline is checked at the end of each turn instead.
                output = self._run_inline_first(scope, execution_input, execution)
                if output is _NOT_INLINE:
                    output = await self._run_scope(scope, execution_input, execution)
            else:
                async with self._clock.deadline(execution.deadline):
                    output = await self._run_scope(scope, execution_input, execution)
            status, error = _SUCCEEDED, None
        except ScopeFailed as failure:
            status, output, error = ExecutionStatus.FAILED, None, failure.error
        except (TimeoutError, _DeadlinePassed):
            status, output = ExecutionStatus.TIMED_OUT, None
            error = FlowError(
                errors.TIMEOUT,
                f"the execution did not finish within its limit of {limit:g} seconds",
            )
        result = ExecutionResult(name, flow_name, status, output, error, started, self._clock.now())
        tracer.end(result)
        if self._observer is not None:
            self._observer.execution_finished(
                flow_name, "Express", status.value, result.stopped_at - started
            )
        return result

    def _run_inline_first(self, scope: ScopePlan, data: Any, execution: _Execution) -> Any:
        """The flow's output from an inline run, or ``_NOT_INLINE`` when the coroutine
        runner must run it (tracing is on, or the run used up its turn)."""
        if execution.traced:
            return _NOT_INLINE
        run = execution.run
        initial_globals = run.globals
        try:
            return self._run_inline(scope, data, execution)
        except _TurnUsedUp:
            run.globals = initial_globals
            return _NOT_INLINE

    # -- the inline runner -------------------------------------------------------------

    def _run_inline(self, scope: ScopePlan, data: Any, execution: _Execution) -> Any:
        """Run a scope that never awaits to its end; return its output.

        Raises ScopeFailed, or _TurnUsedUp when the execution's turn is over.
        """
        run = execution.run
        states = scope.states
        state: State = states[scope.start]
        retries: tuple[int, ...] = ()
        retry_count = 0
        steps = execution.steps_left
        while True:
            steps -= 1
            if steps < 0:
                execution.steps_left = 0
                raise _TurnUsedUp
            outcome = state.enter(data, run, retry_count)
            if not isinstance(outcome, Advance):
                execution.steps_left = steps
                settled = self._settle_inline(state, outcome, data, retries, retry_count, execution)
                steps = execution.steps_left
                if isinstance(settled, RetryAfter):
                    retries = settled.retries
                    retry_count = sum(retries)
                    continue
                outcome = settled
                retries = ()
                retry_count = 0
            if outcome.globals is not None:
                run.globals = outcome.globals
            if outcome.next is None:
                execution.steps_left = steps
                return outcome.output
            data = outcome.output
            state = states[outcome.next]

    def _settle_inline(
        self,
        state: State,
        outcome: Failed | RunTask | WaitUntil | RunBranches | RunIterations,
        data: Any,
        retries: tuple[int, ...],
        retry_count: int,
        execution: _Execution,
    ) -> Advance | RetryAfter:
        """Carry out a nested Parallel or Map inline and apply Retry/Catch to a failure.

        Retries here never wait: scopes with a back-off delay do not run inline.
        """
        state_input = data
        settled: Advance | Failed
        if isinstance(outcome, Failed):
            settled = outcome
        else:
            state_input = outcome.input
            settled = self._nested_inline(state, outcome, execution, retry_count)
        if isinstance(settled, Advance):
            return settled
        recovery = state.recover(state_input, settled.error, execution.run, retries)
        if isinstance(recovery, Failed):
            raise ScopeFailed(recovery.error)
        return recovery

    def _nested_inline(
        self,
        state: State,
        effect: RunTask | WaitUntil | RunBranches | RunIterations,
        execution: _Execution,
        retry_count: int,
    ) -> Advance | Failed:
        run = execution.run
        if isinstance(effect, RunBranches):
            assert isinstance(state, ParallelState)
            branch_outputs = []
            for branch in state.branches:
                try:
                    branch_outputs.append(self._run_inline(branch, effect.input, execution))
                except ScopeFailed as failure:
                    return Failed(failure.error)
            return state.finish_branches(effect.input, branch_outputs, run, retry_count)
        if isinstance(effect, RunIterations):
            assert isinstance(state, MapState)
            processor = state.processor
            item_outputs = []
            for item in effect.items:
                try:
                    item_outputs.append(self._run_inline(processor, item, execution))
                except ScopeFailed as failure:
                    return Failed(failure.error)
            return state.finish_items(effect.input, item_outputs, run, retry_count)
        raise AssertionError(f"state '{state.name}' awaits {effect!r}; it cannot run inline")

    # -- the coroutine runner ----------------------------------------------------------

    async def _run_scope(self, scope: ScopePlan, data: Any, execution: _Execution) -> Any:
        """Run a scope to its end and return its output; raises ScopeFailed."""
        run = execution.run
        clock = self._clock
        tracer = execution.tracer
        traced = execution.traced
        states = scope.states
        state: State = states[scope.start]
        retries: tuple[int, ...] = ()
        retry_count = 0
        while True:
            execution.steps_left -= 1
            if execution.steps_left < 0:
                await self._pause(execution)
            span = tracer.state_started(state, retry_count) if traced else None
            outcome = state.enter(data, run, retry_count, clock.now())
            if not isinstance(outcome, Advance):
                state_input = data
                if not isinstance(outcome, Failed):
                    state_input = outcome.input
                    outcome = await self._carry_out(state, outcome, execution, retry_count, span)
                if isinstance(outcome, Failed):
                    recovery = state.recover(state_input, outcome.error, run, retries)
                    if span is not None:
                        tracer.state_ended(span, outcome.error)
                        span = None
                    if isinstance(recovery, Failed):
                        raise ScopeFailed(recovery.error)
                    if isinstance(recovery, RetryAfter):
                        retries = recovery.retries
                        retry_count = sum(retries)
                        await clock.sleep_until(clock.now() + recovery.delay_seconds)
                        continue
                    outcome = recovery
                retries = ()
                retry_count = 0
            if span is not None:
                tracer.state_ended(span, None)
            if outcome.globals is not None:
                run.globals = outcome.globals
            if outcome.next is None:
                return outcome.output
            data = outcome.output
            state = states[outcome.next]

    async def _pause(self, execution: _Execution) -> None:
        """End the execution's turn: let other tasks run, then end the execution if its
        time is up (flows that never await run without a timer: this is what ends them)."""
        await asyncio.sleep(0)
        if self._clock.now() >= execution.deadline:
            raise _DeadlinePassed
        execution.steps_left = STEPS_PER_TURN

    async def _carry_out(
        self,
        state: State,
        effect: RunTask | WaitUntil | RunBranches | RunIterations,
        execution: _Execution,
        retry_count: int,
        span: Span | None,
    ) -> Advance | Failed:
        run = execution.run
        if isinstance(effect, RunTask):
            assert isinstance(state, TaskState)
            return await self._task(state, effect, execution, retry_count, span)
        if isinstance(effect, WaitUntil):
            assert isinstance(state, WaitState)
            await self._clock.sleep_until(effect.instant)
            return state.finish(effect.input, effect.input, run, retry_count)
        if isinstance(effect, RunBranches):
            assert isinstance(state, ParallelState)
            branches = state.branches
            inline = all(self._scope_never_waits(branch) for branch in branches)
            outputs = await self._all(
                branches, [effect.input] * len(branches), len(branches), inline, execution
            )
            if isinstance(outputs, FlowError):
                return Failed(outputs)
            return state.finish_branches(effect.input, outputs, run, retry_count)
        assert isinstance(state, MapState)
        items = effect.items
        processor = state.processor
        outputs = await self._all(
            [processor] * len(items),
            items,
            effect.max_concurrency,
            self._scope_never_waits(processor),
            execution,
        )
        if isinstance(outputs, FlowError):
            return Failed(outputs)
        return state.finish_items(effect.input, outputs, run, retry_count)

    async def _task(
        self,
        state: TaskState,
        effect: RunTask,
        execution: _Execution,
        retry_count: int,
        span: Span | None,
    ) -> Advance | Failed:
        name = state.name
        if effect.mode is not TaskMode.REQUEST_COMPLETE:
            # compile_flow already rejects these for Express flows; a Standard plan handed
            # to this engine by mistake fails here rather than hanging.
            return Failed(
                FlowError(
                    errors.TASK_FAILED,
                    f"state '{name}': Express flows support only RequestComplete tasks, "
                    f"not {effect.mode.value}",
                )
            )
        run = execution.run
        request = TaskRequest(
            action=effect.action,
            parameters=effect.parameters,
            mode=effect.mode,
            timeout_seconds=effect.timeout_seconds,
            execution_name=run.execution_name,
            state_name=name,
            attempt=retry_count,
            headers=execution.tracer.propagation_headers(span),
        )
        if self._observer is not None:
            call = self._task_call(state, effect, request, retry_count, run)
            return await self._observed(call, effect.action, run.flow_name)
        return await self._task_call(state, effect, request, retry_count, run)

    async def _observed(
        self, call: Awaitable[Advance | Failed], action: str, flow_name: str
    ) -> Advance | Failed:
        """A task call, measured for the observer."""
        assert self._observer is not None
        started = self._clock.now()
        outcome = await call
        kind = (
            "succeeded"
            if isinstance(outcome, Advance)
            else "timed_out"
            if outcome.error.code == errors.TIMEOUT
            else "failed"
        )
        self._observer.task_finished(
            flow_name, "Express", action, kind, self._clock.now() - started
        )
        return outcome

    async def _task_call(
        self,
        state: TaskState,
        effect: RunTask,
        request: TaskRequest,
        retry_count: int,
        run: RunContext,
    ) -> Advance | Failed:
        name = state.name
        timeout = effect.timeout_seconds
        deadline = None
        try:
            if timeout:
                deadline = self._clock.deadline(self._clock.now() + timeout)
                async with deadline:
                    result = await self._invoker.invoke(request)
            else:
                result = await self._invoker.invoke(request)
        except FlowFailure as failure:
            return Failed(failure.error)
        except TimeoutError as exc:
            if deadline is not None and deadline.expired():
                return Failed(
                    FlowError(
                        errors.TIMEOUT,
                        f"state '{name}': the task did not finish within {timeout:g} seconds",
                    )
                )
            return Failed(FlowError(errors.TASK_FAILED, f"state '{name}': {_describe(exc)}"))
        except Exception as exc:
            # A bug or crash inside an integration fails the task, not the engine.
            # (CancelledError is a BaseException: it passes, so timeouts still work.)
            return Failed(FlowError(errors.TASK_FAILED, f"state '{name}': {_describe(exc)}"))
        return state.finish(effect.input, result, run, retry_count)

    async def _all(
        self,
        scopes: Sequence[ScopePlan],
        inputs: Sequence[Any],
        concurrency: int,
        never_wait: bool,
        execution: _Execution,
    ) -> list[Any] | FlowError:
        """Run ``scopes[i]`` on ``inputs[i]`` for every i, at most ``concurrency`` at once.

        Returns the outputs in order, or the error of the first that failed, in which case
        the others are cancelled (DESIGN.md §3). Scopes that ``never_wait`` run one after
        another inline: the result is the same, without a task each.
        """
        if never_wait and not execution.traced:
            return await self._all_inline(scopes, inputs, execution)
        count = len(inputs)
        if count == 1:
            try:
                return [await self._run_scope(scopes[0], inputs[0], execution)]
            except ScopeFailed as failure:
                return failure.error
        results: list[Any] = [None] * count
        positions = iter(range(count))

        async def worker() -> None:
            # Workers share one iterator, so at most ``concurrency`` scopes run at once.
            for position in positions:
                results[position] = await self._run_scope(
                    scopes[position], inputs[position], execution
                )

        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(min(concurrency, count)):
                    group.create_task(worker())
        except BaseExceptionGroup as group_error:
            return _first_failure(group_error)
        return results

    async def _all_inline(
        self, scopes: Sequence[ScopePlan], inputs: Sequence[Any], execution: _Execution
    ) -> list[Any] | FlowError:
        run = execution.run
        run_inline = self._run_inline
        outputs: list[Any] = []
        append = outputs.append
        for scope, data in zip(scopes, inputs, strict=True):
            saved_globals = run.globals
            try:
                append(run_inline(scope, data, execution))
                continue
            except ScopeFailed as failure:
                return failure.error
            except _TurnUsedUp:
                run.globals = saved_globals
            try:
                append(await self._redo(scope, data, execution))
            except ScopeFailed as failure:
                return failure.error
        return outputs

    async def _redo(self, scope: ScopePlan, data: Any, execution: _Execution) -> Any:
        """Run a scope whose inline run used up the turn: after a pause, inline again with a
        whole turn (the scopes before it may have used most of the last one), else as a
        coroutine, which pauses as often as it needs."""
        await self._pause(execution)
        run = execution.run
        saved_globals = run.globals
        try:
            return self._run_inline(scope, data, execution)
        except _TurnUsedUp:
            run.globals = saved_globals
        return await self._run_scope(scope, data, execution)

    # -- plans -------------------------------------------------------------------------

    def _scope_never_waits(self, scope: ScopePlan) -> bool:
        """True when running ``scope`` can never await (cached per scope object)."""
        cached = self._never_waits.get(id(scope))
        if cached is not None and cached[0] is scope:
            return cached[1]
        verdict = never_waits(scope)
        if len(self._never_waits) >= 4096:
            self._never_waits.clear()
        # The entry keeps the scope alive, so its id cannot be reused while cached.
        self._never_waits[id(scope)] = (scope, verdict)
        return verdict


def _first_failure(group: BaseExceptionGroup[BaseException]) -> FlowError:
    """The flow error inside a task group's error; anything else is raised again."""
    matched, rest = group.split(ScopeFailed)
    if rest is not None:
        passed, others = rest.split(_DeadlinePassed)
        if others is None and passed is not None:
            raise _DeadlinePassed from group
        raise rest
    assert matched is not None
    first: BaseException = matched.exceptions[0]
    while isinstance(first, BaseExceptionGroup):
        first = first.exceptions[0]
    assert isinstance(first, ScopeFailed)
    return first.error


def _describe(exc: BaseException) -> str:
    message = str(exc)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__
