"""The express engine: runs a compiled plan in memory, start to finish, in one call.

Express executions are synchronous (the caller waits for the result), limited to five
minutes (or the flow's own ``Timeout``), keep no history, and support only RequestComplete
tasks. What each state does comes from ``shared`` (the same code the standard engine
drives); this module only carries out the effects: it awaits tasks, sleeps for Waits and
retries, and runs branches and iterations.

Runs of synchronous states (Pass, Choice, Succeed, Fail) go round the loop without
awaiting anything; a Parallel or Map whose scopes never wait runs inline too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shared import errors
from shared.context import RunContext
from shared.errors import FlowError, FlowFailure, InvalidArgument, Overloaded, PayloadTooLarge
from shared.limits import DEFAULT_LIMITS, Limits
from shared.outcomes import Advance, Failed, RetryAfter, RunBranches, RunIterations, RunTask, WaitUntil
from shared.plan import FlowPlan, ScopePlan, State
from shared.ports import Entropy, SystemEntropy, TaskInvoker, TaskMode, TaskRequest
from shared.results import ExecutionResult, ExecutionStatus
from shared.states.map import MapState
from shared.states.parallel import ParallelState
from shared.states.task import TaskState
from shared.values import json_size

from express_engine.clock import Clock, SystemClock
from express_engine.tracing import ExecutionTracer

__all__ = ["ExpressEngine", "ScopeFailed"]

DEFAULT_MAX_RUNNING = 10_000


class ScopeFailed(Exception):
    """Unwinds a scope that failed with an error no Retry or Catch in it handled."""

    def __init__(self, error: FlowError) -> None:
        super().__init__(error.code)
        self.error = error


@dataclass(slots=True)
class _Execution:
    """One running execution: the context its states see and the engine's own bookkeeping."""

    run: RunContext
    tracer: ExecutionTracer


