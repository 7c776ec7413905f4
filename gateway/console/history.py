"""Reading long histories in pieces: filtered pages of events, and progress kept up to date.

A Standard execution may have 25,000 history events. The page never holds them: it asks for
one page at a time, optionally filtered (only failures, only one state...), and the server
scans the engine's pages to fill it. The page token a filtered page returns says where the
scan stopped, inside an engine page if need be (``engine token``, ``events to skip``, ``engine
page size``), so no event is shown twice or skipped, whatever the engine's tokens look like.

The per-state colours come from :class:`~gateway.console.progress.ExecutionProgress`, kept per
execution in :class:`ProgressCache`: the first look reads the whole history once, later looks
at a running execution read only the events after the last one seen.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Final

from cachetools import LRUCache

from gateway.console.progress import ExecutionProgress
from shared.errors import InvalidArgument
from shared.results import HistoryEvent

__all__ = [
    "ENGINE_PAGE",
    "EVENT_FILTERS",
    "EventFilter",
    "Fetch",
    "ProgressCache",
    "event_filter",
    "page_events",
]

ENGINE_PAGE: Final = 999
"""Events asked of the engine per call when scanning (its largest page)."""
MAX_TRACKED: Final = 64
"""Executions whose progress is kept in memory (least recently used ones are dropped)."""

Fetch = Callable[[int, str], Awaitable[tuple[list[HistoryEvent], str]]]
"""One page of the engine's history: ``(page_size, page_token) -> (events, next_token)``."""
EventFilter = Callable[[HistoryEvent], bool]

_FAILURE_TYPES: Final = frozenset(
    {
        "StepFailed",
        "TaskFailed",
        "TaskTimedOut",
        "ExecutionFailed",
        "ExecutionTimedOut",
        "ExecutionStopped",
    }
)
_CATEGORIES: Final[Mapping[str, Callable[[HistoryEvent], bool]]] = {
    "all": lambda e: True,
    "failures": lambda e: (
        e.type in _FAILURE_TYPES
        or (e.type in ("BranchExited", "IterationExited") and '"error"' in e.detail)
    ),
    "steps": lambda e: e.type.startswith("Step"),
    "tasks": lambda e: e.type.startswith("Task"),
    "children": lambda e: e.type.startswith(("Branch", "Iteration")),
    "execution": lambda e: e.type.startswith("Execution"),
}
EVENT_FILTERS: Final = tuple(_CATEGORIES)
"""The names :func:`event_filter` accepts as a category."""


def event_filter(category: str, state: str) -> EventFilter | None:
    """The filter for a category and (when not empty) one state's name; None for no filter."""
    if category not in _CATEGORIES:
        raise InvalidArgument(f"type must be one of {', '.join(EVENT_FILTERS)}, not {category!r}")
    if category == "all" and not state:
        return None
    in_category = _CATEGORIES[category]
    if not state:
        return in_category
    return lambda e: e.step_name == state and in_category(e)


async def page_events(
    fetch: Fetch, page_size: int, token: str, matches: EventFilter | None
) -> tuple[list[HistoryEvent], str]:
    """One page of at most ``page_size`` events that ``matches``, and the next page's token."""
    engine_token, skip, engine_size = _decode(token, page_size if matches is None else ENGINE_PAGE)
    found: list[HistoryEvent] = []
    while True:
        batch, next_token = await fetch(engine_size, engine_token)
        for position in range(skip, len(batch)):
            event = batch[position]
            if matches is not None and not matches(event):
                continue
            found.append(event)
            if len(found) == page_size:
                if position + 1 < len(batch):
                    return found, _encode(engine_token, position + 1, engine_size)
                return found, _encode(next_token, 0, engine_size) if next_token else ""
        if not next_token:
            return found, ""
        engine_token, skip = next_token, 0


def _encode(engine_token: str, skip: int, engine_size: int) -> str:
    text = json.dumps([engine_token, skip, engine_size], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode(token: str, default_size: int) -> tuple[str, int, int]:
    if not token:
        return "", 0, default_size
    try:
        engine_token, skip, size = json.loads(
            base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        )
        valid = isinstance(engine_token, str) and isinstance(skip, int) and skip >= 0
        if valid and isinstance(size, int) and 1 <= size <= ENGINE_PAGE:
            return engine_token, skip, size
    except (binascii.Error, ValueError, TypeError):
        pass
    raise InvalidArgument(
        "page_token is not a token of this history; pass the nextPageToken of the previous "
        "page unchanged, or none for the first page"
    )


@dataclass(slots=True)
class _Tracked:
    progress: ExecutionProgress
    identity: float
    """The execution's start time: tells a re-created execution of the same name apart."""
    resume_token: str = ""
    """The engine token of the page that holds the last event applied."""
    complete: bool = False
    """True once the history was read to its end after the execution finished."""
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class ProgressCache:
    """The progress of recently viewed executions, brought up to date on each look."""

    def __init__(self, size: int = MAX_TRACKED) -> None:
        self._tracked: LRUCache[tuple[str, str], _Tracked] = LRUCache(maxsize=size)

    async def progress(
        self,
        key: tuple[str, str],
        identity: float,
        finished: bool,
        parents: Mapping[str, str | None],
        fetch: Fetch,
    ) -> ExecutionProgress:
        """The execution's progress including every event written so far.

        ``finished`` must come from a look at the execution taken *before* this call, so that
        its last event is already written when the history is read.
        """
        tracked = self._tracked.get(key)
        if tracked is None or tracked.identity != identity:
            tracked = _Tracked(ExecutionProgress(parents), identity)
            self._tracked[key] = tracked
        async with tracked.lock:
            if not tracked.complete:
                await self._catch_up(tracked, fetch)
                tracked.complete = finished
        return tracked.progress

    @staticmethod
    async def _catch_up(tracked: _Tracked, fetch: Fetch) -> None:
        while True:
            events, next_token = await fetch(ENGINE_PAGE, tracked.resume_token)
            tracked.progress.apply_all(events)
            if not next_token:
                return
            tracked.resume_token = next_token
