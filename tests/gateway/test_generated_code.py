"""The generated API code is up to date, importable, and keeps the contract other code relies on.

The contract tables below list the names (and types) that the gateway, the engines' adapters, the
CLI and the worker SDK use. Renaming or retyping one of them is a breaking change of the public
API: change these tables only together with every user of the name.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from google.protobuf.descriptor import Descriptor, FieldDescriptor

from gateway.api import cloudflow_pb2, cloudflow_pb2_grpc, worker_pb2, worker_pb2_grpc

REPO_ROOT = Path(__file__).resolve().parents[2]
GENERATOR = REPO_ROOT / "proto" / "generate.py"
CHECKED_IN = REPO_ROOT / "gateway" / "api"
GENERATED_SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")


def run_generator(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(GENERATOR), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def generated_files(directory: Path) -> dict[str, bytes]:
    return {
        path.name: path.read_bytes()
        for path in sorted(directory.iterdir())
        if path.name == "__init__.py" or path.name.endswith(GENERATED_SUFFIXES)
    }


# ---------------------------------------------------------------------------------------------
# The checked-in code is what the generator produces


def test_checked_in_code_is_what_the_generator_produces(tmp_path: Path) -> None:
    result = run_generator("--out", str(tmp_path))
    assert result.returncode == 0, result.stderr

    fresh = generated_files(tmp_path)
    checked_in = generated_files(CHECKED_IN)
    assert "cloudflow_pb2_grpc.py" in fresh
    assert "worker_pb2_grpc.py" in fresh
    stale = sorted(
        name for name in fresh.keys() | checked_in.keys() if fresh.get(name) != checked_in.get(name)
    )
    assert not stale, f"gateway/api is stale ({', '.join(stale)}): run `python proto/generate.py`"


def test_generator_is_deterministic(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    assert run_generator("--out", str(first)).returncode == 0
    assert run_generator("--out", str(second)).returncode == 0
    assert generated_files(first) == generated_files(second)


def test_check_names_stale_and_obsolete_files(tmp_path: Path) -> None:
    assert run_generator("--out", str(tmp_path)).returncode == 0
    assert run_generator("--check", "--out", str(tmp_path)).returncode == 0

    with (tmp_path / "worker_pb2.py").open("a", encoding="utf-8") as stale:
        stale.write("# edited by hand\n")
    (tmp_path / "old_pb2.py").write_text("# from a deleted .proto\n", encoding="utf-8")
    (tmp_path / "cloudflow_pb2.pyi").unlink()

    result = run_generator("--check", "--out", str(tmp_path))
    assert result.returncode == 1
    for name in ("worker_pb2.py", "old_pb2.py", "cloudflow_pb2.pyi"):
        assert name in result.stderr
    assert "cloudflow_pb2.py," not in result.stderr  # untouched files are not named

    # Regenerating repairs the directory, obsolete file included.
    assert run_generator("--out", str(tmp_path)).returncode == 0
    assert not (tmp_path / "old_pb2.py").exists()
    assert run_generator("--check", "--out", str(tmp_path)).returncode == 0


def test_modules_import_from_anywhere_without_a_top_level_cloudflow_module(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "import gateway.api.cloudflow_pb2_grpc, gateway.api.worker_pb2_grpc\n"
        "assert 'cloudflow' not in sys.modules, 'generated code imported a top-level cloudflow'\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    # -W error: a protobuf or grpcio version mismatch warning must fail the test too.
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


# ---------------------------------------------------------------------------------------------
# The contract


def describe_field(field: FieldDescriptor) -> str:
    """A field's type as written in the .proto, e.g. ``int64``, ``repeated Flow``, ``Timestamp``."""
    scalar = {
        FieldDescriptor.TYPE_STRING: "string",
        FieldDescriptor.TYPE_INT64: "int64",
        FieldDescriptor.TYPE_INT32: "int32",
        FieldDescriptor.TYPE_BOOL: "bool",
    }
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        if field.message_type.GetOptions().map_entry:
            key, value = (describe_field(f) for f in field.message_type.fields)
            return f"map<{key}, {value}>"
        name = field.message_type.name
    elif field.type == FieldDescriptor.TYPE_ENUM:
        name = field.enum_type.name
    else:
        name = scalar[field.type]
    return f"repeated {name}" if field.is_repeated else name


EXECUTION_FIELDS = {
    "name": "string",
    "flow_name": "string",
    "status": "ExecutionStatus",
    "input": "string",
    "output": "string",
    "error_code": "string",
    "error_message": "string",
    "started_time": "Timestamp",
    "stopped_time": "Timestamp",
    "flow_revision": "int64",
}

