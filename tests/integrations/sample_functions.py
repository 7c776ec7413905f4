"""A module of functions for ``FunctionRegistry.load_module`` tests."""

from __future__ import annotations

import asyncio
from json import dumps  # Imported, not defined here: must not be registered.
from typing import Any


def greet(event: Any) -> dict[str, str]:
    return {"greeting": f"hello, {event['name']}"}


async def double_later(event: Any) -> int:
    await asyncio.sleep(0)
    return int(event) * 2


def _private(event: Any) -> None:
    """Private: must not be registered."""


class NotAFunction:
    """A class: must not be registered."""


CONSTANT = dumps([1])
