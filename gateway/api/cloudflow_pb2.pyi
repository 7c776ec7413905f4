import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ExecutionMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXECUTION_MODE_UNSPECIFIED: _ClassVar[ExecutionMode]
    EXECUTION_MODE_STANDARD: _ClassVar[ExecutionMode]
    EXECUTION_MODE_EXPRESS: _ClassVar[ExecutionMode]

class ExecutionStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXECUTION_STATUS_UNSPECIFIED: _ClassVar[ExecutionStatus]
    EXECUTION_STATUS_RUNNING: _ClassVar[ExecutionStatus]
    EXECUTION_STATUS_SUCCEEDED: _ClassVar[ExecutionStatus]
    EXECUTION_STATUS_FAILED: _ClassVar[ExecutionStatus]
    EXECUTION_STATUS_TIMED_OUT: _ClassVar[ExecutionStatus]
    EXECUTION_STATUS_STOPPED: _ClassVar[ExecutionStatus]
EXECUTION_MODE_UNSPECIFIED: ExecutionMode
EXECUTION_MODE_STANDARD: ExecutionMode
EXECUTION_MODE_EXPRESS: ExecutionMode
EXECUTION_STATUS_UNSPECIFIED: ExecutionStatus
EXECUTION_STATUS_RUNNING: ExecutionStatus
EXECUTION_STATUS_SUCCEEDED: ExecutionStatus
EXECUTION_STATUS_FAILED: ExecutionStatus
EXECUTION_STATUS_TIMED_OUT: ExecutionStatus
EXECUTION_STATUS_STOPPED: ExecutionStatus

