"""Fixtures for the standard engine: a real SQLite file per test and in-process functions."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from gateway.integrations import FunctionInvoker, FunctionRegistry, IntegrationRouter
from standard_engine import ManualClock, StandardEngine


class Harness:
    """Opens (and re-opens, as after a crash) a standard engine on one database file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.registry = FunctionRegistry()
        self.clock = ManualClock()
        self.engine: StandardEngine | None = None

    def function(self, name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            self.registry.register(name, fn)
            return fn

        return register

    async def open(self, **options: Any) -> StandardEngine:
        router = IntegrationRouter(functions=FunctionInvoker(self.registry))
        self.engine = await StandardEngine.open(self.path, router, clock=self.clock, **options)
        return self.engine

    async def close(self) -> None:
        if self.engine is not None:
            await self.engine.close()
            self.engine = None

    async def start(
        self,
        definition: str,
        name: str,
        value: Any = None,
        *,
        flow: str = "flow",
        revision: int = 1,
    ) -> Any:
        assert self.engine is not None
        return await self.engine.start_execution(
            flow, revision, definition, name, json.dumps(value or {})
        )

    async def wait(self, name: str, *, flow: str = "flow", seconds: float = 10) -> Any:
        assert self.engine is not None
        return await self.engine.describe_execution(flow, name, wait_seconds=seconds)


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    h = Harness(tmp_path / "engine.db")
    yield h
    await h.close()
