"""The Python worker SDK: serve functions for ``FC:InvokeFunction`` from your own process.

    worker = Worker("localhost:8080", max_concurrency=16)

    @worker.function("charge")
    async def charge(event):
        if event["amount"] > 1000:
            raise FunctionError("CardDeclined", "over the limit")
        return {"chargeId": "c-1"}

    await worker.run()            # until stop(); reconnects when the server goes away

Handlers may be ``async def`` or plain functions (plain ones run in a thread, so they may
block). A handler fails its task with a *named* error by raising
:class:`~gateway.integrations.FunctionError`; any other exception is ``FC.Unknown``.
``stop()`` drains: the server sends no new invocations, the running ones finish, then the
worker disconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import json
import logging
import os
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import grpc

from gateway.api import worker_pb2, worker_pb2_grpc
from gateway.integrations.functions import FunctionError, FunctionRegistry

__all__ = ["FunctionError", "Worker"]


@functools.lru_cache(maxsize=1024)
def _is_async(fn: Callable[..., Any]) -> bool:
    """Whether a handler is ``async def`` (decided once per handler, not per call)."""
    return inspect.iscoroutinefunction(fn)


log = logging.getLogger(__name__)

_F = TypeVar("_F", bound=Callable[..., Any])


class Worker:
    """A worker process's connection to a CloudFlow server."""

    def __init__(
        self,
        target: str,
        *,
        token: str | None = None,
        worker_id: str | None = None,
        max_concurrency: int = 16,
        registry: FunctionRegistry | None = None,
        reconnect_delay: float = 1.0,
        tls: bool = False,
        root_certificates: bytes | None = None,
    ) -> None:
        """``tls`` (or ``root_certificates``, PEM) connects over TLS, as a server started with
        ``--tls-cert`` needs; a bearer ``token`` should only travel over TLS off loopback."""
        self._target = target
        self._credentials = (
            grpc.ssl_channel_credentials(root_certificates)
            if tls or root_certificates is not None
            else None
        )
        self._token = token
        self._worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}"
        self._max = max(1, max_concurrency)
        self._registry = registry or FunctionRegistry()
        self._reconnect_delay = reconnect_delay
        self._running: dict[str, asyncio.Task[None]] = {}
        self._outbox: asyncio.Queue[worker_pb2.WorkerMessage | None] = asyncio.Queue()
        self._stopping = asyncio.Event()
        self._connected = asyncio.Event()
        self.completed = 0
        """Invocations this worker answered (successes and failures)."""

    @property
    def registry(self) -> FunctionRegistry:
        return self._registry

    def function(self, name: str | None = None) -> Callable[[_F], _F]:
        """Decorator: serve ``fn`` under ``name`` (default: its own name)."""

        def register(fn: _F) -> _F:
            self._registry.register(name or fn.__name__, fn)
            return fn

        return register

    async def wait_connected(self) -> None:
        await self._connected.wait()

    async def run(self) -> None:
        """Serve until :meth:`stop`; reconnect after a lost connection."""
        if not len(self._registry):
            raise ValueError("register at least one function before running the worker")
        metadata = (("authorization", f"Bearer {self._token}"),) if self._token else None
        while not self._stopping.is_set():
            try:
                channel_factory = (
                    grpc.aio.secure_channel(self._target, self._credentials)
                    if self._credentials is not None
                    else grpc.aio.insecure_channel(self._target)
                )
                async with channel_factory as channel:
                    stub = worker_pb2_grpc.TaskWorkerStub(channel)  # type: ignore[no-untyped-call]
                    await self._session(stub, metadata)
            except grpc.aio.AioRpcError as exc:
                if exc.code() in (
                    grpc.StatusCode.UNAUTHENTICATED,
                    grpc.StatusCode.INVALID_ARGUMENT,
                ):
                    raise
                log.warning("worker connection lost (%s); reconnecting", exc.code().name)
            self._connected.clear()
            if not self._stopping.is_set():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._reconnect_delay):
                        await self._stopping.wait()

    async def stop(self, grace: float = 30.0) -> None:
        """Drain: ask for no new invocations, let running ones finish (up to ``grace``), disconnect."""
        self._stopping.set()
        self._outbox.put_nowait(worker_pb2.WorkerMessage(drain=worker_pb2.WorkerDrain()))
        if self._running:
            _, pending = await asyncio.wait(list(self._running.values()), timeout=grace)
            for task in pending:
                task.cancel()
        self._outbox.put_nowait(None)

    async def _session(self, stub: worker_pb2_grpc.TaskWorkerStub, metadata: Any) -> None:
        self._outbox = asyncio.Queue()
        hello = worker_pb2.WorkerHello(
            worker_id=self._worker_id,
            function_names=self._registry.names(),
            max_concurrency=self._max,
            sdk="cloudflow-python",
        )
        self._outbox.put_nowait(worker_pb2.WorkerMessage(hello=hello))
        call = stub.Connect(self._outgoing(), metadata=metadata)
        heartbeats: asyncio.Task[None] | None = None
        try:
            async for message in call:
                kind = message.WhichOneof("kind")
                if kind == "welcome":
                    interval = (
                        message.welcome.heartbeat_interval.ToTimedelta().total_seconds() or 10.0
                    )
                    heartbeats = asyncio.create_task(self._heartbeat(interval / 2))
                    self._connected.set()
                elif kind == "invocation":
                    invocation = message.invocation
                    self._running[invocation.invocation_id] = asyncio.create_task(
                        self._serve(invocation)
                    )
                elif kind == "cancel":
                    task = self._running.pop(message.cancel.invocation_id, None)
                    if task is not None:
                        task.cancel()
        finally:
            if heartbeats is not None:
                heartbeats.cancel()
            for task in self._running.values():
                task.cancel()  # the server re-delivers them to another worker
            self._running.clear()

    async def _outgoing(self) -> AsyncIterator[worker_pb2.WorkerMessage]:
        outbox = self._outbox
        while True:
            message = await outbox.get()
            if message is None:
                return
            yield message

    async def _heartbeat(self, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            if self._running:
                beat = worker_pb2.WorkerHeartbeat(invocation_ids=list(self._running))
                self._outbox.put_nowait(worker_pb2.WorkerMessage(heartbeat=beat))

    async def _serve(self, invocation: worker_pb2.Invocation) -> None:
        outbox = self._outbox
        try:
            reply = await self._call(invocation)
        except asyncio.CancelledError:
            return
        finally:
            self._running.pop(invocation.invocation_id, None)
        self.completed += 1
        outbox.put_nowait(reply)

    async def _call(self, invocation: worker_pb2.Invocation) -> worker_pb2.WorkerMessage:
        fn = self._registry.get(invocation.function_name)
        invocation_id = invocation.invocation_id
        if fn is None:
            failed = worker_pb2.InvocationFailed(
                invocation_id=invocation_id,
                error="FC.FunctionNotFound",
                cause=f"this worker does not serve {invocation.function_name!r}",
            )
            return worker_pb2.WorkerMessage(failed=failed)
        try:
            event = json.loads(invocation.event) if invocation.event else {}
            if _is_async(fn):
                result = await fn(event)
            else:
                result = await asyncio.to_thread(fn, event)
                if inspect.isawaitable(result):
                    result = await result
            output = json.dumps(result, ensure_ascii=False, allow_nan=False)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            code = getattr(exc, "error_code", None)
            if isinstance(code, str) and code:
                detail = getattr(exc, "detail", None)
                cause = detail if isinstance(detail, str) else str(exc)
            else:
                code, cause = (
                    "FC.Unknown",
                    f"function {invocation.function_name!r} raised {type(exc).__name__}: {exc}",
                )
            return worker_pb2.WorkerMessage(
                failed=worker_pb2.InvocationFailed(
                    invocation_id=invocation_id, error=code, cause=cause
                )
            )
        return worker_pb2.WorkerMessage(
            succeeded=worker_pb2.InvocationSucceeded(invocation_id=invocation_id, output=output)
        )
