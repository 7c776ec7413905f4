"""Functions served in-process by the server of the crash test (``--functions``).

Each call is appended to the file named by $CRASH_CALLS so the test can count calls that
were repeated after a crash. ``flaky`` is throttled on its first call in each process.
"""

from __future__ import annotations

import asyncio
import os

from gateway.integrations import FunctionError

__all__ = ["double", "flaky"]

_failed_once: set[str] = set()


def _record(name: str, key: object) -> None:
    fd = os.open(os.environ["CRASH_CALLS"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{name} {key}\n".encode())
    finally:
        os.close(fd)


async def double(event: dict[str, object]) -> dict[str, object]:
    _record("double", event["key"])
    await asyncio.sleep(0.2)
    return {"v": 2 * int(event["v"])}  # type: ignore[call-overload]


async def flaky(event: dict[str, object]) -> dict[str, object]:
    key = str(event["key"])
    _record("flaky", key)
    if key not in _failed_once:
        _failed_once.add(key)
        raise FunctionError("FC.ResourceThrottled", "slow down")
    return {"v": 2 * int(event["v"])}  # type: ignore[call-overload]
