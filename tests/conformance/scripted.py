"""Functions scripted by a conformance case, served through the real in-process integration."""

from __future__ import annotations

import asyncio
import copy
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from gateway.integrations import FunctionError, FunctionRegistry


class ScriptedFunctions:
    """Each function plays its list of steps: call n takes step n, the last step repeats."""

    def __init__(
        self,
        scripts: dict[str, list[dict[str, Any]]],
        on_callback: Callable[[dict[str, Any], Any], None] | None = None,
    ) -> None:
        self.scripts = scripts
        self.on_callback = on_callback
        self.calls: Counter[str] = Counter()
        self.events: dict[str, list[Any]] = {}

    def registry(self) -> FunctionRegistry:
        registry = FunctionRegistry()
        for name in self.scripts:
            registry.register(name, self._function(name))
        return registry

    def _function(self, name: str) -> Callable[[Any], Awaitable[Any]]:
        async def play(event: Any) -> Any:
            steps = self.scripts[name]
            step = steps[min(self.calls[name], len(steps) - 1)]
            self.calls[name] += 1
            self.events.setdefault(name, []).append(event)
            if step.get("delay"):
                await asyncio.sleep(float(step["delay"]))
            if "error" in step:
                raise FunctionError(step["error"]["code"], step["error"].get("detail", ""))
            if step.get("echo"):
                return event
            if "callback" in step:
                if self.on_callback is None:
                    raise AssertionError(
                        f"{name}: a callback step needs a reporter (Standard mode only)"
                    )
                self.on_callback(step, event)
                return {"accepted": True}
            return copy.deepcopy(step.get("return"))

        return play
