"""Workers over a real gRPC stream: delivery, errors, leases, re-delivery when a worker dies."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from gateway.api import worker_pb2_grpc
from gateway.integrations import FunctionError
from gateway.worker_sdk import Worker
from gateway.workers import TaskWorkerServicer, WorkerHub, WorkerInvoker
from shared.errors import FlowFailure
from shared.ports import TaskRequest

REPO = Path(__file__).resolve().parents[2]


def request(function: str, body: Any, **extra: Any) -> TaskRequest:
    return TaskRequest(
        action="FC:InvokeFunction", parameters={"functionName": function, "body": body}, **extra
    )


@pytest.fixture
async def hub_server() -> AsyncIterator[tuple[WorkerHub, str]]:
    hub = WorkerHub(heartbeat_interval=0.5)
    server = grpc.aio.server()
    worker_pb2_grpc.add_TaskWorkerServicer_to_server(TaskWorkerServicer(hub), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    leases = asyncio.create_task(hub.expire_leases())
    yield hub, f"127.0.0.1:{port}"
    leases.cancel()
    await server.stop(0)


async def start_worker(worker: Worker) -> asyncio.Task[None]:
    task = asyncio.create_task(worker.run())
    await asyncio.wait_for(worker.wait_connected(), 10)
    return task


async def test_express_needs_a_connected_worker_and_standard_waits_for_one(
    hub_server: tuple[WorkerHub, str],
) -> None:
    hub, target = hub_server
    with pytest.raises(FlowFailure) as missing:
        await WorkerInvoker(hub, wait_for_worker=False).invoke(request("double", {"v": 1}))
    assert missing.value.error.code == "FC.FunctionNotFound"

    waiting = asyncio.create_task(
        WorkerInvoker(hub, wait_for_worker=True).invoke(request("double", {"v": 21}))
    )
    await asyncio.sleep(0.05)
    assert not waiting.done() and hub.queue_depth == 1
    worker = Worker(target, worker_id="late")

    @worker.function("double")
    async def double(event: dict[str, int]) -> dict[str, int]:
        return {"v": event["v"] * 2}

    runner = await start_worker(worker)
    assert await asyncio.wait_for(waiting, 10) == {"Body": {"v": 42}}
    await worker.stop()
    await runner


async def test_named_errors_pass_through_and_others_are_fc_unknown(
    hub_server: tuple[WorkerHub, str],
) -> None:
    hub, target = hub_server
    worker = Worker(target)

    @worker.function("charge")
    def charge(event: dict[str, int]) -> dict[str, str]:  # a plain function: runs in a thread
        if event["amount"] > 100:
            raise FunctionError("CardDeclined", "over the limit")
        if event["amount"] < 0:
            raise ValueError("negative")
        return {"chargeId": "c-1"}

    runner = await start_worker(worker)
    invoker = WorkerInvoker(hub, wait_for_worker=False)
    assert await invoker.invoke(request("charge", {"amount": 5})) == {"Body": {"chargeId": "c-1"}}
    with pytest.raises(FlowFailure) as declined:
        await invoker.invoke(request("charge", {"amount": 500}))
    assert (declined.value.error.code, declined.value.error.cause) == (
        "CardDeclined",
        "over the limit",
    )
    with pytest.raises(FlowFailure) as unknown:
        await invoker.invoke(request("charge", {"amount": -1}))
    assert unknown.value.error.code == "FC.Unknown" and "negative" in unknown.value.error.cause
    await worker.stop()
    await runner


async def test_concurrency_limit_and_cancellation(hub_server: tuple[WorkerHub, str]) -> None:
    hub, target = hub_server
    worker = Worker(target, max_concurrency=2)
    active, peak, cancelled = 0, 0, 0
    release = asyncio.Event()

    @worker.function("slow")
    async def slow(event: object) -> object:
        nonlocal active, peak, cancelled
        active += 1
        peak = max(peak, active)
        try:
            await release.wait()
        except asyncio.CancelledError:
            cancelled += 1
            raise
        finally:
            active -= 1
        return event

    runner = await start_worker(worker)
    invoker = WorkerInvoker(hub, wait_for_worker=True)
    calls = [asyncio.create_task(invoker.invoke(request("slow", {"i": i}))) for i in range(6)]
    while active < 2:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)
    assert peak == 2 and hub.queue_depth == 4
    calls[0].cancel()  # e.g. the task timed out: the worker's handler is cancelled
    while cancelled < 1:
        await asyncio.sleep(0.01)
    release.set()
    results = await asyncio.gather(*calls[1:])
    assert [r["Body"]["i"] for r in results] == [1, 2, 3, 4, 5]
    assert peak == 2
    await worker.stop()
    await runner


async def test_heartbeats_are_passed_on_for_tokens(hub_server: tuple[WorkerHub, str]) -> None:
    hub, target = hub_server
    beats: list[str] = []

    async def sink(token: str) -> None:
        beats.append(token)

    hub.set_heartbeat_sink(sink)
    worker = Worker(target)

    @worker.function("slow")
    async def slow(event: object) -> object:
        await asyncio.sleep(1.0)
        return event

    runner = await start_worker(worker)
    result = await WorkerInvoker(hub, wait_for_worker=True).invoke(
        request("slow", {}, task_token="tok-1")
    )
    assert result == {"Body": {}}
    assert beats and set(beats) == {"tok-1"}
    await worker.stop()
    await runner


async def test_a_killed_worker_process_has_its_invocation_redelivered(
    hub_server: tuple[WorkerHub, str],
) -> None:
    hub, target = hub_server
    doomed = subprocess.Popen(
        [sys.executable, "-m", "tests.workers.worker_process", target, "doomed"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert doomed.stdout is not None
        assert (await asyncio.to_thread(doomed.stdout.readline)).strip() == "connected"
        call = asyncio.create_task(
            WorkerInvoker(hub, wait_for_worker=True).invoke(request("hang", {"n": 1}))
        )
        assert (await asyncio.to_thread(doomed.stdout.readline)).startswith("hanging")
        doomed.send_signal(signal.SIGKILL)
        doomed.wait()
        # A healthy worker serving the same function connects; the invocation goes to it.
        survivor = Worker(target, worker_id="survivor")

        @survivor.function("hang")
        async def hang(event: dict[str, int]) -> dict[str, int]:
            return {"rescued": event["n"]}

        runner = await start_worker(survivor)
        assert await asyncio.wait_for(call, 10) == {"Body": {"rescued": 1}}
        assert hub.deliveries == 2
        await survivor.stop()
        await runner
    finally:
        if doomed.poll() is None:
            doomed.kill()