class Flow(_message.Message):
    __slots__ = ("name", "definition", "description", "execution_mode", "revision", "created_time", "last_modified_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DEFINITION_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_MODE_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    CREATED_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_MODIFIED_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    definition: str
    description: str
    execution_mode: ExecutionMode
    revision: int
    created_time: _timestamp_pb2.Timestamp
    last_modified_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., definition: _Optional[str] = ..., description: _Optional[str] = ..., execution_mode: _Optional[_Union[ExecutionMode, str]] = ..., revision: _Optional[int] = ..., created_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_modified_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateFlowRequest(_message.Message):
    __slots__ = ("name", "definition", "description", "execution_mode")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DEFINITION_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_MODE_FIELD_NUMBER: _ClassVar[int]
    name: str
    definition: str
    description: str
    execution_mode: ExecutionMode
    def __init__(self, name: _Optional[str] = ..., definition: _Optional[str] = ..., description: _Optional[str] = ..., execution_mode: _Optional[_Union[ExecutionMode, str]] = ...) -> None: ...

class CreateFlowResponse(_message.Message):
    __slots__ = ("flow",)
    FLOW_FIELD_NUMBER: _ClassVar[int]
    flow: Flow
    def __init__(self, flow: _Optional[_Union[Flow, _Mapping]] = ...) -> None: ...

class UpdateFlowRequest(_message.Message):
    __slots__ = ("name", "definition", "description")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DEFINITION_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    name: str
    definition: str
    description: str
    def __init__(self, name: _Optional[str] = ..., definition: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class UpdateFlowResponse(_message.Message):
    __slots__ = ("flow",)
    FLOW_FIELD_NUMBER: _ClassVar[int]
    flow: Flow
    def __init__(self, flow: _Optional[_Union[Flow, _Mapping]] = ...) -> None: ...

class DescribeFlowRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class DescribeFlowResponse(_message.Message):
    __slots__ = ("flow",)
    FLOW_FIELD_NUMBER: _ClassVar[int]
    flow: Flow
    def __init__(self, flow: _Optional[_Union[Flow, _Mapping]] = ...) -> None: ...

class ListFlowsRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListFlowsResponse(_message.Message):
    __slots__ = ("flows", "next_page_token")
    FLOWS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    flows: _containers.RepeatedCompositeFieldContainer[Flow]
    next_page_token: str
    def __init__(self, flows: _Optional[_Iterable[_Union[Flow, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DeleteFlowRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class DeleteFlowResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Execution(_message.Message):
    __slots__ = ("name", "flow_name", "flow_revision", "status", "input", "output", "error_code", "error_message", "started_time", "stopped_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    FLOW_NAME_FIELD_NUMBER: _ClassVar[int]
    FLOW_REVISION_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    STARTED_TIME_FIELD_NUMBER: _ClassVar[int]
    STOPPED_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    flow_name: str
    flow_revision: int
    status: ExecutionStatus
    input: str
    output: str
    error_code: str
    error_message: str
    started_time: _timestamp_pb2.Timestamp
    stopped_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., flow_name: _Optional[str] = ..., flow_revision: _Optional[int] = ..., status: _Optional[_Union[ExecutionStatus, str]] = ..., input: _Optional[str] = ..., output: _Optional[str] = ..., error_code: _Optional[str] = ..., error_message: _Optional[str] = ..., started_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., stopped_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class StartExecutionRequest(_message.Message):
    __slots__ = ("flow_name", "execution_name", "input")
    FLOW_NAME_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_NAME_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    flow_name: str
    execution_name: str
    input: str
    def __init__(self, flow_name: _Optional[str] = ..., execution_name: _Optional[str] = ..., input: _Optional[str] = ...) -> None: ...

class StartExecutionResponse(_message.Message):
    __slots__ = ("execution",)
    EXECUTION_FIELD_NUMBER: _ClassVar[int]
    execution: Execution
    def __init__(self, execution: _Optional[_Union[Execution, _Mapping]] = ...) -> None: ...

class StartSyncExecutionRequest(_message.Message):
    __slots__ = ("flow_name", "execution_name", "input")
    FLOW_NAME_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_NAME_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    flow_name: str
    execution_name: str
    input: str
    def __init__(self, flow_name: _Optional[str] = ..., execution_name: _Optional[str] = ..., input: _Optional[str] = ...) -> None: ...

class StartSyncExecutionResponse(_message.Message):
    __slots__ = ("name", "flow_name", "status", "output", "error_code", "error_message", "started_time", "stopped_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    FLOW_NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    STARTED_TIME_FIELD_NUMBER: _ClassVar[int]
    STOPPED_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    flow_name: str
    status: ExecutionStatus
    output: str
    error_code: str
    error_message: str
    started_time: _timestamp_pb2.Timestamp
    stopped_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., flow_name: _Optional[str] = ..., status: _Optional[_Union[ExecutionStatus, str]] = ..., output: _Optional[str] = ..., error_code: _Optional[str] = ..., error_message: _Optional[str] = ..., started_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., stopped_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class DescribeExecutionRequest(_message.Message):
    __slots__ = ("flow_name", "execution_name", "wait_time_seconds")
    FLOW_NAME_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_NAME_FIELD_NUMBER: _ClassVar[int]
    WAIT_TIME_SECONDS_FIELD_NUMBER: _ClassVar[int]
    flow_name: str
    execution_name: str
    wait_time_seconds: int
    def __init__(self, flow_name: _Optional[str] = ..., execution_name: _Optional[str] = ..., wait_time_seconds: _Optional[int] = ...) -> None: ...

class DescribeExecutionResponse(_message.Message):
    __slots__ = ("execution",)
    EXECUTION_FIELD_NUMBER: _ClassVar[int]
    execution: Execution
    def __init__(self, execution: _Optional[_Union[Execution, _Mapping]] = ...) -> None: ...

class StopExecutionRequest(_message.Message):
    __slots__ = ("flow_name", "execution_name", "error", "cause")
    FLOW_NAME_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_NAME_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    CAUSE_FIELD_NUMBER: _ClassVar[int]
    flow_name: str
    execution_name: str
    error: str
    cause: str
    def __init__(self, flow_name: _Optional[str] = ..., execution_name: _Optional[str] = ..., error: _Optional[str] = ..., cause: _Optional[str] = ...) -> None: ...

class StopExecutionResponse(_message.Message):
    __slots__ = ("execution",)
    EXECUTION_FIELD_NUMBER: _ClassVar[int]
    execution: Execution
    def __init__(self, execution: _Optional[_Union[Execution, _Mapping]] = ...) -> None: ...

class ListExecutionsRequest(_message.Message):
    __slots__ = ("flow_name", "status", "name_prefix", "started_time_begin", "started_time_end", "page_size", "page_token")
    FLOW_NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    NAME_PREFIX_FIELD_NUMBER: _ClassVar[int]
    STARTED_TIME_BEGIN_FIELD_NUMBER: _ClassVar[int]
    STARTED_TIME_END_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    flow_name: str
    status: ExecutionStatus
    name_prefix: str
    started_time_begin: _timestamp_pb2.Timestamp
    started_time_end: _timestamp_pb2.Timestamp
    page_size: int
    page_token: str
    def __init__(self, flow_name: _Optional[str] = ..., status: _Optional[_Union[ExecutionStatus, str]] = ..., name_prefix: _Optional[str] = ..., started_time_begin: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., started_time_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListExecutionsResponse(_message.Message):
    __slots__ = ("executions", "next_page_token")
    EXECUTIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    executions: _containers.RepeatedCompositeFieldContainer[Execution]
    next_page_token: str
    def __init__(self, executions: _Optional[_Iterable[_Union[Execution, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetExecutionHistoryRequest(_message.Message):
    __slots__ = ("flow_name", "execution_name", "page_size", "page_token")
    FLOW_NAME_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_NAME_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    flow_name: str
    execution_name: str
    page_size: int
    page_token: str
    def __init__(self, flow_name: _Optional[str] = ..., execution_name: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class GetExecutionHistoryResponse(_message.Message):
    __slots__ = ("events", "next_page_token")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[ExecutionEvent]
    next_page_token: str
    def __init__(self, events: _Optional[_Iterable[_Union[ExecutionEvent, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ExecutionEvent(_message.Message):
    __slots__ = ("event_id", "schedule_event_id", "type", "step_name", "time", "detail")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    STEP_NAME_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    event_id: int
    schedule_event_id: int
    type: str
    step_name: str
    time: _timestamp_pb2.Timestamp
    detail: str
    def __init__(self, event_id: _Optional[int] = ..., schedule_event_id: _Optional[int] = ..., type: _Optional[str] = ..., step_name: _Optional[str] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., detail: _Optional[str] = ...) -> None: ...

class ReportTaskSucceededRequest(_message.Message):
    __slots__ = ("task_token", "output")
    TASK_TOKEN_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    task_token: str
    output: str
    def __init__(self, task_token: _Optional[str] = ..., output: _Optional[str] = ...) -> None: ...

class ReportTaskSucceededResponse(_message.Message):
    __slots__ = ("event_id",)
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    event_id: int
    def __init__(self, event_id: _Optional[int] = ...) -> None: ...

class ReportTaskFailedRequest(_message.Message):
    __slots__ = ("task_token", "error", "cause")
    TASK_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    CAUSE_FIELD_NUMBER: _ClassVar[int]
    task_token: str
    error: str
    cause: str
    def __init__(self, task_token: _Optional[str] = ..., error: _Optional[str] = ..., cause: _Optional[str] = ...) -> None: ...

class ReportTaskFailedResponse(_message.Message):
    __slots__ = ("event_id",)
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    event_id: int
    def __init__(self, event_id: _Optional[int] = ...) -> None: ...

class ReportTaskHeartbeatRequest(_message.Message):
    __slots__ = ("task_token",)
    TASK_TOKEN_FIELD_NUMBER: _ClassVar[int]
    task_token: str
    def __init__(self, task_token: _Optional[str] = ...) -> None: ...

class ReportTaskHeartbeatResponse(_message.Message):
    __slots__ = ("event_id",)
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    event_id: int
    def __init__(self, event_id: _Optional[int] = ...) -> None: ...
