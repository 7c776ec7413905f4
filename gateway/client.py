"""An async Python client of the CloudFlow API.

``CloudFlowClient`` wraps the generated stubs with plain Python: inputs and outputs are JSON
values, times are Unix seconds, results are the domain's dataclasses (:class:`Flow`,
:class:`~shared.results.ExecutionInfo`, :class:`~shared.results.ExecutionResult`,
:class:`~shared.results.HistoryEvent`), and a failed call raises :class:`CloudFlowError`
carrying both the gRPC status and CloudFlow's stable error code::

    async with CloudFlowClient("127.0.0.1:50051") as client:
        await client.create_flow("hello", definition, mode=ExecutionMode.EXPRESS)
        result = await client.start_sync_execution("hello", {"name": "Ada"})
        print(result.status, result.output)

The current OpenTelemetry context is sent with every call, so a traced caller's trace goes on
through the server and the engine.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, Final, TypeVar

import grpc
from opentelemetry.propagate import inject

from gateway.api import cloudflow_pb2 as pb
from gateway.api import cloudflow_pb2_grpc
from gateway.auth import bearer_metadata
from gateway.flows import Flow
from gateway.messages import (
    event_from_proto,
    execution_from_proto,
    flow_from_proto,
    mode_to_proto,
    status_to_proto,
    sync_result_from_proto,
    timestamp,
)
from gateway.status import ERROR_CODE_KEY
from shared.plan import ExecutionMode
from shared.results import ExecutionInfo, ExecutionResult, ExecutionStatus, HistoryEvent
from shared.values import dumps

__all__ = ["CloudFlowClient", "CloudFlowError", "JsonInput"]

JsonInput = Mapping[str, Any] | str | None
"""An execution input: a mapping, JSON text, or None for ``{}``."""

LONG_POLL_SLACK_SECONDS: Final = 10.0
"""Added to a long poll's wait so the call's own timeout does not cut it short."""

T = TypeVar("T")


class CloudFlowError(Exception):
    """A call the server (or the connection) ended with a status other than OK."""

    def __init__(self, status: grpc.StatusCode, code: str, message: str) -> None:
        super().__init__(f"{status.name}: {message}")
        self.status = status
        """The gRPC status, e.g. ``grpc.StatusCode.NOT_FOUND``."""
        self.code = code
        """CloudFlow's error code (``FlowNotFound``, ``InvalidDefinition``...); for errors that
        did not come from CloudFlow (an unreachable server, a deadline) the status name."""
        self.message = message

    @classmethod
    def from_rpc_error(cls, error: grpc.aio.AioRpcError) -> CloudFlowError:
        status: grpc.StatusCode = error.code()
        code = status.name
        for key, value in error.trailing_metadata() or ():
            if key == ERROR_CODE_KEY:
                code = value
        return cls(status, code, error.details() or status.name)


class CloudFlowClient:
    """A connection to a CloudFlow server; use it as an async context manager, or close it."""

    def __init__(
        self,
        target: str,
        token: str | None = None,
        *,
        tls: bool = False,
        root_certificates: bytes | None = None,
        timeout: float | None = 30.0,
    ) -> None:
        """Connect to ``target`` (``host:port``).

        ``token`` is sent as a bearer token. ``tls`` (implied by ``root_certificates``) uses
        TLS, trusting ``root_certificates`` (PEM) or else the system's roots. ``timeout`` is
        each call's deadline in seconds (None: no deadline).
        """
        if tls or root_certificates is not None:
            credentials = grpc.ssl_channel_credentials(root_certificates=root_certificates)
            self._channel = grpc.aio.secure_channel(target, credentials)
        else:
            self._channel = grpc.aio.insecure_channel(target)
        self._stub = cloudflow_pb2_grpc.CloudFlowStub(self._channel)  # type: ignore[no-untyped-call]
        self._metadata = bearer_metadata(token) if token else ()
        self._timeout = timeout
        self.target = target

    async def __aenter__(self) -> CloudFlowClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self._channel.close()

    # -- flows -----------------------------------------------------------------------------

    async def create_flow(
        self,
        name: str,
        definition: str,
        *,
        mode: ExecutionMode = ExecutionMode.STANDARD,
        description: str = "",
    ) -> Flow:
        request = pb.CreateFlowRequest(
            name=name,
            definition=definition,
            description=description,
            execution_mode=mode_to_proto(mode),
        )
        response = await self._call(self._stub.CreateFlow, request)
        return flow_from_proto(response.flow)

    async def update_flow(
        self, name: str, *, definition: str | None = None, description: str | None = None
    ) -> Flow:
        """A new revision; a field left as None keeps its current value."""
        request = pb.UpdateFlowRequest(name=name, definition=definition, description=description)
        response = await self._call(self._stub.UpdateFlow, request)
        return flow_from_proto(response.flow)

    async def describe_flow(self, name: str) -> Flow:
        response = await self._call(self._stub.DescribeFlow, pb.DescribeFlowRequest(name=name))
        return flow_from_proto(response.flow)

    async def list_flows(
        self, *, page_size: int = 0, page_token: str = ""
    ) -> tuple[list[Flow], str]:
        """One page of flows in name order and the next page's token ("" on the last page)."""
        request = pb.ListFlowsRequest(page_size=page_size, page_token=page_token)
        response = await self._call(self._stub.ListFlows, request)
        return [flow_from_proto(f) for f in response.flows], response.next_page_token

    def iter_flows(self, *, page_size: int = 0) -> AsyncIterator[Flow]:
        """Every flow, fetching page after page."""
        return _all_pages(lambda token: self.list_flows(page_size=page_size, page_token=token))

    async def delete_flow(self, name: str) -> None:
        await self._call(self._stub.DeleteFlow, pb.DeleteFlowRequest(name=name))

    # -- executions ------------------------------------------------------------------------

    async def start_execution(
        self, flow_name: str, execution_input: JsonInput = None, *, name: str = ""
    ) -> ExecutionInfo:
        """Start an execution of a Standard flow; returns at once."""
        request = pb.StartExecutionRequest(
            flow_name=flow_name, execution_name=name, input=_input_text(execution_input)
        )
        response = await self._call(self._stub.StartExecution, request)
        return execution_from_proto(response.execution)

    async def start_sync_execution(
        self,
        flow_name: str,
        execution_input: JsonInput = None,
        *,
        name: str = "",
        timeout: float | None = None,
    ) -> ExecutionResult:
        """Run an execution of an Express flow to its end; ``output`` is a JSON value.

        A failed execution is a result (``status`` FAILED, ``error`` set), not an exception.
        ``timeout`` overrides the client's deadline for this call.
        """
        request = pb.StartSyncExecutionRequest(
            flow_name=flow_name, execution_name=name, input=_input_text(execution_input)
        )
        response = await self._call(self._stub.StartSyncExecution, request, timeout)
        return sync_result_from_proto(response)

    async def describe_execution(
        self, flow_name: str, name: str, *, wait_seconds: int = 0
    ) -> ExecutionInfo:
        """One execution; with ``wait_seconds`` (0–60), wait that long for it to end."""
        request = pb.DescribeExecutionRequest(
            flow_name=flow_name, execution_name=name, wait_time_seconds=wait_seconds
        )
        timeout = self._timeout
        if wait_seconds and timeout is not None:
            timeout = max(timeout, wait_seconds + LONG_POLL_SLACK_SECONDS)
        response = await self._call(self._stub.DescribeExecution, request, timeout)
        return execution_from_proto(response.execution)

    async def stop_execution(
        self, flow_name: str, name: str, *, error: str = "", cause: str = ""
    ) -> ExecutionInfo:
        request = pb.StopExecutionRequest(
            flow_name=flow_name, execution_name=name, error=error, cause=cause
        )
        response = await self._call(self._stub.StopExecution, request)
        return execution_from_proto(response.execution)

    async def list_executions(
        self,
        flow_name: str,
        *,
        status: ExecutionStatus | None = None,
        name_prefix: str = "",
        started_after: float | None = None,
        started_before: float | None = None,
        page_size: int = 0,
        page_token: str = "",
    ) -> tuple[list[ExecutionInfo], str]:
        """One page of a flow's executions, newest first, and the next page's token."""
        request = pb.ListExecutionsRequest(
            flow_name=flow_name,
            status=status_to_proto(status) if status is not None else None,
            name_prefix=name_prefix,
            started_time_begin=timestamp(started_after) if started_after is not None else None,
            started_time_end=timestamp(started_before) if started_before is not None else None,
            page_size=page_size,
            page_token=page_token,
        )
        response = await self._call(self._stub.ListExecutions, request)
        return [execution_from_proto(e) for e in response.executions], response.next_page_token

    async def get_execution_history(
        self, flow_name: str, name: str, *, page_size: int = 0, page_token: str = ""
    ) -> tuple[list[HistoryEvent], str]:
        """One page of an execution's events in order, and the next page's token."""
        request = pb.GetExecutionHistoryRequest(
            flow_name=flow_name, execution_name=name, page_size=page_size, page_token=page_token
        )
        response = await self._call(self._stub.GetExecutionHistory, request)
        return [event_from_proto(e) for e in response.events], response.next_page_token

    def iter_history(
        self, flow_name: str, name: str, *, page_size: int = 0
    ) -> AsyncIterator[HistoryEvent]:
        """Every event of an execution, fetching page after page."""
        return _all_pages(
            lambda token: self.get_execution_history(
                flow_name, name, page_size=page_size, page_token=token
            )
        )

    # -- task callbacks --------------------------------------------------------------------

    async def report_task_succeeded(self, task_token: str, output: Any) -> int:
        """Complete a waiting task with ``output`` (a JSON value); returns the event id."""
        request = pb.ReportTaskSucceededRequest(task_token=task_token, output=dumps(output))
        response: pb.ReportTaskSucceededResponse = await self._call(
            self._stub.ReportTaskSucceeded, request
        )
        return response.event_id

    async def report_task_failed(self, task_token: str, error: str, cause: str = "") -> int:
        request = pb.ReportTaskFailedRequest(task_token=task_token, error=error, cause=cause)
        response: pb.ReportTaskFailedResponse = await self._call(
            self._stub.ReportTaskFailed, request
        )
        return response.event_id

    async def report_task_heartbeat(self, task_token: str) -> int:
        request = pb.ReportTaskHeartbeatRequest(task_token=task_token)
        response: pb.ReportTaskHeartbeatResponse = await self._call(
            self._stub.ReportTaskHeartbeat, request
        )
        return response.event_id

    # -- internals -------------------------------------------------------------------------

    async def _call(self, method: Any, request: Any, timeout: float | None = None) -> Any:
        metadata: dict[str, str] = {}
        inject(metadata)  # W3C traceparent of the caller's current span, if any
        try:
            return await method(
                request,
                timeout=timeout if timeout is not None else self._timeout,
                metadata=(*self._metadata, *metadata.items()),
            )
        except grpc.aio.AioRpcError as error:
            raise CloudFlowError.from_rpc_error(error) from None


def _input_text(value: JsonInput) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


async def _all_pages(
    fetch: Callable[[str], Awaitable[tuple[list[T], str]]],
) -> AsyncIterator[T]:
    token = ""
    while True:
        items, token = await fetch(token)
        for item in items:
            yield item
        if not token:
            return
