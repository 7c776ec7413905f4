"""Time for the standard engine: wall-clock instants and a way to sleep that can be interrupted.

Deadlines are stored as absolute UTC instants (Unix seconds), so a restart does not reset
a Wait or a timeout. Tests pass a :class:`ManualClock` and move it forward by hand: a
30-day Wait or a one-year limit then takes milliseconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Protocol

__all__ = ["EngineClock", "ManualClock", "SystemClock"]


class EngineClock(Protocol):
    def now(self) -> float:
        """Unix seconds, UTC."""
        ...

    async def sleep(self, seconds: float | None, wake: asyncio.Event) -> None:
        """Return after ``seconds`` (``None``: never) or as soon as ``wake`` is set."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float | None, wake: asyncio.Event) -> None:
        if seconds is not None and seconds <= 0:
            return
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation
        # that arrives together with the wake-up, which would hang the engine's close().
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await wake.wait()


class ManualClock:
    """A clock that moves only when a test calls :meth:`advance` (or :meth:`set`)."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start
        self._moved = asyncio.Event()

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self.set(self._now + seconds)

    def set(self, instant: float) -> None:
        self._now = max(self._now, instant)
        self._moved.set()

    async def sleep(self, seconds: float | None, wake: asyncio.Event) -> None:
        if seconds is not None and seconds <= 0:
            return
        self._moved.clear()
        moved = asyncio.ensure_future(self._moved.wait())
        woken = asyncio.ensure_future(wake.wait())
        try:
            await asyncio.wait({moved, woken}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            moved.cancel()
            woken.cancel()
