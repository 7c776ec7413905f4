"""Colouring states from history events: the fold of ``gateway/console/progress.py``."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gateway.console.progress import ExecutionProgress, StateStatus
from shared.results import HistoryEvent

PARENTS: dict[str, str | None] = {
    "A": None,
    "Fan": None,
    "Work": "Fan",
    "B": None,
    "Pair": None,
    "Left": "Pair",
    "Right": "Pair",
}


class History:
    """Builds a history event by event, numbering them as the engine does."""

    def __init__(self) -> None:
        self.events: list[HistoryEvent] = []

    def add(self, kind: str, step: str = "", schedule: int = 0, **detail: Any) -> HistoryEvent:
        event = HistoryEvent(
            len(self.events) + 1, kind, step, float(len(self.events)), json.dumps(detail), schedule
        )
        self.events.append(event)
        return event

    def visit(self, state: str, value: Any = None) -> None:
        self.add("StepEntered", state, input=value)
        self.add("StepExited", state, output=value)

    def fold(self) -> ExecutionProgress:
        progress = ExecutionProgress(PARENTS)
        progress.apply_all(self.events)
        return progress


def statuses(progress: ExecutionProgress) -> dict[str, str]:
    return {name: s.status().value for name, s in progress.states.items()}


def test_states_succeed_or_stay_not_reached() -> None:
    h = History()
    h.add("ExecutionStarted", input={})
    h.visit("A", {"x": 1})
    h.add("ExecutionSucceeded", output={"x": 1})
    progress = h.fold()
    assert statuses(progress)["A"] == "succeeded"
    assert statuses(progress)["B"] == "not_reached"
    assert progress.states["A"].last_input == {"x": 1}
    assert progress.end_status == "Succeeded" and progress.failed_state is None


def test_a_state_that_has_not_exited_is_running_also_while_it_waits_to_retry() -> None:
    h = History()
    h.add("StepEntered", "A", input={})
    assert statuses(h.fold())["A"] == "running"
    h.add("StepFailed", "A", error="E", cause="boom", retryAfterSeconds=2.0)
    progress = h.fold()
    assert statuses(progress)["A"] == "running"
    assert progress.states["A"].error is not None
    assert progress.states["A"].error.retry_after_seconds == 2.0


def test_retried_then_succeeded_is_retried_with_the_attempts_listed() -> None:
    h = History()
    h.add("StepEntered", "A", input={})
    h.add("StepFailed", "A", error="Flaky", cause="first", retryAfterSeconds=1.0)
    h.visit("A", {})
    state = h.fold().states["A"]
    assert state.status() is StateStatus.RETRIED
    assert (state.entered, state.retried, state.exited) == (2, 1, 1)
    assert [a.error for a in state.attempts] == ["Flaky"]


def test_a_caught_failure_is_caught_and_its_exit_is_not_a_success() -> None:
    h = History()
    h.add("StepEntered", "A", input={})
    h.add("StepFailed", "A", error="E", cause="c", caught=True)
    h.add("StepExited", "A", output={"Code": "E"})
    state = h.fold().states["A"]
    assert state.status() is StateStatus.CAUGHT
    assert state.summary()["succeeded"] == 0 and state.summary()["caught"] == 1


def test_the_first_final_failure_names_the_state_where_it_broke() -> None:
    h = History()
    h.add("StepEntered", "A", input={"card": "4242"})
    h.add("TaskScheduled", "A", parameters={"card": "4242"})
    h.add("TaskFailed", "A", schedule=2, error="Payment.Declined", cause="declined")
    h.add("StepFailed", "A", error="Payment.Declined", cause="declined")
    h.add("ExecutionFailed", error="Payment.Declined", cause="declined")
    progress = h.fold()
    state = progress.states["A"]
    assert state.status() is StateStatus.FAILED
    assert progress.failed_state == "A"
    assert state.error is not None
    assert (state.error.error, state.error.cause) == ("Payment.Declined", "declined")
    # The failed task call's parameters say which input failed.
    assert state.error.task_parameters == {"card": "4242"}
    detail = state.detail()
    assert detail["error"]["error"] == "Payment.Declined" and detail["input"] == {"card": "4242"}


def test_a_failed_iteration_cancels_its_running_siblings() -> None:
    h = History()
    h.add("StepEntered", "Fan", input={"items": [1, 2, 3]})
    for index in range(3):
        h.add("IterationEntered", "Fan", index=index, input=index)
    for index in range(3):
        h.add("StepEntered", "Work", input=index)
    h.add("StepExited", "Work", output=0)
    h.add("IterationExited", "Fan", index=0, output=0)
    h.add("StepFailed", "Work", error="Bad", cause="item 1")
    h.add("IterationExited", "Fan", index=1, error="Bad", cause="item 1")
    h.add("StepFailed", "Fan", error="Bad", cause="item 1")
    progress = h.fold()
    fan, work = progress.states["Fan"], progress.states["Work"]
    assert fan.status() is StateStatus.FAILED
    assert work.status() is StateStatus.FAILED
    assert work.cancelled == 1 and work.active == 0  # iteration 2 was dropped
    assert fan.children is not None
    assert fan.children.to_json() == {
        "kind": "iteration",
        "started": 3,
        "running": 0,
        "succeeded": 1,
        "failed": 1,
        "cancelled": 1,
        "failures": [{"index": 1, "error": "Bad", "cause": "item 1", "eventId": 11}],
    }
    # The innermost failure came first: that is where the execution broke.
    assert progress.failed_state == "Work"


def test_a_branch_still_running_when_its_sibling_fails_is_cancelled() -> None:
    h = History()
    h.add("StepEntered", "Pair", input={})
    h.add("BranchEntered", "Pair", index=0, input={})
    h.add("BranchEntered", "Pair", index=1, input={})
    h.add("StepEntered", "Left", input={})
    h.add("StepEntered", "Right", input={})
    h.add("StepFailed", "Left", error="E", cause="c")
    h.add("BranchExited", "Pair", index=0, error="E", cause="c")
    h.add("StepFailed", "Pair", error="E", cause="c", caught=True)
    h.add("StepExited", "Pair", output={})
    result = statuses(h.fold())
    assert (result["Left"], result["Right"], result["Pair"]) == ("failed", "cancelled", "caught")


@pytest.mark.parametrize(
    ("end", "expected"),
    [("ExecutionStopped", "cancelled"), ("ExecutionTimedOut", "failed")],
)
def test_states_running_when_the_execution_ends_are_cancelled_or_failed(
    end: str, expected: str
) -> None:
    h = History()
    h.add("StepEntered", "A", input={})
    h.add(end, error="FnF.Timeout" if "Timed" in end else "FnF.Stopped", cause="ended")
    progress = h.fold()
    assert statuses(progress)["A"] == expected
    if expected == "failed":
        assert progress.failed_state == "A"
        assert progress.states["A"].error is not None
        assert progress.states["A"].error.error == "FnF.Timeout"


def test_events_applied_in_pieces_give_the_same_result_and_repeats_are_ignored() -> None:
    h = History()
    h.add("ExecutionStarted", input={})
    h.add("StepEntered", "A", input={})
    h.add("StepFailed", "A", error="E", cause="c", retryAfterSeconds=0.0)
    h.visit("A")
    h.visit("B")
    h.add("ExecutionSucceeded", output={})
    whole = h.fold()
    pieces = ExecutionProgress(PARENTS)
    pieces.apply_all(h.events[:3])
    pieces.apply_all(h.events[:5])  # a page read again, with more events in it
    pieces.apply_all(h.events)
    assert pieces.to_json() == whole.to_json()
    assert pieces.last_event_id == len(h.events)


def test_states_unknown_to_the_graph_are_still_counted() -> None:
    h = History()
    h.visit("Renamed")
    progress = h.fold()
    assert statuses(progress)["Renamed"] == "succeeded"


def test_large_values_are_kept_shortened() -> None:
    h = History()
    h.add("StepEntered", "A", input={"blob": "x" * 100_000})
    kept = h.fold().states["A"].last_input
    assert isinstance(kept, str) and kept.endswith("characters in all)")
