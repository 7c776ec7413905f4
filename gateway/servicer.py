"""The CloudFlow gRPC service: each call is proto → one domain call → proto.

Request fields are checked here (required fields, names, sizes of pages and error texts);
everything else is the flow store's, the express host's or the standard backend's job. Errors
are raised as :class:`shared.errors.ServiceError` and turned into a status in one place,
:func:`rpc`, with the mapping of :mod:`gateway.status`.
"""

from __future__ import annotations

import functools
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Final, TypeVar

import grpc

from gateway.api import cloudflow_pb2 as pb
from gateway.api import cloudflow_pb2_grpc
from gateway.express import ExpressHost, parse_input
from gateway.flows import Flow, FlowStore, check_name, page_size_of
from gateway.messages import (
    event_to_proto,
    execution_to_proto,
    flow_to_proto,
    mode_from_proto,
    status_from_proto,
    sync_result_to_proto,
    unix_seconds,
)
from gateway.standard import StandardBackend, no_standard_engine
from gateway.status import ERROR_CODE_KEY, INTERNAL_MESSAGE, status_of
from shared.errors import InvalidArgument, ServiceError, WrongMode
from shared.plan import ExecutionMode

__all__ = ["CloudFlowServicer"]

log = logging.getLogger("cloudflow.gateway")

MAX_EXECUTIONS_PAGE: Final = 99
MAX_HISTORY_PAGE: Final = 999
MAX_WAIT_SECONDS: Final = 60
MAX_ERROR_CHARS: Final = 128
MAX_CAUSE_CHARS: Final = 4096
LONG_POLL_MARGIN_SECONDS: Final = 0.5
"""A long poll answers this long before the call's deadline, so the answer still arrives."""

Request = TypeVar("Request")
Response = TypeVar("Response")
Method = Callable[[Any, Request, Any], Awaitable[Response]]


def rpc(method: Method[Request, Response]) -> Method[Request, Response]:
    """Turn the ServiceErrors a servicer method raises into gRPC statuses.

    An unexpected exception is logged with its traceback and answered INTERNAL with an incident
    id that finds it in the log; its text is not sent, as it may reveal the server's internals.
    Cancellation (a BaseException) passes through untouched.
    """

    @functools.wraps(method)
    async def handle(self: Any, request: Request, context: Any) -> Response:
        try:
            return await method(self, request, context)
        except ServiceError as error:
            await context.abort(
                status_of(error), error.message, trailing_metadata=((ERROR_CODE_KEY, error.code),)
            )
        except Exception:
            incident = uuid.uuid4().hex[:12]
            log.exception("incident %s: %s failed unexpectedly", incident, method.__name__)
            await context.abort(
                grpc.StatusCode.INTERNAL, INTERNAL_MESSAGE.format(incident=incident)
            )
        raise AssertionError("unreachable: context.abort raises")  # pragma: no cover

    return handle


