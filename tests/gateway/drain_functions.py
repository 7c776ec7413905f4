"""Functions for the server subprocess of test_serve_process.py (loaded with --functions).

``hold`` answers only once the test lets it: it touches the file ``event["started"]``, then
waits until the file ``event["release"]`` exists. Files, because the test and the server are
different processes.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

__all__ = ["hold"]


async def hold(event: dict[str, Any]) -> dict[str, Any]:
    Path(event["started"]).touch()
    release = Path(event["release"])
    while not release.exists():
        await asyncio.sleep(0.01)
    return {"released": True}
