"""StartSyncExecution over gRPC: results, every error path, deadlines and cancellation."""

from __future__ import annotations

import asyncio
import re
import time

import grpc

from gateway.api import cloudflow_pb2 as pb
from gateway.api import cloudflow_pb2_grpc
from shared.plan import ExecutionMode
from shared.results import ExecutionStatus
from tests.gateway.conftest import (
    FAIL_FLOW,
    Gate,
    Running,
    StartServer,
    pass_flow,
    rpc_error,
    task_flow,
)

EXPRESS = ExecutionMode.EXPRESS
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}"


async def test_a_succeeded_execution(cloudflow: Running) -> None:
    await cloudflow.client.create_flow("orders", pass_flow(), mode=EXPRESS)
    before = time.time()
    result = await cloudflow.client.start_sync_execution(
        "orders", {"id": 12345678901234567890, "n": 1}, name="nightly"
    )
    assert result.status is ExecutionStatus.SUCCEEDED
    # Integers survive the trip exactly: payloads are JSON text, never google.protobuf.Struct.
    assert result.output == {"step": 4, "input": {"id": 12345678901234567890, "n": 1}}
    assert re.fullmatch(f"nightly:{UUID}", result.name)
    assert result.flow_name == "orders"
    assert result.error is None
    assert before - 1 <= result.started_at <= result.stopped_at <= time.time() + 1


async def test_names_are_unique_and_generated_when_omitted(cloudflow: Running) -> None:
    await cloudflow.client.create_flow("orders", pass_flow(), mode=EXPRESS)
    first = await cloudflow.client.start_sync_execution("orders", name="same")
    second = await cloudflow.client.start_sync_execution("orders", name="same")
    assert first.name != second.name
    generated = await cloudflow.client.start_sync_execution("orders")
    assert re.fullmatch(f"orders:{UUID}", generated.name)


async def test_a_failed_execution_is_a_successful_call(cloudflow: Running) -> None:
    await cloudflow.client.create_flow("strict", FAIL_FLOW, mode=EXPRESS)
    async with grpc.aio.insecure_channel(cloudflow.address) as channel:
        stub = cloudflow_pb2_grpc.CloudFlowStub(channel)
        response = await stub.StartSyncExecution(pb.StartSyncExecutionRequest(flow_name="strict"))
    assert response.status == pb.EXECUTION_STATUS_FAILED
    assert (response.error_code, response.error_message) == (
        "Order.Invalid",
        "the order has no items",
    )
    assert response.output == ""
    assert response.HasField("started_time") and response.HasField("stopped_time")


async def test_unknown_flow_is_not_found(cloudflow: Running) -> None:
    error = await rpc_error(cloudflow.client.start_sync_execution("ghost"))
    assert (error.status, error.code) == (grpc.StatusCode.NOT_FOUND, "FlowNotFound")
    assert "ghost" in error.message


async def test_missing_flow_name_is_invalid(cloudflow: Running) -> None:
    error = await rpc_error(cloudflow.client.start_sync_execution(""))
    assert error.status is grpc.StatusCode.INVALID_ARGUMENT
    assert "flow_name is required" in error.message


async def test_bad_input_json_is_invalid(cloudflow: Running) -> None:
    await cloudflow.client.create_flow("orders", pass_flow(), mode=EXPRESS)
    error = await rpc_error(cloudflow.client.start_sync_execution("orders", '{"a": '))
    assert error.status is grpc.StatusCode.INVALID_ARGUMENT
    assert "the execution input is not valid JSON" in error.message


async def test_input_that_is_not_an_object_is_invalid(cloudflow: Running) -> None:
    await cloudflow.client.create_flow("orders", pass_flow(), mode=EXPRESS)
    for text, kind in (("[1, 2]", "an array"), ('"text"', "a string"), ("null", "null")):
        error = await rpc_error(cloudflow.client.start_sync_execution("orders", text))
        assert error.status is grpc.StatusCode.INVALID_ARGUMENT
        assert f"must be a JSON object, not {kind}" in error.message


