"""Workers: processes that serve functions for ``FC:InvokeFunction`` over the TaskWorker stream.

A worker connects, says which functions it serves and how many invocations it runs at
once, receives invocations on the stream, sends heartbeats while it works and reports
each result. The :class:`WorkerHub` keeps the connected workers and the invocations
waiting for one:

* an invocation is *leased* to one worker at a time; when that worker disconnects or
  stays silent past its lease, the invocation goes to another (at-least-once);
* Express tasks need a worker now (``FC.FunctionNotFound`` when none serves the
  function); Standard tasks wait for one. They are durable already: the standard engine
  keeps every task it has not heard back from and dispatches it again after a restart;
* a worker's heartbeat for an invocation with a task token is passed on as a task
  heartbeat (HeartbeatSeconds).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf.duration_pb2 import Duration

from gateway.api import worker_pb2, worker_pb2_grpc
from gateway.integrations.functions import function_name
from shared.errors import FC_FUNCTION_NOT_FOUND, FC_UNKNOWN, FlowFailure, ServiceError
from shared.ports import TaskRequest

__all__ = ["TaskWorkerServicer", "WorkerHub", "WorkerInvoker"]

log = logging.getLogger(__name__)

HeartbeatSink = Callable[[str], Awaitable[Any]]


@dataclass(eq=False)
class _Invocation:
    id: str
    function: str
    request: TaskRequest
    event_json: str
    result: asyncio.Future[Any]
    session: _Session | None = None
    lease_until: float = 0.0
    deliveries: int = 0


@dataclass(eq=False)
class _Session:
    id: str
    worker_id: str
    functions: frozenset[str]
    capacity: int
    outbox: asyncio.Queue[worker_pb2.ServerMessage | None] = field(default_factory=asyncio.Queue)
    running: dict[str, _Invocation] = field(default_factory=dict)
    draining: bool = False

    @property
    def free(self) -> int:
        return 0 if self.draining else self.capacity - len(self.running)


class WorkerHub:
    """Connected workers and the invocations waiting for them."""

    def __init__(
        self, *, heartbeat_interval: float = 10.0, heartbeat_sink: HeartbeatSink | None = None
    ) -> None:
        self.heartbeat_interval = heartbeat_interval
        self.lease_seconds = 3 * heartbeat_interval
        self._heartbeat_sink = heartbeat_sink
        self._sessions: dict[str, _Session] = {}
        self._waiting: dict[str, deque[_Invocation]] = {}
        self._invocations: dict[str, _Invocation] = {}
        self._cursor = itertools.count()
        # Invocation ids need to be unique, not secret: a per-hub prefix and a counter.
        self._id_prefix = uuid.uuid4().hex[:12]
        self._ids = itertools.count(1)
        self._changed = asyncio.Event()
        self.deliveries = 0
        """Invocations sent to workers, counting re-deliveries (tests and metrics read it)."""

    def set_heartbeat_sink(self, sink: HeartbeatSink | None) -> None:
        self._heartbeat_sink = sink

    def serves(self, function: str) -> bool:
        return any(function in s.functions and not s.draining for s in self._sessions.values())

    @property
    def worker_count(self) -> int:
        return len(self._sessions)

    @property
    def queue_depth(self) -> int:
        return sum(len(q) for q in self._waiting.values())

    async def wait_for_workers(self, count: int = 1, function: str | None = None) -> None:
        """Until ``count`` workers (serving ``function``, if given) are connected."""
        while (
            sum(1 for s in self._sessions.values() if function is None or function in s.functions)
            < count
        ):
            self._changed.clear()
            await self._changed.wait()

    # -- invoking ----------------------------------------------------------------------

    async def invoke(self, request: TaskRequest, *, wait_for_worker: bool) -> Any:
        """Run the function of an ``FC:InvokeFunction`` request on a worker; ``{"Body": …}``."""
        name = function_name(request)
        if not wait_for_worker and not self.serves(name):
            raise FlowFailure.of(
                FC_FUNCTION_NOT_FOUND, f"no connected worker serves function {name!r}"
            )
        event = request.parameters.get("body", {})
        invocation = _Invocation(
            id=f"{self._id_prefix}-{next(self._ids)}",
            function=name,
            request=request,
            event_json=json.dumps(event, ensure_ascii=False, separators=(",", ":")),
            result=asyncio.get_running_loop().create_future(),
        )
        self._invocations[invocation.id] = invocation
        self._waiting.setdefault(name, deque()).append(invocation)
        self._assign(name)
        try:
            return await asyncio.shield(invocation.result)
        finally:
            self._forget(invocation, cancel=not invocation.result.done())

    def _assign(self, function: str) -> None:
        queue = self._waiting.get(function)
        while queue:
            session = self._pick(function)
            if session is None:
                return
            invocation = queue.popleft()
            if invocation.result.done():
                continue
            self._deliver(invocation, session)

    def _pick(self, function: str) -> _Session | None:
        candidates = [s for s in self._sessions.values() if function in s.functions and s.free > 0]
        if not candidates:
            return None
        return candidates[next(self._cursor) % len(candidates)]

    def _deliver(self, invocation: _Invocation, session: _Session) -> None:
        request = invocation.request
        invocation.session = session
        invocation.lease_until = time.monotonic() + self.lease_seconds
        invocation.deliveries += 1
        self.deliveries += 1
        session.running[invocation.id] = invocation
        message = worker_pb2.Invocation(
            invocation_id=invocation.id,
            function_name=invocation.function,
            event=invocation.event_json,
            task_token=request.task_token or "",
            attempt=request.attempt,
            execution_name=request.execution_name,
            state_name=request.state_name,
            metadata=dict(request.headers),
        )
        if request.timeout_seconds:
            message.deadline.FromSeconds(int(time.time() + request.timeout_seconds))
        session.outbox.put_nowait(worker_pb2.ServerMessage(invocation=message))

    def _forget(self, invocation: _Invocation, *, cancel: bool) -> None:
        self._invocations.pop(invocation.id, None)
        session = invocation.session
        if session is not None and session.running.pop(invocation.id, None) is not None:
            if cancel:
                cancel_message = worker_pb2.CancelInvocation(
                    invocation_id=invocation.id, reason="the task no longer needs it"
                )
                session.outbox.put_nowait(worker_pb2.ServerMessage(cancel=cancel_message))
            self._assign_any(session)
        if session is None:  # still waiting for a worker: take it off its queue
            queue = self._waiting.get(invocation.function)
            if queue is not None and invocation in queue:
                queue.remove(invocation)

    def _assign_any(self, session: _Session) -> None:
        for function in session.functions:
            self._assign(function)

    def _requeue(self, invocation: _Invocation) -> None:
        """Give an invocation whose worker vanished to another (at-least-once)."""
        invocation.session = None
        if not invocation.result.done():
            self._waiting.setdefault(invocation.function, deque()).appendleft(invocation)
            self._assign(invocation.function)

    # -- the stream of one worker --------------------------------------------------------

    def disconnect_all(self) -> None:
        """End every worker's stream (at shutdown): running invocations are handed back and
        the workers reconnect, to this server once it is back or to another."""
        for session in list(self._sessions.values()):
            session.outbox.put_nowait(None)

    async def open_session(self, hello: worker_pb2.WorkerHello) -> _Session:
        functions = frozenset(n for n in hello.function_names if n)
        if not functions:
            raise ServiceError("a worker must serve at least one function")
        session = _Session(
            id=str(uuid.uuid4()),
            worker_id=hello.worker_id or "worker",
            functions=functions,
            capacity=max(1, hello.max_concurrency or 1),
        )
        self._sessions[session.id] = session
        self._changed.set()
        log.info("worker %s connected serving %s", session.worker_id, ", ".join(sorted(functions)))
        self._assign_any(session)
        return session

    def close_session(self, session: _Session) -> None:
        self._sessions.pop(session.id, None)
        self._changed.set()
        for invocation in list(session.running.values()):
            session.running.pop(invocation.id, None)
            self._requeue(invocation)
        log.info("worker %s disconnected", session.worker_id)

    async def on_message(self, session: _Session, message: worker_pb2.WorkerMessage) -> None:
        kind = message.WhichOneof("kind")
        if kind == "succeeded":
            invocation = self._owned(session, message.succeeded.invocation_id)
            if invocation is not None:
                try:
                    output = (
                        json.loads(message.succeeded.output) if message.succeeded.output else None
                    )
                except json.JSONDecodeError as exc:
                    invocation.result.set_exception(
                        FlowFailure.of(
                            FC_UNKNOWN,
                            f"function {invocation.function!r} returned text that is not JSON: {exc.msg}",
                        )
                    )
                else:
                    invocation.result.set_result({"Body": output})
        elif kind == "failed":
            invocation = self._owned(session, message.failed.invocation_id)
            if invocation is not None:
                code = message.failed.error or FC_UNKNOWN
                invocation.result.set_exception(FlowFailure.of(code, message.failed.cause))
        elif kind == "heartbeat":
            await self._heartbeat(session, list(message.heartbeat.invocation_ids))
        elif kind == "drain":
            session.draining = True
            self._changed.set()

    def _owned(self, session: _Session, invocation_id: str) -> _Invocation | None:
        """The invocation if this session still holds its lease (a late answer is ignored)."""
        invocation = session.running.get(invocation_id)
        if invocation is None or invocation.result.done():
            return None
        return invocation

    async def _heartbeat(self, session: _Session, invocation_ids: list[str]) -> None:
        lease_until = time.monotonic() + self.lease_seconds
        tokens = []
        for invocation_id in invocation_ids:
            invocation = session.running.get(invocation_id)
            if invocation is None:
                continue
            invocation.lease_until = lease_until
            if invocation.request.task_token:
                tokens.append(invocation.request.task_token)
        sink = self._heartbeat_sink
        if tokens and sink is not None:
            # Together, not one after another: this worker's results wait behind them.
            await asyncio.gather(*(self._beat(sink, token) for token in tokens))

    @staticmethod
    async def _beat(sink: HeartbeatSink, token: str) -> None:
        with contextlib.suppress(ServiceError):
            await sink(token)

    async def expire_leases(self) -> None:
        """Forever: re-deliver invocations whose worker stopped heartbeating."""
        while True:
            await asyncio.sleep(self.heartbeat_interval)
            now = time.monotonic()
            for session in list(self._sessions.values()):
                for invocation in list(session.running.values()):
                    if invocation.lease_until < now:
                        log.warning(
                            "worker %s missed its lease on %s; re-delivering",
                            session.worker_id,
                            invocation.id,
                        )
                        session.running.pop(invocation.id, None)
                        cancel = worker_pb2.CancelInvocation(
                            invocation_id=invocation.id, reason="lease expired"
                        )
                        session.outbox.put_nowait(worker_pb2.ServerMessage(cancel=cancel))
                        self._requeue(invocation)


class WorkerInvoker:
    """The hub as a TaskInvoker for one engine: Standard waits for a worker, Express does not."""

    def __init__(self, hub: WorkerHub, *, wait_for_worker: bool) -> None:
        self._hub = hub
        self._wait = wait_for_worker

    async def invoke(self, request: TaskRequest) -> Any:
        return await self._hub.invoke(request, wait_for_worker=self._wait)


class TaskWorkerServicer(worker_pb2_grpc.TaskWorkerServicer):
    """The gRPC edge of the hub: one bidirectional stream per connected worker."""

    def __init__(self, hub: WorkerHub) -> None:
        self._hub = hub

    async def Connect(
        self,
        request_iterator: AsyncIterator[worker_pb2.WorkerMessage],
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> AsyncIterator[worker_pb2.ServerMessage]:
        first = await anext(aiter(request_iterator), None)
        if first is None or first.WhichOneof("kind") != "hello":
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "a worker must send hello first")
            return
        try:
            session = await self._hub.open_session(first.hello)
        except ServiceError as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, exc.message)
            return
        interval = Duration()
        interval.FromNanoseconds(int(self._hub.heartbeat_interval * 1e9))
        yield worker_pb2.ServerMessage(
            welcome=worker_pb2.Welcome(session_id=session.id, heartbeat_interval=interval)
        )
        reader = asyncio.create_task(self._read(session, request_iterator))
        try:
            # _read puts None in the outbox when the worker closes its side of the stream.
            while (message := await session.outbox.get()) is not None:
                yield message
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
            self._hub.close_session(session)

    async def _read(
        self, session: _Session, messages: AsyncIterator[worker_pb2.WorkerMessage]
    ) -> None:
        try:
            async for message in messages:
                await self._hub.on_message(session, message)
        except grpc.aio.AioRpcError:
            pass
        finally:
            session.outbox.put_nowait(None)
