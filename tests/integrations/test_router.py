"""IntegrationRouter: dispatch on the Task's action."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.integrations import (
    FC_INVOKE_FUNCTION,
    HTTP_REQUEST,
    FunctionInvoker,
    FunctionRegistry,
    HttpInvoker,
    IntegrationRouter,
)
from shared.errors import TASK_FAILED, FlowFailure
from shared.ports import TaskInvoker, TaskRequest
from tests.integrations.echo_server import EchoServer


def functions() -> FunctionInvoker:
    registry = FunctionRegistry()
    registry.register("echo", lambda event: event)
    return FunctionInvoker(registry)


async def test_routes_each_action_to_its_integration() -> None:
    router = IntegrationRouter(functions=functions(), http=HttpInvoker(trust_env=False))
    port: TaskInvoker = router  # What the engines see: checked by mypy.

    with EchoServer() as server:
        fc = await port.invoke(
            TaskRequest(FC_INVOKE_FUNCTION, {"functionName": "echo", "body": [1]})
        )
        http = await port.invoke(TaskRequest(HTTP_REQUEST, {"url": server.url("/text")}))
    await router.aclose()

    assert fc == {"Body": [1]}
    assert http["Body"] == "hello, world"
    assert router.actions == {FC_INVOKE_FUNCTION, HTTP_REQUEST}


@pytest.mark.parametrize(
    ("action", "parameters"),
    [
        (HTTP_REQUEST, {"url": "http://127.0.0.1:9/"}),
        ("FNF:StartExecution", {"flowName": "child"}),
        ("ECS:DescribeInstances", {}),
    ],
)
async def test_an_action_without_an_integration_is_task_failed(
    action: str, parameters: dict[str, Any]
) -> None:
    router = IntegrationRouter(functions=functions())

    with pytest.raises(FlowFailure) as caught:
        await router.invoke(TaskRequest(action, parameters))

    assert caught.value.error.code == TASK_FAILED
    assert repr(action) in caught.value.error.cause
    assert FC_INVOKE_FUNCTION in caught.value.error.cause
    await router.aclose()  # Nothing to close: must not fail.


async def test_a_router_with_nothing_configured_says_so() -> None:
    router = IntegrationRouter()

    with pytest.raises(FlowFailure, match="configured: none"):
        await router.invoke(TaskRequest(FC_INVOKE_FUNCTION, {"functionName": "x"}))
