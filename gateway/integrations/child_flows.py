"""``FNF:StartExecution``: a Task that starts an execution of another flow (a child flow).

* RequestComplete: the task completes once the child has started, with
  ``{"FlowName", "ExecutionName"}``.
* WaitForSystemCallback: the task completes when the child ends, with the child's output
  or failing with its error. A Standard child carries the parent task's token and reports
  to it when it ends (durably: the standard engine redelivers the report after a crash);
  an Express child runs here and its end is reported at once.
* WaitForCustomCallback: the child is started and the task waits for a report with the
  token (which the flow passes to the child in its input, if it wants the child to report).

Parameters: ``flowName`` (or ``resourceArn`` ``acs:fnf:{region}::flow/{name}``),
``executionName`` (optional) and ``input`` (an object; default ``{}``).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from typing import Any, Protocol

from gateway.flows import Flow
from shared.errors import RUNTIME_ERROR, TASK_FAILED, FlowFailure, ServiceError
from shared.plan import ExecutionMode
from shared.ports import TaskMode, TaskRequest
from shared.results import ExecutionResult, ExecutionStatus

__all__ = ["FLOW_NOT_FOUND", "ChildFlows"]

FLOW_NOT_FOUND = "FNF.FlowNotFound"

_ARN = re.compile(r"acs:fnf:[^:]*:[^:]*:flow/(?P<name>[^/]+)")


class FlowSource(Protocol):
    async def get(self, name: str) -> Flow: ...


class StandardStarter(Protocol):
    async def start_execution(
        self,
        flow_name: str,
        revision: int,
        definition: str,
        execution_name: str | None,
        input_json: str,
        *,
        parent_token: str | None = None,
    ) -> Any: ...

    async def report_task_succeeded(self, task_token: str, output_json: str) -> int: ...

    async def report_task_failed(self, task_token: str, error: str, cause: str) -> int: ...


class ExpressRunner(Protocol):
    async def run_child(
        self, flow: Flow, name: str, input_value: dict[str, Any]
    ) -> ExecutionResult: ...


class ChildFlows:
    """The FNF:StartExecution integration. Its engines are attached once they exist."""

    def __init__(self, flows: FlowSource) -> None:
        self._flows = flows
        self.standard: StandardStarter | None = None
        self.express: ExpressRunner | None = None
        self._background: set[asyncio.Task[Any]] = set()

    async def invoke(self, request: TaskRequest) -> Any:
        flow_name = _flow_name(request)
        try:
            flow = await self._flows.get(flow_name)
        except ServiceError as exc:
            raise FlowFailure.of(
                FLOW_NOT_FOUND, f"state '{request.state_name}': {exc.message}"
            ) from None
        child_input = request.parameters.get("input", {})
        if not isinstance(child_input, dict):
            raise FlowFailure.of(
                RUNTIME_ERROR, f"state '{request.state_name}': Parameters.input must be an object"
            )
        name = _child_name(request)
        if flow.mode is ExecutionMode.STANDARD:
            return await self._start_standard(request, flow, name, child_input)
        return await self._run_express(request, flow, name, child_input)

    async def _start_standard(
        self, request: TaskRequest, flow: Flow, name: str, child_input: dict[str, Any]
    ) -> Any:
        if self.standard is None:
            raise FlowFailure.of(
                TASK_FAILED, "this server has no standard engine for the child flow"
            )
        parent_token = (
            request.task_token if request.mode is TaskMode.WAIT_FOR_SYSTEM_CALLBACK else None
        )
        try:
            info = await self.standard.start_execution(
                flow.name,
                flow.revision,
                flow.definition,
                name,
                json.dumps(child_input),
                parent_token=parent_token,
            )
        except ServiceError as exc:
            raise FlowFailure.of(
                TASK_FAILED, f"state '{request.state_name}': {exc.message}"
            ) from None
        return {"FlowName": flow.name, "ExecutionName": info.name}

    async def _run_express(
        self, request: TaskRequest, flow: Flow, name: str, child_input: dict[str, Any]
    ) -> Any:
        if self.express is None:
            raise FlowFailure.of(TASK_FAILED, "this server cannot run Express child flows")
        express = self.express
        started = {"FlowName": flow.name, "ExecutionName": name}
        if request.mode is not TaskMode.WAIT_FOR_SYSTEM_CALLBACK:
            task = asyncio.create_task(express.run_child(flow, name, child_input))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
            return started
        result = await express.run_child(flow, name, child_input)
        if request.task_token and self.standard is not None:
            # A Standard parent waits for a report, as it would for a Standard child.
            try:
                if result.status is ExecutionStatus.SUCCEEDED:
                    await self.standard.report_task_succeeded(
                        request.task_token, json.dumps(result.output)
                    )
                else:
                    error = result.error
                    await self.standard.report_task_failed(
                        request.task_token,
                        error.code if error else TASK_FAILED,
                        error.cause if error else "",
                    )
            except ServiceError:
                pass  # the parent task is no longer waiting: nothing to tell
            return started
        if result.status is not ExecutionStatus.SUCCEEDED:
            error = result.error
            raise FlowFailure.of(
                error.code if error else TASK_FAILED,
                error.cause if error else "the child flow failed",
            )
        return result.output


def _flow_name(request: TaskRequest) -> str:
    parameters = request.parameters
    name = parameters.get("flowName")
    if isinstance(name, str) and name:
        return name
    arn = parameters.get("resourceArn")
    match = _ARN.fullmatch(arn) if isinstance(arn, str) else None
    if match is None:
        raise FlowFailure.of(
            RUNTIME_ERROR,
            f"state '{request.state_name}': Parameters need flowName or resourceArn (acs:fnf:{{region}}::flow/{{name}})",
        )
    return match["name"]


def _child_name(request: TaskRequest) -> str:
    """The child's name: given, or derived from the parent task's token so that a redelivered
    invocation (after a crash) finds the child it already started instead of a second one."""
    given = request.parameters.get("executionName")
    if isinstance(given, str) and given:
        return given
    seed = (
        request.task_token
        or f"{request.execution_name}/{request.state_name}/{request.attempt}/{id(request)}"
    )
    return "child-" + hashlib.sha256(seed.encode()).hexdigest()[:32]