CLOUDFLOW_CONTRACT: dict[str, dict[str, str]] = {
    "Flow": {
        "name": "string",
        "definition": "string",
        "description": "string",
        "execution_mode": "ExecutionMode",
        "revision": "int64",
        "created_time": "Timestamp",
        "last_modified_time": "Timestamp",
    },
    "CreateFlowRequest": {
        "name": "string",
        "definition": "string",
        "description": "string",
        "execution_mode": "ExecutionMode",
    },
    "CreateFlowResponse": {"flow": "Flow"},
    "UpdateFlowRequest": {"name": "string", "definition": "string", "description": "string"},
    "UpdateFlowResponse": {"flow": "Flow"},
    "DescribeFlowRequest": {"name": "string"},
    "DescribeFlowResponse": {"flow": "Flow"},
    "ListFlowsRequest": {"page_size": "int32", "page_token": "string"},
    "ListFlowsResponse": {"flows": "repeated Flow", "next_page_token": "string"},
    "DeleteFlowRequest": {"name": "string"},
    "DeleteFlowResponse": {},
    "Execution": EXECUTION_FIELDS,
    "StartExecutionRequest": {"flow_name": "string", "execution_name": "string", "input": "string"},
    "StartExecutionResponse": {"execution": "Execution"},
    "StartSyncExecutionRequest": {
        "flow_name": "string",
        "execution_name": "string",
        "input": "string",
    },
    "StartSyncExecutionResponse": {
        "name": "string",
        "flow_name": "string",
        "status": "ExecutionStatus",
        "output": "string",
        "error_code": "string",
        "error_message": "string",
        "started_time": "Timestamp",
        "stopped_time": "Timestamp",
    },
    "DescribeExecutionRequest": {
        "flow_name": "string",
        "execution_name": "string",
        "wait_time_seconds": "int32",
    },
    "DescribeExecutionResponse": {"execution": "Execution"},
    "StopExecutionRequest": {
        "flow_name": "string",
        "execution_name": "string",
        "error": "string",
        "cause": "string",
    },
    "StopExecutionResponse": {"execution": "Execution"},
    "ListExecutionsRequest": {
        "flow_name": "string",
        "status": "ExecutionStatus",
        "name_prefix": "string",
        "started_time_begin": "Timestamp",
        "started_time_end": "Timestamp",
        "page_size": "int32",
        "page_token": "string",
    },
    "ListExecutionsResponse": {"executions": "repeated Execution", "next_page_token": "string"},
    "GetExecutionHistoryRequest": {
        "flow_name": "string",
        "execution_name": "string",
        "page_size": "int32",
        "page_token": "string",
    },
    "GetExecutionHistoryResponse": {
        "events": "repeated ExecutionEvent",
        "next_page_token": "string",
    },
    "ExecutionEvent": {
        "event_id": "int64",
        "schedule_event_id": "int64",
        "type": "string",
        "step_name": "string",
        "time": "Timestamp",
        "detail": "string",
    },
    "ReportTaskSucceededRequest": {"task_token": "string", "output": "string"},
    "ReportTaskSucceededResponse": {"event_id": "int64"},
    "ReportTaskFailedRequest": {"task_token": "string", "error": "string", "cause": "string"},
    "ReportTaskFailedResponse": {"event_id": "int64"},
    "ReportTaskHeartbeatRequest": {"task_token": "string"},
    "ReportTaskHeartbeatResponse": {"event_id": "int64"},
}

WORKER_CONTRACT: dict[str, dict[str, str]] = {
    "WorkerMessage": {
        "hello": "WorkerHello",
        "succeeded": "InvocationSucceeded",
        "failed": "InvocationFailed",
        "heartbeat": "WorkerHeartbeat",
        "drain": "WorkerDrain",
    },
    "ServerMessage": {
        "welcome": "Welcome",
        "invocation": "Invocation",
        "cancel": "CancelInvocation",
    },
    "WorkerHello": {
        "worker_id": "string",
        "function_names": "repeated string",
        "max_concurrency": "int32",
    },
    "Welcome": {"session_id": "string", "heartbeat_interval": "Duration"},
    "Invocation": {
        "invocation_id": "string",
        "function_name": "string",
        "event": "string",
        "task_token": "string",
        "deadline": "Timestamp",
        "attempt": "int32",
        "flow_name": "string",
        "execution_name": "string",
        "state_name": "string",
        "metadata": "map<string, string>",
    },
    "InvocationSucceeded": {"invocation_id": "string", "output": "string"},
    "InvocationFailed": {"invocation_id": "string", "error": "string", "cause": "string"},
    "WorkerHeartbeat": {"invocation_ids": "repeated string"},
    "WorkerDrain": {},
    "CancelInvocation": {"invocation_id": "string", "reason": "string"},
}


def contract_cases() -> list[tuple[Descriptor, dict[str, str]]]:
    cases = []
    for module, contract in ((cloudflow_pb2, CLOUDFLOW_CONTRACT), (worker_pb2, WORKER_CONTRACT)):
        for message_name, fields in contract.items():
            descriptor = module.DESCRIPTOR.message_types_by_name.get(message_name)
            assert descriptor is not None, f"{module.__name__} has no message {message_name}"
            cases.append((descriptor, fields))
    return cases


@pytest.mark.parametrize(
    ("descriptor", "fields"), contract_cases(), ids=lambda case: getattr(case, "name", "")
)
def test_contract_fields_exist_with_their_types(
    descriptor: Descriptor, fields: dict[str, str]
) -> None:
    actual = {name: describe_field(field) for name, field in descriptor.fields_by_name.items()}
    missing = sorted(fields.keys() - actual.keys())
    assert not missing, f"{descriptor.name} lacks {missing}"
    retyped = {name: actual[name] for name in fields if actual[name] != fields[name]}
    assert not retyped, f"{descriptor.name} fields changed type: {retyped} (expected {fields})"


