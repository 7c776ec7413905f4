"""CreateFlow, UpdateFlow, DescribeFlow, ListFlows and DeleteFlow over gRPC, with their errors."""

from __future__ import annotations

import asyncio
import time

import grpc

from gateway.flows import Flow
from shared.plan import ExecutionMode
from tests.gateway.conftest import Gate, Running, StartServer, pass_flow, rpc_error, task_flow

EXPRESS = ExecutionMode.EXPRESS
STANDARD = ExecutionMode.STANDARD

TWO_PROBLEMS = """\
Type: StateMachine
SpecVersion: v1
StartAt: First
States:
  - Type: Pass
    Name: First
    Next: Nowhere
  - Type: Wait
    Name: Pause
    Seconds: -1
    End: true
"""

CALLBACK_TASK = """\
Type: StateMachine
SpecVersion: v1
StartAt: Ask
States:
  - Type: Task
    Name: Ask
    Action: FC:InvokeFunction
    TaskMode: WaitForCustomCallback
    Parameters:
      functionName: approve
    End: true
"""


async def test_create_then_describe_returns_the_stored_flow(cloudflow: Running) -> None:
    before = time.time()
    created = await cloudflow.client.create_flow(
        "orders", pass_flow(), mode=EXPRESS, description="order pipeline"
    )
    described = await cloudflow.client.describe_flow("orders")
    assert created == described
    assert described.name == "orders"
    assert described.definition == pass_flow()
    assert described.description == "order pipeline"
    assert described.mode is EXPRESS
    assert described.revision == 1
    assert before - 1 <= described.created_at == described.modified_at <= time.time() + 1


async def test_mode_unspecified_means_standard(cloudflow: Running) -> None:
    from gateway.api import cloudflow_pb2 as pb
    from gateway.api import cloudflow_pb2_grpc

    async with grpc.aio.insecure_channel(cloudflow.address) as channel:
        stub = cloudflow_pb2_grpc.CloudFlowStub(channel)
        response = await stub.CreateFlow(pb.CreateFlowRequest(name="plain", definition=pass_flow()))
    assert response.flow.execution_mode == pb.EXECUTION_MODE_STANDARD


async def test_create_existing_name_is_already_exists(cloudflow: Running) -> None:
    await cloudflow.client.create_flow("orders", pass_flow())
    error = await rpc_error(cloudflow.client.create_flow("orders", pass_flow(), mode=EXPRESS))
    assert error.status is grpc.StatusCode.ALREADY_EXISTS
    assert error.code == "FlowAlreadyExists"
    assert "UpdateFlow" in error.message


async def test_flow_names_follow_the_naming_rules(cloudflow: Running) -> None:
    for bad in ("1st", "has space", "a" * 129, "dots.not.allowed"):
        error = await rpc_error(cloudflow.client.create_flow(bad, pass_flow()))
        assert error.status is grpc.StatusCode.INVALID_ARGUMENT, bad
        assert "not a valid name" in error.message
    assert (await cloudflow.client.create_flow("_a-B_9", pass_flow())).name == "_a-B_9"
    assert (await cloudflow.client.create_flow("a" * 128, pass_flow())).revision == 1


async def test_bad_fdl_lists_every_problem_with_its_location(cloudflow: Running) -> None:
    error = await rpc_error(cloudflow.client.create_flow("broken", TWO_PROBLEMS))
    assert error.status is grpc.StatusCode.INVALID_ARGUMENT
    assert error.code == "InvalidDefinition"
    assert "2 problems" in error.message
    assert (
        "line 7: States[0] (Name: First).Next: there is no state named 'Nowhere'" in error.message
    )
    assert "States[1] (Name: Pause).Seconds" in error.message
    assert (await rpc_error(cloudflow.client.describe_flow("broken"))).code == "FlowNotFound"


async def test_definition_is_validated_in_the_flow_mode(cloudflow: Running) -> None:
    await cloudflow.client.create_flow("approve", CALLBACK_TASK, mode=STANDARD)
    error = await rpc_error(
        cloudflow.client.create_flow("approve-fast", CALLBACK_TASK, mode=EXPRESS)
    )
    assert error.status is grpc.StatusCode.INVALID_ARGUMENT
    assert "Ask" in error.message
    await cloudflow.client.create_flow("fast", pass_flow(), mode=EXPRESS)
    error = await rpc_error(cloudflow.client.update_flow("fast", definition=CALLBACK_TASK))
    assert error.status is grpc.StatusCode.INVALID_ARGUMENT


async def test_update_adds_a_revision_and_keeps_unset_fields(cloudflow: Running) -> None:
    client = cloudflow.client
    created = await client.create_flow("orders", pass_flow(2), mode=EXPRESS, description="v1")
    updated = await client.update_flow("orders", definition=pass_flow(3))
    assert updated.revision == 2
    assert updated.definition == pass_flow(3)
    assert updated.description == "v1"
    assert updated.mode is EXPRESS
    assert updated.created_at == created.created_at
    assert updated.modified_at >= created.modified_at
    described = await client.update_flow("orders", description="")
    assert (described.revision, described.description, described.definition) == (
        3,
        "",
        pass_flow(3),
    )
    assert await client.describe_flow("orders") == described


