"""The two error families of CloudFlow.

*Flow errors* are data: a named error (``FnF.Timeout``, ``HTTP.503``, a Fail state's
``Code``) with a human-readable cause. Retry and Catch rules match on their names, and an
execution that fails carries one as its result.

*Service errors* are exceptions raised at the service boundary (a flow that does not exist,
an invalid definition, an execution name already used). Each has a stable ``code``; the
gateway maps those codes to gRPC status codes in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = [
    "ALL",
    "BRANCH_FAILED",
    "FAILED",
    "FC_FUNCTION_NOT_FOUND",
    "FC_UNKNOWN",
    "HEARTBEAT_TIMEOUT",
    "HTTP_CONNECTION_ERROR",
    "RUNTIME_ERROR",
    "TASK_FAILED",
    "TIMEOUT",
    "ExecutionAlreadyExists",
    "ExecutionNotFound",
    "FlowAlreadyExists",
    "FlowError",
    "FlowFailure",
    "FlowNotFound",
    "InvalidArgument",
    "InvalidDefinition",
    "Overloaded",
    "PayloadTooLarge",
    "ServiceError",
    "TaskNotWaiting",
    "WrongMode",
]

# Error names raised by the runtime itself (DESIGN.md §3).
ALL: Final = "FnF.ALL"
"""Wildcard that Retry and Catch rules use to match every error; never raised."""
TIMEOUT: Final = "FnF.Timeout"
HEARTBEAT_TIMEOUT: Final = "FnF.HeartbeatTimeout"
TASK_FAILED: Final = "FnF.TaskFailed"
RUNTIME_ERROR: Final = "FnF.RuntimeError"
FAILED: Final = "FnF.Failed"
"""The default ``Code`` of a Fail state."""
BRANCH_FAILED: Final = "FnF.BranchFailed"
FC_FUNCTION_NOT_FOUND: Final = "FC.FunctionNotFound"
FC_UNKNOWN: Final = "FC.Unknown"
HTTP_CONNECTION_ERROR: Final = "HTTP.ConnectionError"


@dataclass(frozen=True, slots=True)
class FlowError:
    """A named error inside an execution: what Retry and Catch rules match on."""

    code: str
    """The error name, e.g. ``FnF.Timeout`` or a Fail state's ``Code``."""
    cause: str = ""
    """A human-readable explanation (CloudFlow's ``Detail`` / ``Cause``)."""

    def as_catch_output(self) -> dict[str, str]:
        """What the next state receives from a Catch rule without an OutputConstructor."""
        return {"Code": self.code, "Detail": self.cause}


class FlowFailure(Exception):
    """Carries a :class:`FlowError` out of code that cannot return it as a value.

    Integrations (a task invoker, an HTTP call) raise it to fail the Task with a named
    error; the engines turn it back into data before Retry/Catch look at it.
    """

    def __init__(self, error: FlowError) -> None:
        super().__init__(f"{error.code}: {error.cause}")
        self.error = error

    @classmethod
    def of(cls, code: str, cause: str = "") -> FlowFailure:
        return cls(FlowError(code, cause))


class ServiceError(Exception):
    """Base of the errors a caller of the service receives.

    ``code`` is stable and machine-readable; the gateway maps it to a gRPC status code.
    """

    code: str = "InternalError"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgument(ServiceError):
    """A request field is malformed (bad JSON, a name that breaks the naming rules, ...)."""

    code = "InvalidArgument"


class InvalidDefinition(InvalidArgument):
    """A flow definition failed validation; ``problems`` lists every problem found."""

    code = "InvalidDefinition"

    def __init__(self, problems: list[str]) -> None:
        count = len(problems)
        header = f"the flow definition has {count} problem{'s' if count != 1 else ''}"
        super().__init__(header + ":\n" + "\n".join(problems))
        self.problems = problems


class PayloadTooLarge(ServiceError):
    """An input, output or request is over its size limit."""

    code = "PayloadTooLarge"


class FlowNotFound(ServiceError):
    code = "FlowNotFound"


class FlowAlreadyExists(ServiceError):
    code = "FlowAlreadyExists"


class ExecutionNotFound(ServiceError):
    code = "ExecutionNotFound"


class ExecutionAlreadyExists(ServiceError):
    code = "ExecutionAlreadyExists"


class WrongMode(ServiceError):
    """An operation that the flow's execution mode does not support (e.g. sync on Standard)."""

    code = "WrongMode"


class TaskNotWaiting(ServiceError):
    """A task report for a task that is finished, superseded or unknown."""

    code = "TaskNotWaiting"


class Overloaded(ServiceError):
    """The engine is at its limit of concurrent executions; the caller should retry later."""

    code = "Overloaded"
