"""The clocks the express engine runs on: virtual time for tests, and real time."""

from __future__ import annotations

import asyncio
import time

import pytest

from express_engine import SystemClock, VirtualClock

START = 1_700_000_000.0


async def spin(turns: int = VirtualClock.IDLE_SPINS * 3) -> None:
    for _ in range(turns):
        await asyncio.sleep(0)


async def test_sleepers_wake_in_order_at_their_instants() -> None:
    clock = VirtualClock(START)
    woke: list[tuple[str, float]] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep_until(START + seconds)
        woke.append((name, clock.now() - START))

    await asyncio.gather(sleeper("late", 30), sleeper("early", 10), sleeper("now", 0))

    assert woke == [("now", 0), ("early", 10), ("late", 30)]


async def test_a_cancelled_sleeper_does_not_move_time() -> None:
    clock = VirtualClock(START)
    abandoned = asyncio.create_task(clock.sleep_until(START + 400))
    await asyncio.sleep(0)
    abandoned.cancel()

    await clock.sleep_until(START + 10)
    await spin()

    assert clock.now() == START + 10


async def test_a_deadline_fires_in_virtual_time_and_is_then_forgotten() -> None:
    clock = VirtualClock(START)
    deadline = clock.deadline(START + 5)
    with pytest.raises(TimeoutError):
        async with deadline:
            await asyncio.Event().wait()
    assert deadline.expired()
    assert clock.now() == START + 5

    finished = clock.deadline(START + 100)
    async with finished:
        await clock.sleep_until(START + 6)
    await spin()
    assert not finished.expired()
    assert clock.now() == START + 6  # the deadline left unreached did not move time


async def test_a_deadline_already_past_fires_at_once() -> None:
    clock = VirtualClock(START)
    with pytest.raises(TimeoutError):
        async with clock.deadline(START - 1):
            await asyncio.Event().wait()
    assert clock.now() == START


async def test_advance_moves_time_by_hand_and_wakes_sleepers() -> None:
    clock = VirtualClock(START)
    sleeping = asyncio.create_task(clock.sleep_until(START + 60))
    await asyncio.sleep(0)
    clock.advance(60)
    await asyncio.wait_for(sleeping, timeout=5)
    assert clock.now() == START + 60


async def test_the_system_clock_deadline_and_sleep() -> None:
    clock = SystemClock()
    assert abs(clock.now() - time.time()) < 60
    deadline = clock.deadline(clock.now() - 1)
    with pytest.raises(TimeoutError):
        async with deadline:
            await asyncio.Event().wait()
    assert deadline.expired()
    await clock.sleep_until(clock.now() - 1)  # in the past: returns at once
