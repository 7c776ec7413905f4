"""Time for the express engine: the system clock, and a virtual clock for tests.

The engine never calls ``time`` or ``asyncio.sleep`` directly; it asks its clock, so a
test can run a five-minute limit or a long Wait in milliseconds.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Protocol

__all__ = ["Clock", "Deadline", "SystemClock", "VirtualClock"]


class Deadline(Protocol):
    """An async context manager that cancels its body at an instant, raising TimeoutError."""

    async def __aenter__(self) -> object: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool | None: ...

    def expired(self) -> bool:
        """True once the deadline has fired (so a TimeoutError came from it)."""
        ...


class Clock(Protocol):
    def now(self) -> float:
        """Unix seconds, UTC."""
        ...

    async def sleep_until(self, instant: float) -> None: ...

    def deadline(self, instant: float) -> Deadline:
        """A context manager that cancels its body at ``instant`` (raising TimeoutError)."""
        ...


class SystemClock:
    """Real time."""

    def now(self) -> float:
        return time.time()

    async def sleep_until(self, instant: float) -> None:
        delay = instant - time.time()
        await asyncio.sleep(delay if delay > 0 else 0)

    def deadline(self, instant: float) -> asyncio.Timeout:
        loop = asyncio.get_running_loop()
        return asyncio.timeout_at(loop.time() + (instant - time.time()))


class _VirtualDeadline:
    """A deadline in virtual time: an asyncio timeout that the clock fires when time passes it."""

    def __init__(self, clock: VirtualClock, instant: float) -> None:
        self._clock = clock
        self._instant = instant
        self._timeout = asyncio.timeout(None)
        self._key: int | None = None

    async def __aenter__(self) -> _VirtualDeadline:
        await self._timeout.__aenter__()
        if self._instant <= self._clock.now():
            self._timeout.reschedule(asyncio.get_running_loop().time())
        else:
            self._key = self._clock._add_deadline(self._instant, self._timeout)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._key is not None:
            self._clock._deadlines.pop(self._key, None)
        await self._timeout.__aexit__(exc_type, exc, traceback)

    def expired(self) -> bool:
        return self._timeout.expired()


class VirtualClock:
    """Time that jumps forward whenever every task is waiting on the clock.

    A background driver lets the event loop run for a while and, when nothing else is
    happening, moves time to the next sleeper or deadline. Use it with tasks that do no
    real I/O (in-process functions, Pass/Wait flows): the driver cannot see real I/O and
    would move time while it is in flight.
    """

    IDLE_SPINS = 50

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._deadlines: dict[int, tuple[float, asyncio.Timeout]] = {}
        self._ids = itertools.count()
        self._driver: asyncio.Task[None] | None = None

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward by hand, at once (waking sleepers and firing deadlines passed)."""
        self._move_to(self._now + seconds)

    async def sleep_until(self, instant: float) -> None:
        if instant <= self._now:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (instant, next(self._ids), future))
        self._ensure_driver()
        # A sleeper cancelled here (its execution timed out, its branch was stopped) leaves
        # its entry behind; the driver skips done futures so they never move time.
        await future

    def deadline(self, instant: float) -> _VirtualDeadline:
        return _VirtualDeadline(self, instant)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[VirtualClock]:
        """Keep the driver alive for the block's duration (and stop it after)."""
        self._ensure_driver()
        try:
            yield self
        finally:
            if self._driver is not None:
                self._driver.cancel()
                self._driver = None

    def _add_deadline(self, instant: float, timeout: asyncio.Timeout) -> int:
        key = next(self._ids)
        self._deadlines[key] = (instant, timeout)
        self._ensure_driver()
        return key

    def _ensure_driver(self) -> None:
        if self._driver is None or self._driver.done():
            self._driver = asyncio.get_running_loop().create_task(self._drive())

    def _next_instant(self) -> float | None:
        """The earliest pending sleeper or deadline, dropping sleepers nobody awaits any more."""
        sleepers = self._sleepers
        while sleepers and sleepers[0][2].done():
            heapq.heappop(sleepers)
        instants = [due for due, _ in self._deadlines.values()]
        if sleepers:
            instants.append(sleepers[0][0])
        return min(instants) if instants else None

    async def _drive(self) -> None:
        while self._next_instant() is not None:
            for _ in range(self.IDLE_SPINS):
                await asyncio.sleep(0)
            instant = self._next_instant()
            if instant is not None:
                self._move_to(max(self._now, instant))

    def _move_to(self, instant: float) -> None:
        self._now = instant
        loop_time = asyncio.get_running_loop().time()
        for key, (due, timeout) in list(self._deadlines.items()):
            if due <= instant:
                del self._deadlines[key]
                timeout.reschedule(loop_time)
        while self._sleepers and self._sleepers[0][0] <= instant:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)
