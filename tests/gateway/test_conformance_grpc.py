"""The express conformance cases again, end to end: CreateFlow, then StartSyncExecution over gRPC."""

from __future__ import annotations

import json
import re
from typing import Any

import grpc
import pytest

from gateway.api import cloudflow_pb2 as pb
from gateway.api import cloudflow_pb2_grpc
from gateway.config import ServerConfig
from gateway.integrations import FunctionInvoker, IntegrationRouter
from gateway.server import CloudFlowServer
from tests.conformance.cases import Case
from tests.conformance.scripted import ScriptedFunctions
from tests.conformance.test_express_cases import CASES, check_result


def summary(response: pb.StartSyncExecutionResponse) -> dict[str, Any]:
    """The response in the shape of ExecutionResult.summary(), which check_result compares."""
    succeeded = response.status == pb.EXECUTION_STATUS_SUCCEEDED
    return {
        "Name": response.name,
        "Status": {
            pb.EXECUTION_STATUS_SUCCEEDED: "Succeeded",
            pb.EXECUTION_STATUS_FAILED: "Failed",
            pb.EXECUTION_STATUS_TIMED_OUT: "TimedOut",
        }[response.status],
        "Output": json.loads(response.output) if succeeded else None,
        "ErrorCode": response.error_code or None,
        "ErrorMessage": response.error_message or None,
    }


class SwappableFunctions:
    """A TaskInvoker whose functions the test replaces for each run (fresh call counters)."""

    def __init__(self) -> None:
        self.current = IntegrationRouter()

    async def invoke(self, request: Any) -> Any:
        return await self.current.invoke(request)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_case_over_grpc(case: Case, tmp_path: Any) -> None:
    invoker = SwappableFunctions()
    server = await CloudFlowServer.start(
        ServerConfig(port=0, db_path=tmp_path / "cloudflow.db"), invoker=invoker
    )
    flow_name = re.sub(r"[^A-Za-z0-9_-]", "-", case.id)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub = cloudflow_pb2_grpc.CloudFlowStub(channel)
            await stub.CreateFlow(
                pb.CreateFlowRequest(
                    name=flow_name,
                    definition=case.definition,
                    execution_mode=pb.EXECUTION_MODE_EXPRESS,
                )
            )
            for index, run in enumerate(case.runs):
                functions = ScriptedFunctions(case.functions)
                invoker.current = IntegrationRouter(functions=FunctionInvoker(functions.registry()))
                response = await stub.StartSyncExecution(
                    pb.StartSyncExecutionRequest(flow_name=flow_name, input=json.dumps(run.input)),
                    timeout=60,
                )
                check_result(case, index, summary(response), dict(functions.calls), run.calls)
    finally:
        await server.stop(None)
