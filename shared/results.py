"""What an execution ends with, the same for both engines."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from shared.errors import FlowError

__all__ = ["ExecutionResult", "ExecutionStatus"]


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


@dataclass(frozen=True, slots=True)
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
