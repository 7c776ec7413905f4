"""Standard-mode operations: routed to the StandardBackend, mapped to and from the proto.

The backend here is an in-memory fake (fake_standard.py); the real engine replaces it.
"""

from __future__ import annotations

import logging

import grpc
import pytest

from gateway.api import cloudflow_pb2 as pb
from gateway.api import cloudflow_pb2_grpc
from gateway.standard import NO_STANDARD_ENGINE
from shared.plan import ExecutionMode
from shared.results import ExecutionStatus
from tests.gateway.conftest import Running, StartServer, pass_flow, rpc_error
from tests.gateway.fake_standard import (
    DONE_TOKEN,
    GOOD_TOKEN,
    STARTED_AT,
    FakeStandardBackend,
)

STANDARD = ExecutionMode.STANDARD


@pytest.fixture
def backend() -> FakeStandardBackend:
    return FakeStandardBackend()


@pytest.fixture
async def standard(start_server: StartServer, backend: FakeStandardBackend) -> Running:
    running = await start_server(standard=backend)
    await running.client.create_flow("orders", pass_flow(), mode=STANDARD)
    await running.client.create_flow("fast", pass_flow(), mode=ExecutionMode.EXPRESS)
    return running


# -- without a standard engine -----------------------------------------------------------------


async def test_without_an_engine_every_standard_operation_is_failed_precondition(
    cloudflow: Running,
) -> None:
    client = cloudflow.client
    await client.create_flow("orders", pass_flow(), mode=STANDARD)
    calls = [
        client.start_execution("orders", {}),
        client.describe_execution("orders", "e1"),
        client.stop_execution("orders", "e1"),
        client.list_executions("orders"),
        client.get_execution_history("orders", "e1"),
        client.report_task_succeeded("token", {"ok": True}),
        client.report_task_failed("token", "Rejected"),
        client.report_task_heartbeat("token"),
    ]
    for call in calls:
        error = await rpc_error(call)
        assert error.status is grpc.StatusCode.FAILED_PRECONDITION
        assert error.message == NO_STANDARD_ENGINE


# -- wrong mode --------------------------------------------------------------------------------


async def test_express_flows_refuse_standard_operations(standard: Running) -> None:
    client = standard.client
    calls = [
        client.start_execution("fast", {}),
        client.describe_execution("fast", "e1"),
        client.stop_execution("fast", "e1"),
        client.list_executions("fast"),
        client.get_execution_history("fast", "e1"),
    ]
    for call in calls:
        error = await rpc_error(call)
        assert (error.status, error.code) == (grpc.StatusCode.FAILED_PRECONDITION, "WrongMode")
        assert "Express flow" in error.message


async def test_wrong_mode_is_reported_without_an_engine_too(cloudflow: Running) -> None:
    await cloudflow.client.create_flow("fast", pass_flow(), mode=ExecutionMode.EXPRESS)
    error = await rpc_error(cloudflow.client.start_execution("fast", {}))
    assert error.status is grpc.StatusCode.FAILED_PRECONDITION
    assert "StartSyncExecution" in error.message


async def test_unknown_flow_is_not_found_before_anything_else(cloudflow: Running) -> None:
    error = await rpc_error(cloudflow.client.start_execution("ghost", {}))
    assert (error.status, error.code) == (grpc.StatusCode.NOT_FOUND, "FlowNotFound")


# -- StartExecution ----------------------------------------------------------------------------


async def test_start_passes_the_current_revision_and_maps_the_execution(
    standard: Running, backend: FakeStandardBackend
) -> None:
    await standard.client.update_flow("orders", definition=pass_flow(3))
    info = await standard.client.start_execution("orders", {"orderId": "A1"}, name="run-1")
    assert backend.last("start_execution") == {
        "flow_name": "orders",
        "revision": 2,
        "definition": pass_flow(3),
        "execution_name": "run-1",
        "input_json": '{"orderId":"A1"}',
    }
    assert info.name == "run-1"
    assert (info.flow_name, info.flow_revision) == ("orders", 2)
    assert info.status is ExecutionStatus.RUNNING
    assert info.input == '{"orderId":"A1"}'
    assert info.started_at == STARTED_AT
    assert (info.output, info.error_code, info.error_message, info.stopped_at) == (
        None,
        None,
        None,
        None,
    )


async def test_start_without_a_name_lets_the_engine_generate_one(
    standard: Running, backend: FakeStandardBackend
) -> None:
    info = await standard.client.start_execution("orders")
    assert backend.last("start_execution")["execution_name"] is None
    assert backend.last("start_execution")["input_json"] == "{}"
    assert info.name.startswith("generated-")


