"""Bearer-token auth, grpc.health.v1 health checking, server reflection and TLS."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from gateway.client import CloudFlowClient
from gateway.server import SERVICE_NAME
from shared.plan import ExecutionMode
from tests.gateway.conftest import Gate, Running, StartServer, pass_flow, rpc_error, task_flow

TOKEN = "s3cret-token"


async def health_status(address: str, service: str = "", **kwargs: object) -> int:
    async with grpc.aio.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        response = await stub.Check(health_pb2.HealthCheckRequest(service=service), **kwargs)
    return int(response.status)


async def list_services(
    channel: grpc.aio.Channel, metadata: tuple[tuple[str, str], ...] = ()
) -> list[str]:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    request = reflection_pb2.ServerReflectionRequest(list_services="")
    responses = [r async for r in stub.ServerReflectionInfo(iter([request]), metadata=metadata)]
    return [s.name for s in responses[0].list_services_response.service]


# -- auth --------------------------------------------------------------------------------------


@pytest.fixture
async def guarded(start_server: StartServer) -> Running:
    return await start_server(token=TOKEN)


async def test_calls_without_the_token_are_unauthenticated(guarded: Running) -> None:
    async with CloudFlowClient(guarded.address) as anonymous:
        error = await rpc_error(anonymous.list_flows())
    assert (error.status, error.code) == (grpc.StatusCode.UNAUTHENTICATED, "Unauthenticated")
    assert "authorization: Bearer <token>" in error.message


async def test_calls_with_a_wrong_token_are_unauthenticated(guarded: Running) -> None:
    async with CloudFlowClient(guarded.address, token="guess") as intruder:
        error = await rpc_error(intruder.start_sync_execution("orders"))
    assert error.status is grpc.StatusCode.UNAUTHENTICATED
    assert "not valid" in error.message


async def test_calls_with_the_token_succeed(guarded: Running) -> None:
    flow = await guarded.client.create_flow("orders", pass_flow(), mode=ExecutionMode.EXPRESS)
    assert flow.revision == 1
    assert (await guarded.client.start_sync_execution("orders")).output["step"] == 4


async def test_health_checks_need_no_token(guarded: Running) -> None:
    assert await health_status(guarded.address) == health_pb2.HealthCheckResponse.SERVING


async def test_reflection_needs_the_token(guarded: Running) -> None:
    async with grpc.aio.insecure_channel(guarded.address) as channel:
        # Read the refused stream's status without writing to it: a write racing the refusal
        # fails on the client's side with a status of its own, not the server's.
        refused = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo()
        assert await refused.code() is grpc.StatusCode.UNAUTHENTICATED
        assert "bearer token" in await refused.details()
        services = await list_services(channel, (("authorization", f"Bearer {TOKEN}"),))
    assert SERVICE_NAME in services


# -- health and reflection ---------------------------------------------------------------------


async def test_health_reports_serving_for_the_server_and_the_service(cloudflow: Running) -> None:
    serving = health_pb2.HealthCheckResponse.SERVING
    assert await health_status(cloudflow.address) == serving
    assert await health_status(cloudflow.address, SERVICE_NAME) == serving
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await health_status(cloudflow.address, "no.such.Service")
    assert raised.value.code() is grpc.StatusCode.NOT_FOUND


async def test_reflection_lists_the_services_and_describes_the_api(cloudflow: Running) -> None:
    async with grpc.aio.insecure_channel(cloudflow.address) as channel:
        services = await list_services(channel)
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(file_containing_symbol=SERVICE_NAME)
        (response,) = [r async for r in stub.ServerReflectionInfo(iter([request]))]
    assert set(services) == {
        "cloudflow.v1.CloudFlow",
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
    }
    # What grpcurl needs to call the API without the .proto files.
    assert response.file_descriptor_response.file_descriptor_proto


async def test_drain_reports_not_serving_and_finishes_calls_in_flight(
    start_server: StartServer,
) -> None:
    running = await start_server()
    gate = Gate()
    running.functions.register("gate", gate)
    await running.client.create_flow("slow", task_flow(), mode=ExecutionMode.EXPRESS)
    async with grpc.aio.insecure_channel(running.address) as channel:
        # A load balancer watches health on a stream opened before the drain.
        watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest())
        assert (await watch.read()).status == health_pb2.HealthCheckResponse.SERVING
        in_flight = asyncio.create_task(running.client.start_sync_execution("slow", {"n": 1}))
        await gate.started.wait()
        draining = asyncio.create_task(running.server.stop(30))
        assert (await watch.read()).status == health_pb2.HealthCheckResponse.NOT_SERVING
        # ...and then the stream ends, so that it does not hold the drain for the grace period.
        assert await watch.read() is grpc.aio.EOF
        assert not in_flight.done()
        gate.release.set()
        assert (await in_flight).output == {"Body": {"n": 1}}
        await draining


# -- TLS ---------------------------------------------------------------------------------------


def self_signed(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    return cert, key


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl to make a certificate")
async def test_tls(start_server: StartServer, tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    running = await start_server(tls_cert=cert, tls_key=key, token=TOKEN)
    async with CloudFlowClient(
        running.address, TOKEN, root_certificates=cert.read_bytes(), timeout=10
    ) as client:
        await client.create_flow("orders", pass_flow(), mode=ExecutionMode.EXPRESS)
        assert (await client.start_sync_execution("orders")).output["step"] == 4
    async with CloudFlowClient(running.address, TOKEN, timeout=2) as plaintext:
        error = await rpc_error(plaintext.list_flows())
    assert error.status is grpc.StatusCode.UNAVAILABLE


async def test_further_services_are_served_listed_and_healthy(start_server: StartServer) -> None:
    from gateway.api import worker_pb2_grpc

    def task_worker(server: object) -> str:
        worker_pb2_grpc.add_TaskWorkerServicer_to_server(
            worker_pb2_grpc.TaskWorkerServicer(), server
        )
        return "cloudflow.v1.TaskWorker"

    running = await start_server(services=[task_worker])
    async with grpc.aio.insecure_channel(running.address) as channel:
        assert "cloudflow.v1.TaskWorker" in await list_services(channel)
    status = await health_status(running.address, "cloudflow.v1.TaskWorker")
    assert status == health_pb2.HealthCheckResponse.SERVING
