"""Filtered pages over the engine's pages, and progress kept up to date incrementally."""

from __future__ import annotations

import json

import pytest

from gateway.console.history import ProgressCache, event_filter, page_events
from shared.errors import InvalidArgument
from shared.results import HistoryEvent


class FakeHistory:
    """The engine's paging: opaque tokens (here: the next index, obfuscated), counted calls."""

    def __init__(self, count: int) -> None:
        self.events = [
            HistoryEvent(
                i,
                "StepFailed" if i % 10 == 0 else "StepEntered",
                f"S{i % 3}",
                float(i),
                json.dumps({"error": "E"} if i % 10 == 0 else {"input": i}),
            )
            for i in range(1, count + 1)
        ]
        self.calls: list[tuple[int, str]] = []

    async def fetch(self, size: int, token: str) -> tuple[list[HistoryEvent], str]:
        self.calls.append((size, token))
        start = int(token[2:]) if token else 0
        page = self.events[start : start + size]
        more = start + size < len(self.events)
        return page, f"t-{start + size}" if more else ""


async def read_all(
    history: FakeHistory, size: int, category: str = "all", state: str = ""
) -> list[int]:
    ids: list[int] = []
    token = ""
    matches = event_filter(category, state)
    while True:
        page, token = await page_events(history.fetch, size, token, matches)
        assert len(page) <= size
        ids += [e.event_id for e in page]
        if not token:
            return ids


async def test_unfiltered_pages_pass_through_the_engines_pages() -> None:
    history = FakeHistory(250)
    assert await read_all(history, 100) == list(range(1, 251))
    assert [size for size, _ in history.calls] == [100, 100, 100]


@pytest.mark.parametrize("size", [1, 7, 100, 500])
async def test_filtered_pages_see_every_match_once_in_order(size: int) -> None:
    history = FakeHistory(2345)
    failures = [e.event_id for e in history.events if e.type == "StepFailed"]
    assert await read_all(history, size, "failures") == failures
    only_s1 = [e.event_id for e in history.events if e.step_name == "S1"]
    assert await read_all(history, size, "all", "S1") == only_s1


async def test_a_filter_that_matches_nothing_gives_one_empty_last_page() -> None:
    history = FakeHistory(3000)
    page, token = await page_events(history.fetch, 50, "", event_filter("tasks", ""))
    assert (page, token) == ([], "")


def test_unknown_filters_and_tokens_are_refused() -> None:
    with pytest.raises(InvalidArgument, match="type must be one of"):
        event_filter("everything", "")
    assert event_filter("all", "") is None


async def test_a_token_not_from_this_history_is_refused() -> None:
    history = FakeHistory(10)
    with pytest.raises(InvalidArgument, match="page_token"):
        await page_events(history.fetch, 5, "not-a-token", None)


async def test_progress_reads_only_new_events_on_later_looks() -> None:
    history = FakeHistory(2500)
    cache = ProgressCache()
    parents: dict[str, str | None] = {"S0": None, "S1": None, "S2": None}
    progress = await cache.progress(("f", "e"), 1.0, False, parents, history.fetch)
    assert progress.last_event_id == 2500
    first_calls = len(history.calls)
    assert first_calls == 3
    history.events += FakeHistory(2600).events[2500:]
    progress = await cache.progress(("f", "e"), 1.0, True, parents, history.fetch)
    assert progress.last_event_id == 2600
    # It resumed from the page holding the last event seen, not from the start.
    assert len(history.calls) == first_calls + 1
    assert history.calls[-1][1] == history.calls[first_calls - 1][1]
    # Finished and read to the end: nothing more is fetched.
    await cache.progress(("f", "e"), 1.0, True, parents, history.fetch)
    assert len(history.calls) == first_calls + 1


async def test_a_new_execution_of_the_same_name_starts_afresh() -> None:
    cache = ProgressCache()
    parents: dict[str, str | None] = {"S0": None, "S1": None, "S2": None}
    await cache.progress(("f", "e"), 1.0, True, parents, FakeHistory(30).fetch)
    progress = await cache.progress(("f", "e"), 2.0, True, parents, FakeHistory(5).fetch)
    assert progress.last_event_id == 5