async def test_start_is_idempotent_while_running_and_then_already_exists(
    standard: Running, backend: FakeStandardBackend
) -> None:
    client = standard.client
    first = await client.start_execution("orders", name="once")
    assert await client.start_execution("orders", name="once") == first
    backend.finish("orders", "once", '{"done":true}')
    error = await rpc_error(client.start_execution("orders", name="once"))
    assert (error.status, error.code) == (grpc.StatusCode.ALREADY_EXISTS, "ExecutionAlreadyExists")


async def test_start_rejects_bad_requests_before_the_engine(
    standard: Running, backend: FakeStandardBackend
) -> None:
    client = standard.client
    for call, text in (
        (client.start_execution("orders", "{oops"), "not valid JSON"),
        (client.start_execution("orders", "[1]"), "must be a JSON object"),
        (client.start_execution("orders", name="bad name"), "not a valid name"),
    ):
        error = await rpc_error(call)
        assert error.status is grpc.StatusCode.INVALID_ARGUMENT
        assert text in error.message
    assert not backend.calls


async def test_payload_too_large_from_the_engine(standard: Running) -> None:
    error = await rpc_error(standard.client.start_execution("orders", {"blob": "x" * 2000}))
    assert (error.status, error.code) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "PayloadTooLarge")


# -- DescribeExecution, StopExecution ----------------------------------------------------------


async def test_describe_maps_a_finished_execution(
    standard: Running, backend: FakeStandardBackend
) -> None:
    await standard.client.start_execution("orders", name="e1")
    backend.finish("orders", "e1", '{"total":3}')
    info = await standard.client.describe_execution("orders", "e1", wait_seconds=5)
    assert backend.last("describe_execution") == {
        "flow_name": "orders",
        "execution_name": "e1",
        "wait_seconds": 5.0,
    }
    assert info.status is ExecutionStatus.SUCCEEDED
    assert info.output == '{"total":3}'
    assert info.stopped_at == STARTED_AT + 5


async def test_long_poll_answers_before_the_call_deadline(
    standard: Running, backend: FakeStandardBackend
) -> None:
    await standard.client.start_execution("orders", name="e1")
    async with grpc.aio.insecure_channel(standard.address) as channel:
        stub = cloudflow_pb2_grpc.CloudFlowStub(channel)
        request = pb.DescribeExecutionRequest(
            flow_name="orders", execution_name="e1", wait_time_seconds=60
        )
        await stub.DescribeExecution(request, timeout=5)
    assert 0 < backend.last("describe_execution")["wait_seconds"] < 5


async def test_describe_errors(standard: Running) -> None:
    error = await rpc_error(standard.client.describe_execution("orders", "ghost"))
    assert (error.status, error.code) == (grpc.StatusCode.NOT_FOUND, "ExecutionNotFound")
    error = await rpc_error(standard.client.describe_execution("orders", "e1", wait_seconds=61))
    assert error.status is grpc.StatusCode.INVALID_ARGUMENT
    assert "wait_time_seconds" in error.message
    error = await rpc_error(standard.client.describe_execution("orders", ""))
    assert error.status is grpc.StatusCode.INVALID_ARGUMENT


async def test_stop(standard: Running) -> None:
    await standard.client.start_execution("orders", name="e1")
    info = await standard.client.stop_execution("orders", "e1", error="Cancelled", cause="by ops")
    assert info.status is ExecutionStatus.STOPPED
    assert (info.error_code, info.error_message) == ("Cancelled", "by ops")
    assert info.stopped_at == STARTED_AT + 9
    error = await rpc_error(standard.client.stop_execution("orders", "e1", error="E" * 129))
    assert error.status is grpc.StatusCode.INVALID_ARGUMENT
    error = await rpc_error(standard.client.stop_execution("orders", "e1", cause="c" * 4097))
    assert error.status is grpc.StatusCode.INVALID_ARGUMENT


# -- ListExecutions, GetExecutionHistory -------------------------------------------------------


async def test_list_passes_filters_and_pages(
    standard: Running, backend: FakeStandardBackend
) -> None:
    client = standard.client
    for i in range(5):
        await client.start_execution("orders", name=f"batch-{i}")
    await client.start_execution("orders", name="other")
    await client.stop_execution("orders", "batch-0")
    page, token = await client.list_executions(
        "orders",
        status=ExecutionStatus.RUNNING,
        name_prefix="batch-",
        started_after=STARTED_AT,
        started_before=STARTED_AT + 100,
        page_size=3,
    )
    assert backend.last("list_executions") == {
        "flow_name": "orders",
        "status": ExecutionStatus.RUNNING,
        "name_prefix": "batch-",
        "started_after": STARTED_AT,
        "started_before": STARTED_AT + 100,
        "page_size": 3,
        "page_token": "",
    }
    assert [info.name for info in page] == ["batch-4", "batch-3", "batch-2"]
    rest, token = await client.list_executions(
        "orders",
        status=ExecutionStatus.RUNNING,
        name_prefix="batch-",
        page_size=3,
        page_token=token,
    )
    assert ([info.name for info in rest], token) == (["batch-1"], "")
    await client.list_executions("orders")
    assert backend.last("list_executions")["page_size"] == 60
    assert backend.last("list_executions")["status"] is None
    assert backend.last("list_executions")["started_after"] is None