class ExpressEngine:
    """Runs Express executions in memory."""

    def __init__(
        self,
        invoker: TaskInvoker,
        *,
        clock: Clock | None = None,
        entropy: Entropy | None = None,
        limits: Limits = DEFAULT_LIMITS,
        max_running: int = DEFAULT_MAX_RUNNING,
    ) -> None:
        self._invoker = invoker
        self._clock: Clock = clock or SystemClock()
        self._entropy: Entropy = entropy or SystemEntropy()
        self._limits = limits
        self._max_running = max_running
        self._running = 0

    @property
    def running(self) -> int:
        """Executions in progress now."""
        return self._running

    async def run(
        self, plan: FlowPlan, execution_input: Any, *, flow_name: str = "", execution_name: str = ""
    ) -> ExecutionResult:
        """Run one execution to its end and return how it ended.

        Raises :class:`~shared.errors.Overloaded` when ``max_running`` executions are in
        progress, and :class:`~shared.errors.InvalidArgument` for an input that is not a
        JSON object or is over the payload limit; a failed execution is a result, not an
        exception.
        """
        self._check_input(execution_input)
        if self._running >= self._max_running:
            raise Overloaded(
                f"the express engine is running its limit of {self._max_running} executions; retry later"
            )
        self._running += 1
        try:
            return await self._run(plan, execution_input, flow_name or plan.name, execution_name)
        finally:
            self._running -= 1

    async def _run(self, plan: FlowPlan, execution_input: Any, flow_name: str, execution_name: str) -> ExecutionResult:
        clock = self._clock
        started = clock.now()
        name = execution_name or self._entropy.uuid4()
        run = RunContext(
            execution_name=name,
            flow_name=flow_name,
            execution_input=execution_input,
            start_time=_rfc3339(started),
            entropy=self._entropy,
            limits=self._limits,
        )
        limit = min(plan.timeout_seconds, self._limits.express_max_seconds)
        execution = _Execution(run, ExecutionTracer.start(flow_name, name, "Express"))
        status, output, error = ExecutionStatus.SUCCEEDED, None, None
        try:
            try:
                async with clock.deadline(started + limit):
                    output = await self._run_scope(plan.scope, execution_input, execution)
            except TimeoutError:
                status = ExecutionStatus.TIMED_OUT
                error = FlowError(errors.TIMEOUT, f"the execution did not finish within its limit of {limit:g} seconds")
        except ScopeFailed as failure:
            status, error = ExecutionStatus.FAILED, failure.error
        result = ExecutionResult(name, flow_name, status, output, error, started, clock.now())
        execution.tracer.end(result)
        return result

    def _check_input(self, value: Any) -> None:
        if not isinstance(value, dict):
            raise InvalidArgument("the execution input must be a JSON object")
        size = json_size(value)
        if size > self._limits.max_payload_bytes:
            raise PayloadTooLarge(
                f"the execution input is {size} bytes, over the limit of {self._limits.max_payload_bytes} bytes"
            )

    # -- one scope: the flow, a branch or an iteration -------------------------------

    async def _run_scope(self, scope: ScopePlan, data: Any, execution: _Execution) -> Any:
        """Run a scope to its end and return its output; raises ScopeFailed."""
        run = execution.run
        clock = self._clock
        tracer = execution.tracer
        states = scope.states
        state: State = states[scope.start]
        retries: tuple[int, ...] = ()
        while True:
            retry_count = sum(retries) if retries else 0
            span = tracer.state_started(state) if tracer.enabled else None
            outcome = state.enter(data, run, retry_count, clock.now())
            kind = type(outcome)
            state_input = data
            if kind is not Advance and kind is not Failed:
                state_input = outcome.input  # type: ignore[union-attr]
                outcome = await self._carry_out(state, outcome, execution, retry_count)  # type: ignore[arg-type]
            if type(outcome) is Failed:
                recovery = state.recover(state_input, outcome.error, run, retries)
                if type(recovery) is RetryAfter:
                    tracer.state_ended(span, outcome.error) if span else None
                    retries = recovery.retries
                    await clock.sleep_until(clock.now() + recovery.delay_seconds)
                    continue
                if type(recovery) is Failed:
                    tracer.state_ended(span, recovery.error) if span else None
                    raise ScopeFailed(recovery.error)
                outcome = recovery
            assert type(outcome) is Advance
            if span is not None:
                tracer.state_ended(span, None)
            retries = ()
            if outcome.globals is not None:
                run.globals = outcome.globals
            if outcome.next is None:
                return outcome.output
            data = outcome.output
            state = states[outcome.next]

    async def _carry_out(
        self, state: State, effect: RunTask | WaitUntil | RunBranches | RunIterations, execution: _Execution, retry_count: int
    ) -> Advance | Failed:
        run = execution.run
        match effect:
            case RunTask():
                assert isinstance(state, TaskState)
                return await self._task(state, effect, execution, retry_count)
            case WaitUntil():
                await self._clock.sleep_until(effect.instant)
                return state.finish(effect.input, effect.input, run, retry_count)
            case RunBranches():
                assert isinstance(state, ParallelState)
                outputs = await self._all(
                    [lambda b=branch: self._run_scope(b, effect.input, execution) for branch in state.branches],
                    concurrency=len(state.branches),
                    inline=all(branch.synchronous for branch in state.branches),
                )
                if isinstance(outputs, FlowError):
                    return Failed(outputs)
                return state.finish_branches(effect.input, outputs, run, retry_count)
            case RunIterations():
                assert isinstance(state, MapState)
                processor = state.processor
                outputs = await self._all(
                    [lambda item=item: self._run_scope(processor, item, execution) for item in effect.items],
                    concurrency=effect.max_concurrency,
                    inline=processor.synchronous,
                )
                if isinstance(outputs, FlowError):
                    return Failed(outputs)
                return state.finish_items(effect.input, outputs, run, retry_count)

    async def _task(self, state: TaskState, effect: RunTask, execution: _Execution, retry_count: int) -> Advance | Failed:
        if effect.mode is not TaskMode.REQUEST_COMPLETE:  # compile_flow rejects it for Express flows
            return Failed(FlowError(errors.TASK_FAILED, f"state '{state.name}': Express flows support only RequestComplete"))
        run = execution.run
        request = TaskRequest(
            action=effect.action,
            parameters=effect.parameters,
            mode=effect.mode,
            timeout_seconds=effect.timeout_seconds,
            execution_name=run.execution_name,
            state_name=state.name,
            attempt=retry_count,
            headers=execution.tracer.propagation_headers(),
        )
        try:
            if effect.timeout_seconds:
                async with self._clock.deadline(self._clock.now() + effect.timeout_seconds):
                    result = await self._invoker.invoke(request)
            else:
                result = await self._invoker.invoke(request)
        except FlowFailure as failure:
            return Failed(failure.error)
        except TimeoutError:
            return Failed(
                FlowError(errors.TIMEOUT, f"state '{state.name}': the task did not finish within {effect.timeout_seconds:g} seconds")
            )
        except Exception as exc:  # a bug or crash inside an integration: fail the task, not the engine
            return Failed(FlowError(errors.TASK_FAILED, f"state '{state.name}': {type(exc).__name__}: {exc}"))
        return state.finish(effect.input, result, run, retry_count)

    async def _all(
        self, jobs: Sequence[Callable[[], Awaitable[Any]]], *, concurrency: int, inline: bool
    ) -> list[Any] | FlowError:
        """Run jobs (branches or iterations), at most ``concurrency`` at once.

        Returns their outputs in job order, or the error of the first that failed, in
        which case the others are cancelled. Jobs that never wait run one after another
        without creating tasks: the result is the same and much cheaper.
        """
        if inline or len(jobs) <= 1:
            outputs = []
            for job in jobs:
                try:
                    outputs.append(await job())
                except ScopeFailed as failure:
                    return failure.error
            return outputs
        results: list[Any] = [None] * len(jobs)
        positions = iter(range(len(jobs)))

        async def worker() -> None:
            for position in positions:
                results[position] = await jobs[position]()

        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(min(concurrency, len(jobs))):
                    group.create_task(worker())
        except BaseExceptionGroup as group_error:
            failure = _first_failure(group_error)
            if failure is None:
                raise
            return failure.error
        return results


def _first_failure(group: BaseExceptionGroup[BaseException]) -> ScopeFailed | None:
    """The flow failure inside a task group's error, if that is what it holds."""
    matched, rest = group.split(ScopeFailed)
    if rest is not None or matched is None:
        return None
    first = matched.exceptions[0]
    while isinstance(first, BaseExceptionGroup):
        first = first.exceptions[0]
    return first if isinstance(first, ScopeFailed) else None


def _rfc3339(instant: float) -> str:
    return datetime.fromtimestamp(instant, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
