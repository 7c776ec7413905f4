"""``cloudflow serve`` as a real process: its stdout contract, graceful drain and tracing."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway.api import cloudflow_pb2 as pb
from gateway.api import cloudflow_pb2_grpc
from gateway.client import CloudFlowClient
from shared.plan import ExecutionMode
from shared.results import ExecutionStatus
from tests.gateway.conftest import pass_flow, task_flow

REPO = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 30


@asynccontextmanager
async def serve(
    tmp_path: Path, *args: str
) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    """Start ``cloudflow serve --port 0`` and yield it with the address from its first line."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("CLOUDFLOW_TOKEN", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway.cli", "serve", "--port", "0", "--console-port", "0",
        "--db", str(tmp_path / "cloudflow.db"), *args,
        cwd=REPO, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        first = (await asyncio.wait_for(process.stdout.readline(), STARTUP_SECONDS)).decode()
        assert first.startswith("listening on 127.0.0.1:"), first
        yield process, first.split()[-1]
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def until(condition: Callable[[], Awaitable[bool]], seconds: float = 20) -> None:
    """Wait for a condition that only polling can observe (it lives in another process)."""
    async with asyncio.timeout(seconds):
        while not await condition():
            await asyncio.sleep(0.02)


async def test_sigterm_drains_an_in_flight_call_then_exits_0(tmp_path: Path) -> None:
    started, release = tmp_path / "started", tmp_path / "release"
    async with serve(
        tmp_path, "--functions", "tests.gateway.drain_functions", "--grace-seconds", "30"
    ) as (process, address):
        async with CloudFlowClient(address, timeout=60) as client:
            await client.create_flow("hold", task_flow("hold"), mode=ExecutionMode.EXPRESS)
            in_flight = asyncio.create_task(
                client.start_sync_execution(
                    "hold", {"started": str(started), "release": str(release)}
                )
            )

            async def call_started() -> bool:
                return started.exists()

            await until(call_started)
            process.send_signal(signal.SIGTERM)

            async def not_serving() -> bool:
                async with grpc.aio.insecure_channel(address) as channel:
                    stub = health_pb2_grpc.HealthStub(channel)
                    try:
                        response = await stub.Check(health_pb2.HealthCheckRequest(), timeout=2)
                    except grpc.aio.AioRpcError:
                        return True  # already refusing new calls
                return bool(response.status == health_pb2.HealthCheckResponse.NOT_SERVING)

            await until(not_serving)
            assert not in_flight.done()
            release.touch()
            result = await in_flight
        assert result.status is ExecutionStatus.SUCCEEDED
        assert result.output == {"Body": {"released": True}}
        assert await asyncio.wait_for(process.wait(), 30) == 0
        assert process.stderr is not None
        log = (await process.stderr.read()).decode()
        assert "draining" in log


async def test_trace_context_flows_into_the_engine_spans(tmp_path: Path) -> None:
    trace_id, parent_id = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    async with serve(tmp_path, "--telemetry", "console") as (process, address):
        async with grpc.aio.insecure_channel(address) as channel:
            stub = cloudflow_pb2_grpc.CloudFlowStub(channel)
            await stub.CreateFlow(
                pb.CreateFlowRequest(
                    name="traced", definition=pass_flow(2), execution_mode=pb.EXECUTION_MODE_EXPRESS
                )
            )
            metadata = (("traceparent", f"00-{trace_id}-{parent_id}-01"),)
            await stub.StartSyncExecution(
                pb.StartSyncExecutionRequest(flow_name="traced"), metadata=metadata
            )
        process.send_signal(signal.SIGTERM)
        assert process.stdout is not None
        out = (await process.stdout.read()).decode()
        assert await process.wait() == 0
    spans = {span["name"]: span for span in console_spans(out)}
    server = spans["cloudflow.v1.CloudFlow/StartSyncExecution"]
    execution = spans["cloudflow.execution"]
    assert server["context"]["trace_id"] == f"0x{trace_id}"
    assert server["parent_id"] == f"0x{parent_id}"
    assert server["kind"] == "SpanKind.SERVER"
    assert server["attributes"]["rpc.grpc.status_code"] == 0
    assert execution["context"]["trace_id"] == f"0x{trace_id}"
    assert execution["parent_id"] == server["context"]["span_id"]
    assert spans["cloudflow.state P0"]["parent_id"] == execution["context"]["span_id"]


def console_spans(text: str) -> list[dict[str, Any]]:
    """The JSON objects the console exporter printed, one after another."""
    decoder = json.JSONDecoder()
    spans, position = [], 0
    while (start := text.find("{", position)) != -1:
        span, position = decoder.raw_decode(text, start)
        spans.append(span)
    return spans


async def test_serve_hosts_the_console_and_its_metrics_beside_grpc(tmp_path: Path) -> None:
    import httpx

    async with serve(tmp_path) as (process, address):
        assert process.stdout is not None
        second = (
            (await asyncio.wait_for(process.stdout.readline(), STARTUP_SECONDS)).decode().strip()
        )
        assert second.startswith("console on http://127.0.0.1:"), second
        console = second.split()[-1]
        async with CloudFlowClient(address, timeout=30) as client:
            await client.create_flow("metered", pass_flow(3), mode=ExecutionMode.EXPRESS)
            await client.start_sync_execution("metered", {})
            await client.create_flow("durable", pass_flow(3), mode=ExecutionMode.STANDARD)
            started = await client.start_execution("durable", {}, name="d1")
            await client.describe_execution("durable", started.name, wait_seconds=10)
        async with httpx.AsyncClient(base_url=console, trust_env=False) as http:
            page = await http.get("/")
            assert page.status_code == 200 and "CloudFlow" in page.text
            flows = await http.get("/api/flows")
            assert {f["name"] for f in flows.json()["flows"]} >= {"metered", "durable"}
            metrics = (await http.get("/metrics")).text
        assert (
            'cloudflow_executions_started_total{cloudflow_execution_mode="Express",cloudflow_flow_name="metered"} 1'
            in metrics
            or (
                "cloudflow_executions_started" in metrics
                and 'cloudflow_flow_name="metered"' in metrics
            )
        )
        assert 'cloudflow_flow_name="durable"' in metrics
        assert "cloudflow_executions_running" in metrics
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0
