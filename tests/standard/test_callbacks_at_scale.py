"""1,000 executions waiting for custom callbacks, reported concurrently in random order; and the
callback token sent to an HTTP service in ``X-FnF-Http-Callback-Task-Token``."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from typing import ClassVar

import pytest

from gateway.integrations import FunctionInvoker, FunctionRegistry, HttpInvoker, IntegrationRouter
from shared.results import ExecutionStatus
from standard_engine import StandardEngine

FLOW = """
Type: StateMachine
Name: approvals
SpecVersion: v1
StartAt: Ask
States:
  - Type: Task
    Name: Ask
    Action: FC:InvokeFunction
    TaskMode: WaitForCustomCallback
    Parameters:
      functionName: notify
      body:
        id.$: $Input.id
        token.$: $Context.Current.TaskToken
    OutputConstructor:
      id.$: $Input.id
      approvedBy.$: $Output.by
    End: true
"""

HTTP_FLOW = """
Type: StateMachine
Name: webhook
SpecVersion: v1
StartAt: Call
States:
  - Type: Task
    Name: Call
    Action: HTTP:Request
    TaskMode: WaitForCustomCallback
    Parameters:
      url.$: $Input.url
      method: POST
      body:
        order.$: $Input.order
    End: true
"""


async def test_a_thousand_callbacks_reported_in_random_order(tmp_path: Path) -> None:
    tokens: dict[str, str] = {}
    everyone = asyncio.Event()
    registry = FunctionRegistry()

    async def notify(event: dict[str, str]) -> dict[str, bool]:
        tokens[event["id"]] = event["token"]
        if len(tokens) == 1000:
            everyone.set()
        return {"sent": True}

    registry.register("notify", notify)
    engine = await StandardEngine.open(
        tmp_path / "scale.db", IntegrationRouter(functions=FunctionInvoker(registry))
    )
    try:
        for i in range(1000):
            await engine.start_execution("approvals", 1, FLOW, f"a{i}", json.dumps({"id": f"a{i}"}))
        await asyncio.wait_for(everyone.wait(), 60)
        order = list(tokens.items())
        random.Random(7).shuffle(order)
        event_ids = await asyncio.gather(
            *(
                engine.report_task_succeeded(token, json.dumps({"by": f"user-{ident}"}))
                for ident, token in order
            )
        )
        assert all(event_id > 0 for event_id in event_ids)
        for i in range(1000):
            info = await engine.describe_execution("approvals", f"a{i}", wait_seconds=10)
            assert info.status is ExecutionStatus.SUCCEEDED
            assert json.loads(info.output or "null") == {"id": f"a{i}", "approvedBy": f"user-a{i}"}
    finally:
        await engine.close()


class _Hook(BaseHTTPRequestHandler):
    seen: ClassVar[list[tuple[str, dict[str, object]]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Hook.seen.append((self.headers["X-FnF-Http-Callback-Task-Token"], body))
        self.send_response(202)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"queued": true}')

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    thread = Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


async def test_http_callback_sends_the_token_in_its_header(tmp_path: Path, webhook: str) -> None:
    _Hook.seen.clear()
    http = HttpInvoker(trust_env=False)
    engine = await StandardEngine.open(tmp_path / "http.db", IntegrationRouter(http=http))
    try:
        await engine.start_execution(
            "webhook", 1, HTTP_FLOW, "w1", json.dumps({"url": webhook, "order": "A1"})
        )
        async with asyncio.timeout(10):
            while not _Hook.seen:
                await asyncio.sleep(0.01)
        token, body = _Hook.seen[0]
        assert body == {"order": "A1"} and token.startswith("t1.")
        await engine.report_task_succeeded(token, json.dumps({"shipped": True}))
        info = await engine.describe_execution("webhook", "w1", wait_seconds=10)
        assert info.status is ExecutionStatus.SUCCEEDED
        assert json.loads(info.output or "null") == {"shipped": True}
    finally:
        await engine.close()
        await http.aclose()