async def test_bad_execution_name_is_invalid(cloudflow: Running) -> None:
    await cloudflow.client.create_flow("orders", pass_flow(), mode=EXPRESS)
    error = await rpc_error(cloudflow.client.start_sync_execution("orders", name="9 lives"))
    assert error.status is grpc.StatusCode.INVALID_ARGUMENT
    assert "execution name" in error.message


async def test_input_over_the_payload_limit_is_resource_exhausted(cloudflow: Running) -> None:
    await cloudflow.client.create_flow("orders", pass_flow(), mode=EXPRESS)
    big = {"blob": "x" * (64 * 1024)}
    error = await rpc_error(cloudflow.client.start_sync_execution("orders", big))
    assert (error.status, error.code) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "PayloadTooLarge")
    assert "over the limit of 65536 bytes" in error.message


async def test_request_over_the_request_limit_is_resource_exhausted(cloudflow: Running) -> None:
    await cloudflow.client.create_flow("orders", pass_flow(), mode=EXPRESS)
    huge = {"blob": "x" * (1024 * 1024 + 1)}
    error = await rpc_error(cloudflow.client.start_sync_execution("orders", huge))
    assert error.status is grpc.StatusCode.RESOURCE_EXHAUSTED
    # The server is still fine afterwards.
    assert (await cloudflow.client.start_sync_execution("orders")).status.finished


async def test_standard_flow_is_the_wrong_mode(cloudflow: Running) -> None:
    await cloudflow.client.create_flow("durable", pass_flow(), mode=ExecutionMode.STANDARD)
    error = await rpc_error(cloudflow.client.start_sync_execution("durable"))
    assert (error.status, error.code) == (grpc.StatusCode.FAILED_PRECONDITION, "WrongMode")
    assert "StartExecution" in error.message


async def test_deadline_exceeded_cancels_the_execution(cloudflow: Running) -> None:
    gate = Gate()
    cloudflow.functions.register("gate", gate)
    await cloudflow.client.create_flow("slow", task_flow(), mode=EXPRESS)
    error = await rpc_error(cloudflow.client.start_sync_execution("slow", timeout=0.5))
    assert error.status is grpc.StatusCode.DEADLINE_EXCEEDED
    await gate.cancelled.wait()  # the Task (and so the execution) was cancelled, not left running


async def test_client_cancellation_cancels_the_execution(cloudflow: Running) -> None:
    gate = Gate()
    cloudflow.functions.register("gate", gate)
    await cloudflow.client.create_flow("slow", task_flow(), mode=EXPRESS)
    call = asyncio.create_task(cloudflow.client.start_sync_execution("slow"))
    await gate.started.wait()
    call.cancel()
    await gate.cancelled.wait()


async def test_overloaded_engine_is_resource_exhausted(start_server: StartServer) -> None:
    running = await start_server(max_running_express=1)
    gate = Gate()
    running.functions.register("gate", gate)
    await running.client.create_flow("slow", task_flow(), mode=EXPRESS)
    first = asyncio.create_task(running.client.start_sync_execution("slow", {"n": 1}))
    await gate.started.wait()
    error = await rpc_error(running.client.start_sync_execution("slow"))
    assert (error.status, error.code) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "Overloaded")
    assert "retry later" in error.message
    gate.release.set()
    assert (await first).output == {"Body": {"n": 1}}


async def test_many_concurrent_calls(cloudflow: Running) -> None:
    await cloudflow.client.create_flow("orders", pass_flow(), mode=EXPRESS)
    results = await asyncio.gather(
        *(cloudflow.client.start_sync_execution("orders", {"i": i}) for i in range(200))
    )
    assert [r.output["input"]["i"] for r in results] == list(range(200))
    assert len({r.name for r in results}) == 200
