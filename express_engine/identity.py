"""How executions are named and when they started, as text: both cheap to make.

Generating a UUID and formatting a datetime each cost about as much as running a short
flow, so the engine does neither per execution.
"""

from __future__ import annotations

import itertools
import math
import os
import random
from datetime import UTC, datetime
from typing import Final

__all__ = ["new_execution_name", "rfc3339"]

_UUID_CLEAR: Final = ~((0xF000 << 64) | (0xC000 << 48))
_UUID_SET: Final = (0x4000 << 64) | (0x8000 << 48)
_COUNTER_MASK: Final = (1 << 48) - 1


class _ExecutionNames:
    """Generated execution names: UUID-shaped (version 4), unique, and cheap.

    A random prefix of 80 bits (drawn again in a forked child) and a 48-bit counter: one
    string format per name instead of 16 random bytes and a UUID object, several
    times cheaper. Names need to be unique, not unguessable: they are no credential.
    """

    __slots__ = ("_counter", "_prefix")

    def __init__(self) -> None:
        self._prefix = ""
        self._counter = itertools.count()
        self._draw()
        os.register_at_fork(after_in_child=self._draw)

    def _draw(self) -> None:
        digits = f"{random.getrandbits(128) & _UUID_CLEAR | _UUID_SET:032x}"
        self._prefix = f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-"
        self._counter = itertools.count(random.getrandbits(48))

    def __call__(self) -> str:
        return f"{self._prefix}{next(self._counter) & _COUNTER_MASK:012x}"


new_execution_name: Final = _ExecutionNames()
"""A new execution name, e.g. ``1b4e28ba-2fa1-41d2-883f-0016d3cca427``."""


class _Rfc3339:
    """RFC 3339 UTC text with milliseconds, e.g. ``2023-11-14T22:13:20.000Z``.

    Formatting a datetime costs more than running a short flow; executions started in
    the same millisecond share the text, and those in the same second its date and time.
    """

    __slots__ = ("_millis", "_prefix", "_second", "_text")

    def __init__(self) -> None:
        self._millis = self._second = -1
        self._prefix = self._text = ""

    def __call__(self, instant: float) -> str:
        total_millis = math.floor(instant * 1000)
        if total_millis == self._millis:
            return self._text
        second, millis = divmod(total_millis, 1000)
        if second != self._second:
            self._prefix = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
            self._second = second
        self._text = text = f"{self._prefix}.{millis:03d}Z"
        self._millis = total_millis
        return text


rfc3339: Final = _Rfc3339()
"""An instant (Unix seconds) as RFC 3339 UTC text with milliseconds."""