async def test_list_rejects_a_page_size_over_99(standard: Running) -> None:
    error = await rpc_error(standard.client.list_executions("orders", page_size=100))
    assert error.status is grpc.StatusCode.INVALID_ARGUMENT


async def test_history_maps_events_and_pages(standard: Running) -> None:
    await standard.client.start_execution("orders", name="e1")
    events, token = await standard.client.get_execution_history("orders", "e1", page_size=3)
    assert [e.event_id for e in events] == [1, 2, 3] and token
    more, token = await standard.client.get_execution_history(
        "orders", "e1", page_size=3, page_token=token
    )
    (last,) = more
    assert token == ""
    assert (last.type, last.step_name, last.schedule_event_id) == ("TaskSucceeded", "Charge", 3)
    assert (last.detail, last.time) == ('{"output":1}', STARTED_AT + 3)
    everything = [e async for e in standard.client.iter_history("orders", "e1", page_size=2)]
    assert [e.event_id for e in everything] == [1, 2, 3, 4]
    error = await rpc_error(standard.client.get_execution_history("orders", "e1", page_size=1000))
    assert error.status is grpc.StatusCode.INVALID_ARGUMENT


# -- task reports ------------------------------------------------------------------------------


async def test_task_reports(standard: Running, backend: FakeStandardBackend) -> None:
    client = standard.client
    assert await client.report_task_succeeded(GOOD_TOKEN, {"approved": True}) == 42
    assert backend.last("report_task_succeeded")["output_json"] == '{"approved":true}'
    assert await client.report_task_failed(GOOD_TOKEN, "Rejected", "no budget") == 42
    assert backend.last("report_task_failed") == {
        "task_token": GOOD_TOKEN,
        "error": "Rejected",
        "cause": "no budget",
    }
    assert await client.report_task_heartbeat(GOOD_TOKEN) == 42


async def test_task_report_errors(standard: Running) -> None:
    client = standard.client
    error = await rpc_error(client.report_task_succeeded(DONE_TOKEN, 1))
    assert (error.status, error.code) == (grpc.StatusCode.FAILED_PRECONDITION, "TaskNotWaiting")
    error = await rpc_error(client.report_task_heartbeat("forged"))
    assert (error.status, error.code) == (grpc.StatusCode.INVALID_ARGUMENT, "InvalidArgument")
    for call, text in (
        (client.report_task_succeeded("", 1), "task_token is required"),
        (client.report_task_failed(GOOD_TOKEN, ""), "error is required"),
        (client.report_task_failed(GOOD_TOKEN, "E" * 129), "at most 128"),
        (client.report_task_failed(GOOD_TOKEN, "E", "c" * 4097), "at most 4096"),
    ):
        error = await rpc_error(call)
        assert error.status is grpc.StatusCode.INVALID_ARGUMENT
        assert text in error.message


async def test_report_output_must_be_json(standard: Running) -> None:
    async with grpc.aio.insecure_channel(standard.address) as channel:
        stub = cloudflow_pb2_grpc.CloudFlowStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.ReportTaskSucceeded(
                pb.ReportTaskSucceededRequest(task_token=GOOD_TOKEN, output="{not json")
            )
    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT


# -- unexpected failures -----------------------------------------------------------------------


async def test_an_unexpected_exception_is_internal_and_logged_not_leaked(
    standard: Running, backend: FakeStandardBackend, caplog: pytest.LogCaptureFixture
) -> None:
    backend.fail_with = RuntimeError("secret path /var/lib/engine.db is corrupt")
    with caplog.at_level(logging.ERROR, logger="cloudflow.gateway"):
        error = await rpc_error(standard.client.start_execution("orders"))
    assert error.status is grpc.StatusCode.INTERNAL
    assert "secret" not in error.message
    incident = error.message.split("incident ")[1].split(")")[0]
    (record,) = caplog.records
    assert incident in record.getMessage()
    assert record.exc_info is not None and "secret path" in str(record.exc_info[1])
