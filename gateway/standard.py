"""The port through which the gateway reaches the Standard engine.

The gateway routes every Standard-mode operation to a :class:`StandardBackend`. The engine in
``standard_engine/`` implements it; until a server is given one, those operations answer
FAILED_PRECONDITION (see :data:`NO_STANDARD_ENGINE`).
"""

from __future__ import annotations

from typing import Final, Protocol

from shared.errors import WrongMode
from shared.results import ExecutionInfo, ExecutionStatus, HistoryEvent

__all__ = ["NO_STANDARD_ENGINE", "StandardBackend", "no_standard_engine"]

NO_STANDARD_ENGINE: Final = (
    "this server process runs no standard engine (with --reuse-port only one process on a "
    "database runs it); send Standard calls, and connect workers, to the process that does"
)


def no_standard_engine() -> WrongMode:
    """The error every Standard operation raises on a server without a standard engine."""
    return WrongMode(NO_STANDARD_ENGINE)


class StandardBackend(Protocol):
    """Durable executions of Standard flows, as the gateway needs them.

    Every method raises :class:`shared.errors.ServiceError` subclasses for a caller's mistake;
    the gateway maps them to gRPC status codes. Times are Unix seconds, UTC.
    """

    async def start_execution(
        self,
        flow_name: str,
        revision: int,
        definition: str,
        execution_name: str | None,
        input_json: str,
    ) -> ExecutionInfo:
        """Start an execution of ``revision`` of the flow (``definition`` is that revision's FDL).

        ``execution_name`` None means generate one. With the name of a running execution, start
        nothing and return that one; with the name of a finished one raise
        ExecutionAlreadyExists. Raises InvalidArgument or PayloadTooLarge for a bad input.
        """
        ...

    async def describe_execution(
        self, flow_name: str, execution_name: str, wait_seconds: float = 0
    ) -> ExecutionInfo:
        """One execution; if it is running, wait up to ``wait_seconds`` for it to end.

        Raises ExecutionNotFound.
        """
        ...

    async def stop_execution(
        self, flow_name: str, execution_name: str, error: str, cause: str
    ) -> ExecutionInfo:
        """Stop a running execution (status Stopped); a finished one is returned unchanged."""
        ...

    async def list_executions(
        self,
        flow_name: str,
        *,
        status: ExecutionStatus | None,
        name_prefix: str,
        started_after: float | None,
        started_before: float | None,
        page_size: int,
        page_token: str,
    ) -> tuple[list[ExecutionInfo], str]:
        """One page of a flow's executions, newest first, and the next page's token ("" at the end)."""
        ...

    async def get_execution_history(
        self, flow_name: str, execution_name: str, page_size: int, page_token: str
    ) -> tuple[list[HistoryEvent], str]:
        """One page of an execution's events in order, and the next page's token ("" at the end)."""
        ...

    async def report_task_succeeded(self, task_token: str, output_json: str) -> int:
        """Complete a waiting task; returns the TaskSucceeded event id.

        Raises TaskNotWaiting when the task no longer waits, InvalidArgument for a forged token.
        """
        ...

    async def report_task_failed(self, task_token: str, error: str, cause: str) -> int:
        """Fail a waiting task; returns the TaskFailed event id. Errors as report_task_succeeded."""
        ...

    async def report_task_heartbeat(self, task_token: str) -> int:
        """Record that a task's worker is alive; returns its TaskScheduled event id."""
        ...
