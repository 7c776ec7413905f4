import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class WorkerMessage(_message.Message):
    __slots__ = ("hello", "succeeded", "failed", "heartbeat", "drain")
    HELLO_FIELD_NUMBER: _ClassVar[int]
    SUCCEEDED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    DRAIN_FIELD_NUMBER: _ClassVar[int]
    hello: WorkerHello
    succeeded: InvocationSucceeded
    failed: InvocationFailed
    heartbeat: WorkerHeartbeat
    drain: WorkerDrain
    def __init__(self, hello: _Optional[_Union[WorkerHello, _Mapping]] = ..., succeeded: _Optional[_Union[InvocationSucceeded, _Mapping]] = ..., failed: _Optional[_Union[InvocationFailed, _Mapping]] = ..., heartbeat: _Optional[_Union[WorkerHeartbeat, _Mapping]] = ..., drain: _Optional[_Union[WorkerDrain, _Mapping]] = ...) -> None: ...

class ServerMessage(_message.Message):
    __slots__ = ("welcome", "invocation", "cancel")
    WELCOME_FIELD_NUMBER: _ClassVar[int]
    INVOCATION_FIELD_NUMBER: _ClassVar[int]
    CANCEL_FIELD_NUMBER: _ClassVar[int]
    welcome: Welcome
    invocation: Invocation
    cancel: CancelInvocation
    def __init__(self, welcome: _Optional[_Union[Welcome, _Mapping]] = ..., invocation: _Optional[_Union[Invocation, _Mapping]] = ..., cancel: _Optional[_Union[CancelInvocation, _Mapping]] = ...) -> None: ...

class WorkerHello(_message.Message):
    __slots__ = ("worker_id", "function_names", "max_concurrency", "sdk")
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    FUNCTION_NAMES_FIELD_NUMBER: _ClassVar[int]
    MAX_CONCURRENCY_FIELD_NUMBER: _ClassVar[int]
    SDK_FIELD_NUMBER: _ClassVar[int]
    worker_id: str
    function_names: _containers.RepeatedScalarFieldContainer[str]
    max_concurrency: int
    sdk: str
    def __init__(self, worker_id: _Optional[str] = ..., function_names: _Optional[_Iterable[str]] = ..., max_concurrency: _Optional[int] = ..., sdk: _Optional[str] = ...) -> None: ...

class Welcome(_message.Message):
    __slots__ = ("session_id", "heartbeat_interval")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    heartbeat_interval: _duration_pb2.Duration
    def __init__(self, session_id: _Optional[str] = ..., heartbeat_interval: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class Invocation(_message.Message):
    __slots__ = ("invocation_id", "function_name", "event", "task_token", "deadline", "attempt", "flow_name", "execution_name", "state_name", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    INVOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    FUNCTION_NAME_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    TASK_TOKEN_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    FLOW_NAME_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_NAME_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    invocation_id: str
    function_name: str
    event: str
    task_token: str
    deadline: _timestamp_pb2.Timestamp
    attempt: int
    flow_name: str
    execution_name: str
    state_name: str
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, invocation_id: _Optional[str] = ..., function_name: _Optional[str] = ..., event: _Optional[str] = ..., task_token: _Optional[str] = ..., deadline: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., attempt: _Optional[int] = ..., flow_name: _Optional[str] = ..., execution_name: _Optional[str] = ..., state_name: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...

class InvocationSucceeded(_message.Message):
    __slots__ = ("invocation_id", "output")
    INVOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    invocation_id: str
    output: str
    def __init__(self, invocation_id: _Optional[str] = ..., output: _Optional[str] = ...) -> None: ...

class InvocationFailed(_message.Message):
    __slots__ = ("invocation_id", "error", "cause")
    INVOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    CAUSE_FIELD_NUMBER: _ClassVar[int]
    invocation_id: str
    error: str
    cause: str
    def __init__(self, invocation_id: _Optional[str] = ..., error: _Optional[str] = ..., cause: _Optional[str] = ...) -> None: ...

class WorkerHeartbeat(_message.Message):
    __slots__ = ("invocation_ids",)
    INVOCATION_IDS_FIELD_NUMBER: _ClassVar[int]
    invocation_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, invocation_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class WorkerDrain(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CancelInvocation(_message.Message):
    __slots__ = ("invocation_id", "reason")
    INVOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    invocation_id: str
    reason: str
    def __init__(self, invocation_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...
