"""The small interfaces through which the pure core meets the outside world.

Engines receive implementations of these ports; ``shared/`` only describes them. Tests
pass real implementations (a real HTTP server, a real SQLite file) or simple in-memory
doubles through the same ports.
"""

from __future__ import annotations

import enum
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = [
    "Entropy",
    "ExecutionObserver",
    "SystemEntropy",
    "TaskInvoker",
    "TaskMode",
    "TaskRequest",
]


class TaskMode(enum.Enum):
    """How a Task state waits for its integration (cloudflow-reference.md §3.2)."""

    REQUEST_COMPLETE = "RequestComplete"
    WAIT_FOR_SYSTEM_CALLBACK = "WaitForSystemCallback"
    WAIT_FOR_CUSTOM_CALLBACK = "WaitForCustomCallback"


@dataclass(frozen=True, slots=True)
class TaskRequest:
    """One invocation of a Task state's integration, with its parameters evaluated."""

    action: str
    """``FC:InvokeFunction``, ``HTTP:Request`` or ``FNF:StartExecution``."""
    parameters: Mapping[str, Any]
    """The Task's ``Parameters`` after every ``.$`` expression was evaluated."""
    mode: TaskMode = TaskMode.REQUEST_COMPLETE
    timeout_seconds: float | None = None
    """The Task's ``Timeout``; ``None`` when it has none. The engine enforces it too."""
    task_token: str | None = None
    """Set for WaitForCustomCallback: the token a reporter must present."""
    execution_name: str = ""
    state_name: str = ""
    attempt: int = 0
    """0 for the first attempt, then 1, 2, ... for each retry."""
    headers: Mapping[str, str] = field(default_factory=dict)
    """Extra metadata to pass on (e.g. a W3C ``traceparent``)."""


class TaskInvoker(Protocol):
    """Runs a Task's integration and returns its raw result (``$Output``).

    Failures are raised as :class:`shared.errors.FlowFailure` with a named error
    (``HTTP.503``, ``FC.FunctionNotFound``, a function's own error name, ...). Any other
    exception is a bug in the invoker and the engine reports it as ``FnF.TaskFailed``.
    """

    async def invoke(self, request: TaskRequest) -> Any: ...


class Entropy(Protocol):
    """Randomness handed to the pure core (``uuid()``, ``mathRandom()``, generated names)."""

    def uuid4(self) -> str: ...

    def random_int(self, start: int, end: int) -> int:
        """An integer in ``[start, end)``."""
        ...


class SystemEntropy:
    """Entropy from the operating system; engines use it unless a test passes another."""

    def uuid4(self) -> str:
        return str(uuid.uuid4())

    def random_int(self, start: int, end: int) -> int:
        return secrets.randbelow(end - start) + start


class ExecutionObserver(Protocol):
    """Receives what the engines measure; the gateway turns it into metrics.

    ``mode`` is ``"Standard"`` or ``"Express"``; outcomes are ``succeeded``, ``failed``,
    ``timed_out``. Called on the engine's event loop: implementations must be quick.
    """

    def execution_started(self, flow_name: str, mode: str) -> None: ...

    def execution_finished(
        self, flow_name: str, mode: str, status: str, seconds: float
    ) -> None: ...

    def state_finished(
        self,
        flow_name: str,
        mode: str,
        state_name: str,
        state_type: str,
        outcome: str,
        seconds: float,
    ) -> None: ...

    def task_finished(
        self, flow_name: str, mode: str, action: str, outcome: str, seconds: float
    ) -> None: ...
