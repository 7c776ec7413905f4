"""What an execution ends with, the same for both engines."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from shared.errors import FlowError

__all__ = ["ExecutionInfo", "ExecutionResult", "ExecutionStatus", "HistoryEvent"]


class ExecutionStatus(enum.Enum):
    """CloudFlow's execution statuses."""

    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    TIMED_OUT = "TimedOut"
    STOPPED = "Stopped"

    @property
    def finished(self) -> bool:
        return self is not ExecutionStatus.RUNNING


# Not frozen: an Express execution builds one per run, and a frozen dataclass pays an
# object.__setattr__ per field on construction. Treat it as immutable all the same.
@dataclass(slots=True)
class ExecutionResult:
    """The end of one execution."""

    name: str
    flow_name: str
    status: ExecutionStatus
    output: Any = None
    """The last state's output when Succeeded; ``None`` otherwise."""
    error: FlowError | None = None
    """The error when Failed, TimedOut or Stopped."""
    started_at: float = 0.0
    """Unix seconds, UTC."""
    stopped_at: float = 0.0

    def summary(self) -> dict[str, Any]:
        """The fields of CloudFlow's StartSyncExecution, with ``Output`` as a value."""
        return {
            "Name": self.name,
            "Status": self.status.value,
            "Output": self.output if self.status is ExecutionStatus.SUCCEEDED else None,
            "ErrorCode": self.error.code if self.error else None,
            "ErrorMessage": self.error.cause if self.error else None,
        }


@dataclass(frozen=True, slots=True)
class ExecutionInfo:
    """A Standard execution as DescribeExecution/ListExecutions show it."""

    name: str
    flow_name: str
    flow_revision: int
    status: ExecutionStatus
    input: str
    """JSON text."""
    output: str | None = None
    """JSON text when Succeeded."""
    error_code: str | None = None
    error_message: str | None = None
    started_at: float = 0.0
    """Unix seconds, UTC."""
    stopped_at: float | None = None


@dataclass(frozen=True, slots=True)
class HistoryEvent:
    """One event of a Standard execution's history (GetExecutionHistory)."""

    event_id: int
    """1, 2, 3 ... in order, without gaps, per execution."""
    type: str
    """CloudFlow's event type: ExecutionStarted, StepEntered, TaskScheduled, ..."""
    step_name: str
    time: float
    """Unix seconds, UTC."""
    detail: str
    """JSON text: the event's input, output or error."""
    schedule_event_id: int = 0
    """For task events: the id of the TaskScheduled event they belong to; else 0."""
