"""The one shape of ``FnF.RuntimeError`` the integrations raise (bad Parameters, sizes)."""

from __future__ import annotations

from shared.errors import RUNTIME_ERROR, FlowFailure
from shared.ports import TaskRequest

__all__ = ["runtime_error"]


def runtime_error(request: TaskRequest, problem: str) -> FlowFailure:
    """An ``FnF.RuntimeError`` whose cause names the state and the action (DESIGN.md §3)."""
    if request.state_name:
        where = f"Task state {request.state_name!r} ({request.action})"
    else:
        where = request.action
    return FlowFailure.of(RUNTIME_ERROR, f"{where}: {problem}")