class CloudFlowServicer(cloudflow_pb2_grpc.CloudFlowServicer):
    """Routes each operation by the flow's mode: Express in process, Standard to the backend."""

    def __init__(
        self, flows: FlowStore, express: ExpressHost, standard: StandardBackend | None
    ) -> None:
        self._flows = flows
        self._express = express
        self._standard = standard

    # -- flows -----------------------------------------------------------------------------

    @rpc
    async def CreateFlow(
        self, request: pb.CreateFlowRequest, context: Any
    ) -> pb.CreateFlowResponse:
        mode = mode_from_proto(request.execution_mode)
        if mode is None:
            raise InvalidArgument(
                f"execution_mode {request.execution_mode} is not a mode; use "
                "EXECUTION_MODE_STANDARD or EXECUTION_MODE_EXPRESS"
            )
        flow = await self._flows.create(
            _required(request.name, "name"), request.definition, request.description, mode
        )
        return pb.CreateFlowResponse(flow=flow_to_proto(flow))

    @rpc
    async def UpdateFlow(
        self, request: pb.UpdateFlowRequest, context: Any
    ) -> pb.UpdateFlowResponse:
        flow = await self._flows.update(
            _required(request.name, "name"),
            request.definition if request.HasField("definition") else None,
            request.description if request.HasField("description") else None,
        )
        return pb.UpdateFlowResponse(flow=flow_to_proto(flow))

    @rpc
    async def DescribeFlow(
        self, request: pb.DescribeFlowRequest, context: Any
    ) -> pb.DescribeFlowResponse:
        flow = await self._flows.get(_required(request.name, "name"))
        return pb.DescribeFlowResponse(flow=flow_to_proto(flow))

    @rpc
    async def ListFlows(self, request: pb.ListFlowsRequest, context: Any) -> pb.ListFlowsResponse:
        flows, token = await self._flows.list(request.page_size, request.page_token)
        return pb.ListFlowsResponse(
            flows=[flow_to_proto(flow) for flow in flows], next_page_token=token
        )

    @rpc
    async def DeleteFlow(
        self, request: pb.DeleteFlowRequest, context: Any
    ) -> pb.DeleteFlowResponse:
        await self._flows.delete(_required(request.name, "name"))
        return pb.DeleteFlowResponse()

    # -- Express ---------------------------------------------------------------------------

    @rpc
    async def StartSyncExecution(
        self, request: pb.StartSyncExecutionRequest, context: Any
    ) -> pb.StartSyncExecutionResponse:
        flow = await self._flows.get(_required(request.flow_name, "flow_name"))
        if flow.mode is not ExecutionMode.EXPRESS:
            raise WrongMode(
                f"flow {flow.name!r} is a Standard flow: start it with StartExecution "
                "(StartSyncExecution runs Express flows only)"
            )
        result = await self._express.start_sync(
            flow, request.execution_name, request.input, context.time_remaining()
        )
        return sync_result_to_proto(result)

    # -- Standard --------------------------------------------------------------------------

    @rpc
    async def StartExecution(
        self, request: pb.StartExecutionRequest, context: Any
    ) -> pb.StartExecutionResponse:
        flow, backend = await self._standard_flow(request.flow_name, "started with StartExecution")
        name = (
            check_name(request.execution_name, "execution name") if request.execution_name else None
        )
        parse_input(request.input)  # a bad input is the caller's mistake, whatever the engine
        info = await backend.start_execution(
            flow.name, flow.revision, flow.definition, name, request.input or "{}"
        )
        return pb.StartExecutionResponse(execution=execution_to_proto(info))

    @rpc
    async def DescribeExecution(
        self, request: pb.DescribeExecutionRequest, context: Any
    ) -> pb.DescribeExecutionResponse:
        flow, backend = await self._standard_flow(request.flow_name, "described")
        wait = request.wait_time_seconds
        if not 0 <= wait <= MAX_WAIT_SECONDS:
            raise InvalidArgument(
                f"wait_time_seconds must be from 0 to {MAX_WAIT_SECONDS}, not {wait}"
            )
        info = await backend.describe_execution(
            flow.name,
            _required(request.execution_name, "execution_name"),
            _long_poll_seconds(wait, context.time_remaining()),
        )
        return pb.DescribeExecutionResponse(execution=execution_to_proto(info))

    @rpc
    async def StopExecution(
        self, request: pb.StopExecutionRequest, context: Any
    ) -> pb.StopExecutionResponse:
        flow, backend = await self._standard_flow(request.flow_name, "stopped")
        name = _required(request.execution_name, "execution_name")
        if request.error:
            _text(request.error, "error", MAX_ERROR_CHARS)
        _text(request.cause, "cause", MAX_CAUSE_CHARS)
        info = await backend.stop_execution(flow.name, name, request.error, request.cause)
        return pb.StopExecutionResponse(execution=execution_to_proto(info))

    @rpc
    async def ListExecutions(
        self, request: pb.ListExecutionsRequest, context: Any
    ) -> pb.ListExecutionsResponse:
        flow, backend = await self._standard_flow(request.flow_name, "listed")
        status = status_from_proto(request.status)
        if status is None and request.status != pb.EXECUTION_STATUS_UNSPECIFIED:
            raise InvalidArgument(f"status {request.status} is not an execution status")
        begin, end = request.started_time_begin, request.started_time_end
        executions, token = await backend.list_executions(
            flow.name,
            status=status,
            name_prefix=request.name_prefix,
            started_after=unix_seconds(begin) if request.HasField("started_time_begin") else None,
            started_before=unix_seconds(end) if request.HasField("started_time_end") else None,
            page_size=page_size_of(request.page_size, MAX_EXECUTIONS_PAGE, "ListExecutions"),
            page_token=request.page_token,
        )
        return pb.ListExecutionsResponse(
            executions=[execution_to_proto(info) for info in executions], next_page_token=token
        )

    @rpc
    async def GetExecutionHistory(
        self, request: pb.GetExecutionHistoryRequest, context: Any
    ) -> pb.GetExecutionHistoryResponse:
        flow, backend = await self._standard_flow(request.flow_name, "asked for a history")
        events, token = await backend.get_execution_history(
            flow.name,
            _required(request.execution_name, "execution_name"),
            page_size_of(request.page_size, MAX_HISTORY_PAGE, "GetExecutionHistory"),
            request.page_token,
        )
        return pb.GetExecutionHistoryResponse(
            events=[event_to_proto(event) for event in events], next_page_token=token
        )

    # -- task callbacks (Standard only: Express flows cannot wait for a callback) ------------

    @rpc
    async def ReportTaskSucceeded(
        self, request: pb.ReportTaskSucceededRequest, context: Any
    ) -> pb.ReportTaskSucceededResponse:
        token = _required(request.task_token, "task_token")
        try:
            json.loads(request.output)
        except (ValueError, RecursionError):
            raise InvalidArgument(
                'output must be JSON text (the task\'s result), e.g. {"ok": true} or null'
            ) from None
        event_id = await self._backend().report_task_succeeded(token, request.output)
        return pb.ReportTaskSucceededResponse(event_id=event_id)

    @rpc
    async def ReportTaskFailed(
        self, request: pb.ReportTaskFailedRequest, context: Any
    ) -> pb.ReportTaskFailedResponse:
        token = _required(request.task_token, "task_token")
        error = _text(_required(request.error, "error"), "error", MAX_ERROR_CHARS)
        cause = _text(request.cause, "cause", MAX_CAUSE_CHARS)
        event_id = await self._backend().report_task_failed(token, error, cause)
        return pb.ReportTaskFailedResponse(event_id=event_id)

    @rpc
    async def ReportTaskHeartbeat(
        self, request: pb.ReportTaskHeartbeatRequest, context: Any
    ) -> pb.ReportTaskHeartbeatResponse:
        token = _required(request.task_token, "task_token")
        event_id = await self._backend().report_task_heartbeat(token)
        return pb.ReportTaskHeartbeatResponse(event_id=event_id)

    # -- routing ---------------------------------------------------------------------------

    async def _standard_flow(self, flow_name: str, doing: str) -> tuple[Flow, StandardBackend]:
        """The Standard flow ``flow_name`` and the backend that runs it; WrongMode otherwise."""
        flow = await self._flows.get(_required(flow_name, "flow_name"))
        if flow.mode is not ExecutionMode.STANDARD:
            raise WrongMode(
                f"flow {flow.name!r} is an Express flow, whose executions cannot be {doing}: "
                "Express executions run with StartSyncExecution and keep no record once they end"
            )
        return flow, self._backend()

    def _backend(self) -> StandardBackend:
        if self._standard is None:
            raise no_standard_engine()
        return self._standard


def _required(value: str, field: str) -> str:
    if not value:
        raise InvalidArgument(f"{field} is required")
    return value


def _text(value: str, field: str, limit: int) -> str:
    if len(value) > limit:
        raise InvalidArgument(f"{field} may have at most {limit} characters, not {len(value)}")
    return value


def _long_poll_seconds(requested: int, time_remaining: float | None) -> float:
    """How long DescribeExecution may wait: what was asked, but answering before the deadline."""
    if time_remaining is None:
        return float(requested)
    return max(0.0, min(float(requested), time_remaining - LONG_POLL_MARGIN_SECONDS))
