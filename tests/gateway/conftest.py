"""Fixtures: real CloudFlow servers on 127.0.0.1 (port 0) with a SQLite file in tmp_path."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pytest

from gateway.client import CloudFlowClient, CloudFlowError
from gateway.config import ServerConfig
from gateway.integrations import FunctionInvoker, FunctionRegistry, IntegrationRouter
from gateway.server import CloudFlowServer, ServiceRegistration
from gateway.standard import StandardBackend


@dataclass
class Running:
    """A started server, a client connected to it, and the functions its Tasks can call."""

    server: CloudFlowServer
    client: CloudFlowClient
    functions: FunctionRegistry
    config: ServerConfig

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server.port}"


class StartServer(Protocol):
    def __call__(
        self,
        *,
        standard: StandardBackend | None = None,
        services: Sequence[ServiceRegistration] = (),
        db_name: str = ...,
        **config: Any,
    ) -> Awaitable[Running]: ...


@pytest.fixture
async def start_server(tmp_path: Path) -> AsyncIterator[StartServer]:
    """Start servers on demand; every one is stopped at the end of the test."""
    started: list[Running] = []

    async def start(
        *,
        standard: StandardBackend | None = None,
        services: Sequence[ServiceRegistration] = (),
        db_name: str = "cloudflow.db",
        **config: Any,
    ) -> Running:
        functions = FunctionRegistry()
        settings = ServerConfig(host="127.0.0.1", port=0, db_path=tmp_path / db_name, **config)
        server = await CloudFlowServer.start(
            settings,
            standard=standard,
            services=services,
            invoker=IntegrationRouter(functions=FunctionInvoker(functions)),
        )
        client = CloudFlowClient(f"127.0.0.1:{server.port}", token=settings.token, timeout=20)
        running = Running(server, client, functions, settings)
        started.append(running)
        return running

    yield start
    for running in reversed(started):
        await running.client.close()
        await running.server.stop(None)


@pytest.fixture
async def cloudflow(start_server: StartServer) -> Running:
    """A server with default settings and no standard engine."""
    return await start_server()


async def rpc_error(call: Awaitable[Any]) -> CloudFlowError:
    """The CloudFlowError a call ends with (fails the test if it succeeds)."""
    try:
        result = await call
    except CloudFlowError as error:
        return error
    raise AssertionError(f"the call succeeded with {result!r}; an error was expected")


@dataclass
class Gate:
    """A function for Tasks that blocks until released, and tells when it starts and ends."""

    started: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self, event: Any) -> Any:
        self.started.set()
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        return event


def pass_flow(states: int = 5, name: str = "Passes") -> str:
    """An FDL flow of ``states`` Pass states; the last outputs ``{"step": states - 1, "input": $Input}``."""
    lines = ["Type: StateMachine", "SpecVersion: v1", f"Name: {name}", "StartAt: P0", "States:"]
    for i in range(states - 1):
        lines += ["  - Type: Pass", f"    Name: P{i}", f"    Next: P{i + 1}"]
    last = states - 1
    lines += ["  - Type: Pass", f"    Name: P{last}", "    OutputConstructor:"]
    lines += [f"      step: {last}", "      input.$: $Input", "    End: true"]
    return "\n".join(lines) + "\n"


def task_flow(function: str = "gate") -> str:
    """One Task that calls ``function`` with the execution input as its body."""
    return f"""\
Type: StateMachine
SpecVersion: v1
StartAt: Call
States:
  - Type: Task
    Name: Call
    Action: FC:InvokeFunction
    TaskMode: RequestComplete
    Parameters:
      functionName: {function}
      body.$: $Input
    End: true
"""


FAIL_FLOW = """\
Type: StateMachine
SpecVersion: v1
StartAt: Boom
States:
  - Type: Fail
    Name: Boom
    Code: Order.Invalid
    Detail: the order has no items
"""