async def test_update_errors(cloudflow: Running) -> None:
    client = cloudflow.client
    error = await rpc_error(client.update_flow("ghost", description="x"))
    assert (error.status, error.code) == (grpc.StatusCode.NOT_FOUND, "FlowNotFound")
    await client.create_flow("orders", pass_flow())
    error = await rpc_error(client.update_flow("orders", definition="Type: StateMachine\n"))
    assert error.status is grpc.StatusCode.INVALID_ARGUMENT
    assert (await client.describe_flow("orders")).revision == 1  # nothing was stored


async def test_list_pages_through_flows_in_name_order(cloudflow: Running) -> None:
    client = cloudflow.client
    names = ["delta", "alpha", "echo", "charlie", "bravo"]
    for name in names:
        await client.create_flow(name, pass_flow())
    seen: list[str] = []
    token = ""
    pages = 0
    while True:
        flows, token = await client.list_flows(page_size=2, page_token=token)
        seen += [flow.name for flow in flows]
        pages += 1
        if not token:
            break
    assert seen == sorted(names)
    assert pages == 3
    assert [flow.name async for flow in client.iter_flows(page_size=4)] == sorted(names)
    everything, token = await client.list_flows()
    assert len(everything) == 5 and token == ""


async def test_list_rejects_bad_paging(cloudflow: Running) -> None:
    error = await rpc_error(cloudflow.client.list_flows(page_token="not-a-token"))
    assert error.status is grpc.StatusCode.INVALID_ARGUMENT
    assert "next_page_token" in error.message
    for size in (-1, 1000):
        error = await rpc_error(cloudflow.client.list_flows(page_size=size))
        assert error.status is grpc.StatusCode.INVALID_ARGUMENT
        assert "page_size" in error.message


async def test_delete(cloudflow: Running) -> None:
    client = cloudflow.client
    await client.create_flow("orders", pass_flow())
    await client.delete_flow("orders")
    assert (await rpc_error(client.describe_flow("orders"))).status is grpc.StatusCode.NOT_FOUND
    error = await rpc_error(client.delete_flow("orders"))
    assert (error.status, error.code) == (grpc.StatusCode.NOT_FOUND, "FlowNotFound")
    assert await client.list_flows() == ([], "")


async def test_recreated_flow_never_runs_the_deleted_flows_plan(cloudflow: Running) -> None:
    client = cloudflow.client
    await client.create_flow("orders", pass_flow(2), mode=EXPRESS)
    assert (await client.start_sync_execution("orders")).output == {"step": 1, "input": {}}
    await client.delete_flow("orders")
    await client.create_flow("orders", pass_flow(4), mode=EXPRESS)  # revision 1 again
    assert (await client.start_sync_execution("orders")).output == {"step": 3, "input": {}}


async def test_flows_survive_a_restart(start_server: StartServer) -> None:
    first = await start_server()
    created = await first.client.create_flow("orders", pass_flow(), mode=EXPRESS)
    await first.client.update_flow("orders", description="kept")
    await first.server.stop(None)
    second = await start_server()
    described = await second.client.describe_flow("orders")
    assert described == Flow(
        **{
            **_fields(created),
            "revision": 2,
            "description": "kept",
            "modified_at": described.modified_at,
        }
    )


async def test_an_execution_runs_the_revision_it_started_with(cloudflow: Running) -> None:
    gate = Gate()
    cloudflow.functions.register("gate", gate)
    client = cloudflow.client
    await client.create_flow("orders", task_flow(), mode=EXPRESS)
    in_flight = asyncio.create_task(client.start_sync_execution("orders", {"v": 1}))
    await gate.started.wait()
    await client.update_flow("orders", definition=pass_flow(1))
    gate.release.set()
    assert (await in_flight).output == {"Body": {"v": 1}}  # revision 1: the Task
    assert (await client.start_sync_execution("orders", {"v": 2})).output == {
        "step": 0,
        "input": {"v": 2},
    }


async def test_servers_sharing_a_database_see_each_others_updates(
    start_server: StartServer,
) -> None:
    # Two server processes on one SQLite file (here two servers in one process, which use
    # separate connections just the same): a flow cached by one must not go stale.
    one = await start_server()
    two = await start_server()
    await one.client.create_flow("orders", pass_flow(2), mode=EXPRESS)
    assert (await two.client.start_sync_execution("orders")).output["step"] == 1
    await one.client.update_flow("orders", definition=pass_flow(3))
    assert (await two.client.start_sync_execution("orders")).output["step"] == 2
    await one.client.delete_flow("orders")
    error = await rpc_error(two.client.start_sync_execution("orders"))
    assert error.status is grpc.StatusCode.NOT_FOUND


def _fields(flow: Flow) -> dict[str, object]:
    return {name: getattr(flow, name) for name in Flow.__dataclass_fields__}