def test_every_message_and_enum_is_under_contract() -> None:
    # A new message must be added to a contract table above, so its names get pinned too.
    for module, contract in ((cloudflow_pb2, CLOUDFLOW_CONTRACT), (worker_pb2, WORKER_CONTRACT)):
        assert set(module.DESCRIPTOR.message_types_by_name) == set(contract)
    assert set(cloudflow_pb2.DESCRIPTOR.enum_types_by_name) == {"ExecutionMode", "ExecutionStatus"}
    assert not worker_pb2.DESCRIPTOR.enum_types_by_name


def test_time_and_json_representation() -> None:
    # Instants are google.protobuf.Timestamp; JSON payloads are text, never google.protobuf.Struct.
    for module in (cloudflow_pb2, worker_pb2):
        for message in module.DESCRIPTOR.message_types_by_name.values():
            for field in message.fields:
                if field.type == FieldDescriptor.TYPE_MESSAGE:
                    assert field.message_type.full_name not in {
                        "google.protobuf.Struct",
                        "google.protobuf.Value",
                    }, f"{message.name}.{field.name}"
                if field.name.endswith("_time") or field.name in {"time", "deadline"}:
                    assert describe_field(field) == "Timestamp", f"{message.name}.{field.name}"


def test_update_flow_fields_have_presence() -> None:
    # Not setting a field of UpdateFlowRequest leaves it unchanged; setting it to "" clears it.
    fields = cloudflow_pb2.UpdateFlowRequest.DESCRIPTOR.fields_by_name
    assert fields["definition"].has_presence
    assert fields["description"].has_presence
    request = cloudflow_pb2.UpdateFlowRequest(name="f", description="")
    assert request.HasField("description")
    assert not request.HasField("definition")


def test_enums_have_their_exact_names_and_numbers() -> None:
    def values(enum_name: str) -> dict[str, int]:
        enum = cloudflow_pb2.DESCRIPTOR.enum_types_by_name[enum_name]
        return {value.name: value.number for value in enum.values}

    assert values("ExecutionMode") == {
        "EXECUTION_MODE_UNSPECIFIED": 0,
        "EXECUTION_MODE_STANDARD": 1,
        "EXECUTION_MODE_EXPRESS": 2,
    }
    assert values("ExecutionStatus") == {
        "EXECUTION_STATUS_UNSPECIFIED": 0,
        "EXECUTION_STATUS_RUNNING": 1,
        "EXECUTION_STATUS_SUCCEEDED": 2,
        "EXECUTION_STATUS_FAILED": 3,
        "EXECUTION_STATUS_TIMED_OUT": 4,
        "EXECUTION_STATUS_STOPPED": 5,
    }


CLOUDFLOW_RPCS = [
    "CreateFlow",
    "UpdateFlow",
    "DescribeFlow",
    "ListFlows",
    "DeleteFlow",
    "StartExecution",
    "StartSyncExecution",
    "DescribeExecution",
    "StopExecution",
    "ListExecutions",
    "GetExecutionHistory",
    "ReportTaskSucceeded",
    "ReportTaskFailed",
    "ReportTaskHeartbeat",
]


def test_cloudflow_service_has_one_unary_rpc_per_operation() -> None:
    service = cloudflow_pb2.DESCRIPTOR.services_by_name["CloudFlow"]
    assert service.full_name == "cloudflow.v1.CloudFlow"
    assert [method.name for method in service.methods] == CLOUDFLOW_RPCS
    for method in service.methods:
        assert method.input_type.name == f"{method.name}Request"
        assert method.output_type.name == f"{method.name}Response"
        assert not method.client_streaming
        assert not method.server_streaming
    # The generated stub and servicer expose every operation.
    for rpc in CLOUDFLOW_RPCS:
        assert hasattr(cloudflow_pb2_grpc.CloudFlowServicer, rpc)
    assert callable(cloudflow_pb2_grpc.add_CloudFlowServicer_to_server)


def test_task_worker_connect_is_a_bidirectional_stream() -> None:
    service = worker_pb2.DESCRIPTOR.services_by_name["TaskWorker"]
    assert service.full_name == "cloudflow.v1.TaskWorker"
    (connect,) = service.methods
    assert connect.name == "Connect"
    assert connect.input_type.name == "WorkerMessage"
    assert connect.output_type.name == "ServerMessage"
    assert connect.client_streaming
    assert connect.server_streaming
    for envelope in (worker_pb2.WorkerMessage, worker_pb2.ServerMessage):
        (oneof,) = envelope.DESCRIPTOR.oneofs
        assert oneof.name == "kind"
        assert [f.name for f in oneof.fields] == [f.name for f in envelope.DESCRIPTOR.fields]
    assert hasattr(worker_pb2_grpc.TaskWorkerServicer, "Connect")
    assert callable(worker_pb2_grpc.add_TaskWorkerServicer_to_server)
