"""A real console over real SQLite files: flow store, standard engine, express host, metrics.

``open_stack`` builds it on the running event loop (API tests); ``ThreadedStack`` runs the same
on a thread of its own, so that a synchronous browser driver can use it from the test thread.
Run as a script to try the console by hand: ``python -m tests.console.stack [port]``.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from express_engine import ExpressEngine, PlanCache
from gateway.console import ConsoleBackend, ConsoleSite, start_console
from gateway.express import ExpressHost
from gateway.flows import FlowStore
from gateway.integrations import FunctionError, FunctionInvoker, FunctionRegistry, IntegrationRouter
from gateway.metrics import MetricsSetup, configure_metrics, observe_running_executions
from shared.plan import ExecutionMode
from standard_engine import StandardEngine

T = TypeVar("T")

DECLINED_CAUSE = "card ending 4242 was declined by the issuer"

SHOP = """\
Type: StateMachine
SpecVersion: v1
Name: shop
StartAt: Validate
States:
  - Type: Pass
    Name: Validate
    Next: Route
  - Type: Choice
    Name: Route
    Branches:
      - Condition: $Input.express == true
        Next: Prepare
    Default: Prepare
  - Type: Parallel
    Name: Prepare
    Branches:
      - StartAt: Reserve
        States:
          - Type: Task
            Name: Reserve
            Action: FC:InvokeFunction
            Parameters:
              functionName: echo
              body.$: $Input
            End: true
      - StartAt: Quote
        States:
          - Type: Pass
            Name: Quote
            End: true
    Next: Charge
  - Type: Task
    Name: Charge
    Action: FC:InvokeFunction
    Parameters:
      functionName: charge
      body:
        card.$: $Input.Branch0.Body.card
    Retry:
      - Errors: [Payment.Declined]
        MaxAttempts: 1
        IntervalSeconds: 0
    Next: Ship
  - Type: Pass
    Name: Ship
    End: true
"""

COUNTER = """\
Type: StateMachine
SpecVersion: v1
Name: counter
StartAt: Count
States:
  - Type: Pass
    Name: Count
    OutputConstructor:
      n.$: $Input.n + 1
      limit.$: $Input.limit
    Next: Check
  - Type: Choice
    Name: Check
    Branches:
      - Condition: $Input.n < $Input.limit
        Next: Count
    Default: Done
  - Type: Succeed
    Name: Done
"""
"""Loops ``limit`` times: 4 history events a round, so 2,600 rounds make 10,000+ events."""

BATCH = """\
Type: StateMachine
SpecVersion: v1
Name: batch
StartAt: Inspect
States:
  - Type: Map
    Name: Inspect
    ItemsPath: $Input.items
    MaxConcurrency: 4
    Processor:
      StartAt: Check item
      States:
        - Type: Task
          Name: Check item
          Action: FC:InvokeFunction
          Parameters:
            functionName: inspect
            body.$: $Input
          End: true
    Catch:
      - Errors: [Item.Invalid]
        Next: Report
    Next: Done
  - Type: Pass
    Name: Report
    End: true
  - Type: Succeed
    Name: Done
"""
"""A Map whose item 7 fails: some iterations succeed, one fails, the rest are cancelled."""


@dataclass
class Stack:
    """Everything a console test needs, all real."""

    site: ConsoleSite
    flows: FlowStore
    engine: StandardEngine
    functions: FunctionRegistry
    metrics: MetricsSetup | None

    @property
    def url(self) -> str:
        return self.site.url

    async def create_flow(
        self, name: str, definition: str, mode: ExecutionMode = ExecutionMode.STANDARD
    ) -> None:
        await self.flows.create(name, definition, "", mode)

    async def run(self, flow: str, name: str, value: Any, wait: float = 30) -> Any:
        """Start an execution of ``flow`` and wait for its end."""
        current = await self.flows.get(flow)
        await self.engine.start_execution(
            flow, current.revision, current.definition, name, json.dumps(value)
        )
        return await self.engine.describe_execution(flow, name, wait_seconds=wait)


def register_functions(functions: FunctionRegistry) -> None:
    """The functions the test flows call."""

    def echo(event: Any) -> Any:
        return event

    def charge(event: Any) -> Any:
        raise FunctionError("Payment.Declined", DECLINED_CAUSE)

    async def inspect(item: Any) -> Any:
        await asyncio.sleep(0.01)
        if item == 7:
            raise FunctionError("Item.Invalid", f"item {item} has no price")
        return {"item": item, "ok": True}

    functions.register("echo", echo)
    functions.register("charge", charge)
    functions.register("inspect", inspect)


@asynccontextmanager
async def open_stack(
    directory: Path, *, token: str | None = None, metrics: bool = True, port: int = 0
) -> AsyncIterator[Stack]:
    """Open a stack on files in ``directory``; everything is closed on exit."""
    functions = FunctionRegistry()
    register_functions(functions)
    router = IntegrationRouter(functions=FunctionInvoker(functions))
    flows = await FlowStore.open(directory / "flows.db")
    engine = await StandardEngine.open(directory / "standard.db", router)
    express = ExpressHost(ExpressEngine(router), PlanCache())
    setup = configure_metrics("none") if metrics else None
    if setup is not None:
        observe_running_executions("Standard", lambda: engine.running_count)
        observe_running_executions("Express", lambda: express.running)
    backend = ConsoleBackend(flows, express, engine)
    site = await start_console(
        "127.0.0.1", port, backend, token, metrics=setup.prometheus if setup else None
    )
    try:
        yield Stack(site, flows, engine, functions, setup)
    finally:
        await site.stop()
        await engine.close()
        await flows.close()
        await router.aclose()
        if setup is not None:
            setup.shutdown()


class ThreadedStack:
    """:func:`open_stack` on its own thread and event loop; :meth:`call` runs coroutines there."""

    def __init__(self, directory: Path, *, token: str | None = None) -> None:
        self._directory = directory
        self._token = token
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="console-stack", daemon=True
        )
        self._closing: asyncio.Event | None = None
        self._done: asyncio.Future[None] | None = None
        self.stack: Stack | None = None

    def __enter__(self) -> Stack:
        self._thread.start()
        self.stack = self.call(self._open(), timeout=30)
        return self.stack

    async def _open(self) -> Stack:
        opened: asyncio.Future[Stack] = self._loop.create_future()
        self._closing = asyncio.Event()

        async def hold() -> None:
            async with open_stack(self._directory, token=self._token) as stack:
                opened.set_result(stack)
                assert self._closing is not None
                await self._closing.wait()

        self._done = asyncio.ensure_future(hold())
        return await opened

    def call(self, coroutine: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def __exit__(self, *exc_info: object) -> None:
        async def close() -> None:
            assert self._closing is not None and self._done is not None
            self._closing.set()
            await self._done

        self.call(close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


async def _serve_by_hand(port: int) -> None:  # pragma: no cover - a developer's tool
    import tempfile

    directory = Path(tempfile.mkdtemp(prefix="cloudflow-console-"))
    async with open_stack(directory, port=port) as stack:
        await stack.create_flow("shop", SHOP)
        await stack.create_flow("counter", COUNTER)
        await stack.create_flow("batch", BATCH)
        await stack.run("shop", "order-1", {"express": True, "card": "4242"})
        await stack.run("counter", "long", {"n": 0, "limit": 2600})
        await stack.run("batch", "b1", {"items": list(range(20))})
        print(f"console on {stack.url} (data in {directory}); Ctrl-C to stop", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":  # pragma: no cover
    asyncio.run(_serve_by_hand(int(sys.argv[1]) if len(sys.argv) > 1 else 8099))
