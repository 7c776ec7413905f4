"""Conversions between the API's protobuf messages and the domain's values, both ways.

The servicer turns domain values into responses; the client turns responses back into the
same domain values. Keeping both directions here keeps them each other's inverse.
"""

from __future__ import annotations

import json
from typing import Final

from google.protobuf.timestamp_pb2 import Timestamp

from gateway.api import cloudflow_pb2 as pb
from gateway.flows import Flow
from shared.errors import FlowError
from shared.plan import ExecutionMode
from shared.results import ExecutionInfo, ExecutionResult, ExecutionStatus, HistoryEvent
from shared.values import dumps

__all__ = [
    "event_from_proto",
    "event_to_proto",
    "execution_from_proto",
    "execution_to_proto",
    "flow_from_proto",
    "flow_to_proto",
    "mode_from_proto",
    "mode_to_proto",
    "set_time",
    "status_from_proto",
    "status_to_proto",
    "sync_result_from_proto",
    "sync_result_to_proto",
    "timestamp",
    "unix_seconds",
]

_MODE_TO_PROTO: Final[dict[ExecutionMode, pb.ExecutionMode]] = {
    ExecutionMode.STANDARD: pb.EXECUTION_MODE_STANDARD,
    ExecutionMode.EXPRESS: pb.EXECUTION_MODE_EXPRESS,
}
_MODE_FROM_PROTO: Final[dict[int, ExecutionMode]] = {
    # CloudFlow: an empty ExecutionMode means Standard.
    pb.EXECUTION_MODE_UNSPECIFIED: ExecutionMode.STANDARD,
    pb.EXECUTION_MODE_STANDARD: ExecutionMode.STANDARD,
    pb.EXECUTION_MODE_EXPRESS: ExecutionMode.EXPRESS,
}
_STATUS_TO_PROTO: Final[dict[ExecutionStatus, pb.ExecutionStatus]] = {
    ExecutionStatus.RUNNING: pb.EXECUTION_STATUS_RUNNING,
    ExecutionStatus.SUCCEEDED: pb.EXECUTION_STATUS_SUCCEEDED,
    ExecutionStatus.FAILED: pb.EXECUTION_STATUS_FAILED,
    ExecutionStatus.TIMED_OUT: pb.EXECUTION_STATUS_TIMED_OUT,
    ExecutionStatus.STOPPED: pb.EXECUTION_STATUS_STOPPED,
}
_STATUS_FROM_PROTO: Final[dict[int, ExecutionStatus]] = {
    value: key for key, value in _STATUS_TO_PROTO.items()
}


def timestamp(seconds: float) -> Timestamp:
    """A Timestamp of Unix ``seconds`` (microsecond precision, as ``time.time`` has)."""
    stamp = Timestamp()
    set_time(stamp, seconds)
    return stamp


def set_time(field: Timestamp, seconds: float) -> None:
    """Set a message's Timestamp field in place.

    Cheaper than building a Timestamp and passing it to a message's constructor, which copies
    it: StartSyncExecution sets two per call.
    """
    micros = round(seconds * 1_000_000)
    field.seconds = micros // 1_000_000
    field.nanos = (micros % 1_000_000) * 1000


def unix_seconds(value: Timestamp) -> float:
    return value.seconds + value.nanos / 1e9


def mode_to_proto(mode: ExecutionMode) -> pb.ExecutionMode:
    return _MODE_TO_PROTO[mode]


def mode_from_proto(value: int) -> ExecutionMode | None:
    """The mode of a request field; None for a number this server does not know."""
    return _MODE_FROM_PROTO.get(value)


def status_to_proto(status: ExecutionStatus) -> pb.ExecutionStatus:
    return _STATUS_TO_PROTO[status]


def status_from_proto(value: int) -> ExecutionStatus | None:
    """The status of a message field; None for UNSPECIFIED or a number this side does not know."""
    return _STATUS_FROM_PROTO.get(value)


# -- flows -----------------------------------------------------------------------------------


def flow_to_proto(flow: Flow) -> pb.Flow:
    return pb.Flow(
        name=flow.name,
        definition=flow.definition,
        description=flow.description,
        execution_mode=mode_to_proto(flow.mode),
        revision=flow.revision,
        created_time=timestamp(flow.created_at),
        last_modified_time=timestamp(flow.modified_at),
    )


def flow_from_proto(message: pb.Flow) -> Flow:
    return Flow(
        name=message.name,
        definition=message.definition,
        description=message.description,
        mode=mode_from_proto(message.execution_mode) or ExecutionMode.STANDARD,
        revision=message.revision,
        created_at=unix_seconds(message.created_time),
        modified_at=unix_seconds(message.last_modified_time),
    )


# -- executions ------------------------------------------------------------------------------


def execution_to_proto(info: ExecutionInfo) -> pb.Execution:
    message = pb.Execution(
        name=info.name,
        flow_name=info.flow_name,
        flow_revision=info.flow_revision,
        status=status_to_proto(info.status),
        input=info.input,
        output=info.output or "",
        error_code=info.error_code or "",
        error_message=info.error_message or "",
        started_time=timestamp(info.started_at),
    )
    if info.stopped_at is not None:
        message.stopped_time.CopyFrom(timestamp(info.stopped_at))
    return message


def execution_from_proto(message: pb.Execution) -> ExecutionInfo:
    return ExecutionInfo(
        name=message.name,
        flow_name=message.flow_name,
        flow_revision=message.flow_revision,
        status=status_from_proto(message.status) or ExecutionStatus.RUNNING,
        input=message.input,
        output=message.output or None,
        error_code=message.error_code or None,
        error_message=message.error_message or None,
        started_at=unix_seconds(message.started_time),
        stopped_at=unix_seconds(message.stopped_time) if message.HasField("stopped_time") else None,
    )


def sync_result_to_proto(result: ExecutionResult) -> pb.StartSyncExecutionResponse:
    error = result.error
    message = pb.StartSyncExecutionResponse(
        name=result.name, flow_name=result.flow_name, status=_STATUS_TO_PROTO[result.status]
    )
    if result.status is ExecutionStatus.SUCCEEDED:
        message.output = dumps(result.output)
    if error is not None:
        message.error_code = error.code
        message.error_message = error.cause
    set_time(message.started_time, result.started_at)
    set_time(message.stopped_time, result.stopped_at)
    return message


def sync_result_from_proto(message: pb.StartSyncExecutionResponse) -> ExecutionResult:
    status = status_from_proto(message.status) or ExecutionStatus.FAILED
    succeeded = status is ExecutionStatus.SUCCEEDED
    return ExecutionResult(
        name=message.name,
        flow_name=message.flow_name,
        status=status,
        output=json.loads(message.output) if succeeded and message.output else None,
        error=None if succeeded else FlowError(message.error_code, message.error_message),
        started_at=unix_seconds(message.started_time),
        stopped_at=unix_seconds(message.stopped_time),
    )


# -- history ---------------------------------------------------------------------------------


def event_to_proto(event: HistoryEvent) -> pb.ExecutionEvent:
    return pb.ExecutionEvent(
        event_id=event.event_id,
        schedule_event_id=event.schedule_event_id,
        type=event.type,
        step_name=event.step_name,
        time=timestamp(event.time),
        detail=event.detail,
    )


def event_from_proto(message: pb.ExecutionEvent) -> HistoryEvent:
    return HistoryEvent(
        event_id=message.event_id,
        type=message.type,
        step_name=message.step_name,
        time=unix_seconds(message.time),
        detail=message.detail,
        schedule_event_id=message.schedule_event_id,
    )
