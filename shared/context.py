"""What the pure state semantics know about the execution they run in."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shared.limits import DEFAULT_LIMITS, Limits
from shared.ports import Entropy

__all__ = ["RunContext"]


@dataclass(slots=True)
class RunContext:
    """One execution as the states see it.

    The engine owns it: it replaces ``globals`` when a state returns new ones, and the
    states never change anything in it themselves.
    """

    execution_name: str
    flow_name: str
    execution_input: Any
    start_time: str
    """RFC 3339 UTC, shown as ``$Context.Execution.StartTime``."""
    entropy: Entropy
    limits: Limits = DEFAULT_LIMITS
    globals: dict[str, Any] = field(default_factory=dict)

    def context_value(
        self,
        state_name: str,
        state_input: Any,
        retry_count: int = 0,
        *,
        output: Any = None,
        error: dict[str, str] | None = None,
        task_token: str | None = None,
    ) -> dict[str, Any]:
        """The ``$Context`` object (cloudflow-reference.md §1.4), built only when read."""
        current: dict[str, Any] = {
            "Name": state_name,
            "Input": state_input,
            "RetryCount": retry_count,
        }
        if output is not None:
            current["Output"] = output
        if error is not None:
            current["Error"] = error
        if task_token is not None:
            current["TaskToken"] = task_token
        return {
            "Execution": {
                "Name": self.execution_name,
                "Input": self.execution_input,
                "StartTime": self.start_time,
            },
            "Flow": {"Name": self.flow_name},
            "Current": current,
        }
