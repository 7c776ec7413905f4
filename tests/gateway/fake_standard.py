"""An in-memory stand-in for the standard engine, for testing the gateway's routing and mapping.

It implements :class:`gateway.standard.StandardBackend` just enough to answer every operation
with values whose every field is set, and records each call so tests can check what the
gateway passed on. It runs nothing: executions stay Running until stopped or finished by hand.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from typing import Any

from shared.errors import (
    ExecutionAlreadyExists,
    ExecutionNotFound,
    InvalidArgument,
    PayloadTooLarge,
    TaskNotWaiting,
)
from shared.results import ExecutionInfo, ExecutionStatus, HistoryEvent

STARTED_AT = 1_700_000_000.25
GOOD_TOKEN = "token-waiting"
DONE_TOKEN = "token-finished"
MAX_INPUT_CHARS = 1000


@dataclass
class FakeStandardBackend:
    """Every call is appended to ``calls`` as ``(method name, arguments)``."""

    executions: dict[tuple[str, str], ExecutionInfo] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    fail_with: Exception | None = None
    """Raised by every method when set (to test INTERNAL)."""
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def _record(self, method: str, **arguments: Any) -> None:
        self.calls.append((method, arguments))
        if self.fail_with is not None:
            raise self.fail_with

    def last(self, method: str) -> dict[str, Any]:
        return next(args for name, args in reversed(self.calls) if name == method)

    def finish(self, flow_name: str, name: str, output: str) -> None:
        info = self.executions[(flow_name, name)]
        self.executions[(flow_name, name)] = replace(
            info, status=ExecutionStatus.SUCCEEDED, output=output, stopped_at=STARTED_AT + 5
        )

    async def start_execution(
        self,
        flow_name: str,
        revision: int,
        definition: str,
        execution_name: str | None,
        input_json: str,
    ) -> ExecutionInfo:
        self._record(
            "start_execution",
            flow_name=flow_name,
            revision=revision,
            definition=definition,
            execution_name=execution_name,
            input_json=input_json,
        )
        if len(input_json) > MAX_INPUT_CHARS:
            raise PayloadTooLarge(f"the execution input is over {MAX_INPUT_CHARS} characters")
        name = execution_name or f"generated-{next(self._ids)}"
        existing = self.executions.get((flow_name, name))
        if existing is not None:
            if existing.status is ExecutionStatus.RUNNING:
                return existing
            raise ExecutionAlreadyExists(f"execution {name!r} already ran")
        info = ExecutionInfo(
            name=name,
            flow_name=flow_name,
            flow_revision=revision,
            status=ExecutionStatus.RUNNING,
            input=input_json,
            started_at=STARTED_AT + len(self.executions),
        )
        self.executions[(flow_name, name)] = info
        return info

    def _get(self, flow_name: str, name: str) -> ExecutionInfo:
        info = self.executions.get((flow_name, name))
        if info is None:
            raise ExecutionNotFound(f"execution {name!r} of flow {flow_name!r} does not exist")
        return info

    async def describe_execution(
        self, flow_name: str, execution_name: str, wait_seconds: float = 0
    ) -> ExecutionInfo:
        self._record(
            "describe_execution",
            flow_name=flow_name,
            execution_name=execution_name,
            wait_seconds=wait_seconds,
        )
        return self._get(flow_name, execution_name)

    async def stop_execution(
        self, flow_name: str, execution_name: str, error: str, cause: str
    ) -> ExecutionInfo:
        self._record("stop_execution", flow_name=flow_name, execution_name=execution_name)
        info = self._get(flow_name, execution_name)
        if info.status is ExecutionStatus.RUNNING:
            info = replace(
                info,
                status=ExecutionStatus.STOPPED,
                error_code=error or "Stopped",
                error_message=cause,
                stopped_at=STARTED_AT + 9,
            )
            self.executions[(flow_name, execution_name)] = info
        return info

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
        self._record(
            "list_executions",
            flow_name=flow_name,
            status=status,
            name_prefix=name_prefix,
            started_after=started_after,
            started_before=started_before,
            page_size=page_size,
            page_token=page_token,
        )
        matching = sorted(
            (
                info
                for (flow, _), info in self.executions.items()
                if flow == flow_name
                and (status is None or info.status is status)
                and info.name.startswith(name_prefix)
                and (started_after is None or info.started_at >= started_after)
                and (started_before is None or info.started_at < started_before)
            ),
            key=lambda info: info.started_at,
            reverse=True,
        )
        start = int(page_token or 0)
        page = matching[start : start + page_size]
        more = start + page_size < len(matching)
        return page, str(start + page_size) if more else ""

    async def get_execution_history(
        self, flow_name: str, execution_name: str, page_size: int, page_token: str
    ) -> tuple[list[HistoryEvent], str]:
        self._record(
            "get_execution_history",
            flow_name=flow_name,
            execution_name=execution_name,
            page_size=page_size,
            page_token=page_token,
        )
        info = self._get(flow_name, execution_name)
        events = [
            HistoryEvent(1, "ExecutionStarted", "", info.started_at, '{"input":{}}'),
            HistoryEvent(2, "StepEntered", "Charge", info.started_at + 1, '{"input":{}}'),
            HistoryEvent(3, "TaskScheduled", "Charge", info.started_at + 2, "{}"),
            HistoryEvent(4, "TaskSucceeded", "Charge", info.started_at + 3, '{"output":1}', 3),
        ]
        start = int(page_token or 0)
        more = start + page_size < len(events)
        return events[start : start + page_size], str(start + page_size) if more else ""

    def _task(self, method: str, task_token: str, **arguments: Any) -> int:
        self._record(method, task_token=task_token, **arguments)
        if task_token == DONE_TOKEN:
            raise TaskNotWaiting("the task of this token is no longer waiting")
        if task_token != GOOD_TOKEN:
            raise InvalidArgument("the task token is not valid: it was not issued by this engine")
        return 42

    async def report_task_succeeded(self, task_token: str, output_json: str) -> int:
        return self._task("report_task_succeeded", task_token, output_json=output_json)

    async def report_task_failed(self, task_token: str, error: str, cause: str) -> int:
        return self._task("report_task_failed", task_token, error=error, cause=cause)

    async def report_task_heartbeat(self, task_token: str) -> int:
        return self._task("report_task_heartbeat", task_token)
