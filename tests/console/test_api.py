"""The console's JSON API over real HTTP, against a real flow store and standard engine."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.metrics import record_execution_started
from shared.plan import ExecutionMode
from tests.console.stack import BATCH, COUNTER, DECLINED_CAUSE, SHOP, Stack, open_stack

HELLO = """\
Type: StateMachine
SpecVersion: v1
StartAt: Greet
States:
  - Type: Pass
    Name: Greet
    OutputConstructor:
      greeting.$: format("Hello, {}!", $Input.name)
    End: true
"""

BROKEN = """\
Type: StateMachine
SpecVersion: v1
StartAt: Greet
States:
  - Type: Pass
    Name: Greet
    Next: Nowhere
"""

SLEEPER = """\
Type: StateMachine
SpecVersion: v1
StartAt: Sleep
States:
  - Type: Wait
    Name: Sleep
    Seconds: 600
    End: true
"""


async def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()["error"]
    assert body["code"] == code
    return body


# -- flows ---------------------------------------------------------------------------------


async def test_flows_are_created_listed_updated_and_deleted(http: httpx.AsyncClient) -> None:
    created = await ok(
        await http.post(
            "/api/flows", json={"name": "hello", "definition": HELLO, "mode": "Standard"}
        ),
        201,
    )
    assert (created["name"], created["revision"], created["mode"]) == ("hello", 1, "Standard")
    await ok(await http.post("/api/flows", json={"name": "other", "definition": HELLO}), 201)
    first = await ok(await http.get("/api/flows", params={"page_size": 1}))
    assert [f["name"] for f in first["flows"]] == ["hello"]
    assert "definition" not in first["flows"][0]
    second = await ok(
        await http.get("/api/flows", params={"page_size": 1, "page_token": first["nextPageToken"]})
    )
    assert [f["name"] for f in second["flows"]] == ["other"] and second["nextPageToken"] == ""
    updated = await ok(
        await http.put("/api/flows/hello", json={"definition": HELLO, "description": "greets"})
    )
    assert (updated["revision"], updated["description"]) == (2, "greets")
    described = await ok(await http.get("/api/flows/hello"))
    assert described["definition"] == HELLO
    await ok(await http.delete("/api/flows/hello"))
    await error(await http.get("/api/flows/hello"), 404, "FlowNotFound")


async def test_an_invalid_definition_is_refused_with_each_problem_on_its_line(
    http: httpx.AsyncClient,
) -> None:
    body = await error(
        await http.post("/api/flows", json={"name": "broken", "definition": BROKEN}),
        400,
        "InvalidDefinition",
    )
    (problem,) = body["problems"]
    assert problem["line"] == 7
    assert problem["location"] == "States[0] (Name: Greet).Next"
    assert "Nowhere" in problem["message"]
    checked = await ok(
        await http.post("/api/validate", json={"definition": BROKEN, "mode": "Standard"})
    )
    assert checked["problems"] == body["problems"]
    clean = await ok(await http.post("/api/validate", json={"definition": HELLO}))
    assert clean["problems"] == []


async def test_request_mistakes_get_precise_answers(http: httpx.AsyncClient) -> None:
    await error(
        await http.post("/api/flows", json={"name": "1bad", "definition": HELLO}),
        400,
        "InvalidArgument",
    )
    await error(
        await http.post("/api/flows", json={"name": "m", "definition": HELLO, "mode": "Turbo"}),
        400,
        "InvalidArgument",
    )
    await ok(await http.post("/api/flows", json={"name": "twice", "definition": HELLO}), 201)
    await error(
        await http.post("/api/flows", json={"name": "twice", "definition": HELLO}),
        409,
        "FlowAlreadyExists",
    )
    await error(await http.get("/api/flows", params={"page_size": "many"}), 400, "InvalidArgument")
    bad_json = await http.post(
        "/api/flows", content=b"{nope", headers={"Content-Type": "application/json"}
    )
    await error(bad_json, 400, "InvalidArgument")


async def test_posts_must_be_json_so_other_sites_cannot_send_forms(http: httpx.AsyncClient) -> None:
    response = await http.post("/api/flows", data={"name": "x", "definition": HELLO})
    body = await error(response, 415, "UnsupportedMediaType")
    assert "application/json" in body["message"]
    await error(await http.get("/api/nothing/here"), 404, "NotFound")
    await error(await http.patch("/api/flows"), 405, "MethodNotAllowed")


async def test_the_graph_of_a_flow_is_laid_out_by_the_server(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    await stack.create_flow("shop", SHOP)
    graph = await ok(await http.get("/api/flows/shop/graph"))
    assert graph["revision"] == 1 and graph["width"] > 0 and graph["height"] > 0
    states = {n["state"] for n in graph["nodes"] if n["state"]}
    assert {"Validate", "Route", "Prepare", "Reserve", "Quote", "Charge", "Ship"} == states
    assert all(len(e["points"]) >= 2 for e in graph["edges"])


# -- executions ----------------------------------------------------------------------------


async def test_a_failed_execution_shows_which_state_failed_and_why(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    await stack.create_flow("shop", SHOP)
    started = await ok(
        await http.post(
            "/api/flows/shop/executions", json={"name": "order-1", "input": {"card": "4242"}}
        ),
        201,
    )
    assert started["mode"] == "Standard" and started["execution"]["name"] == "order-1"
    await stack.engine.describe_execution("shop", "order-1", wait_seconds=10)
    body = await ok(await http.get("/api/flows/shop/executions/order-1"))
    execution, progress = body["execution"], body["progress"]
    assert (execution["status"], execution["errorCode"]) == ("Failed", "Payment.Declined")
    assert execution["input"] == {"card": "4242"}
    assert progress["failedState"] == "Charge"
    states = progress["states"]
    assert states["Charge"]["status"] == "failed" and states["Charge"]["retried"] == 1
    assert states["Validate"]["status"] == "succeeded"
    assert states["Prepare"]["children"]["succeeded"] == 2
    assert states["Ship"]["status"] == "not_reached"
    charge = await ok(
        await http.get("/api/flows/shop/executions/order-1/state", params={"name": "Charge"})
    )
    assert charge["error"]["error"] == "Payment.Declined"
    assert charge["error"]["cause"] == DECLINED_CAUSE
    assert charge["error"]["taskParameters"] == {"functionName": "charge", "body": {"card": "4242"}}
    assert [a["retryAfterSeconds"] for a in charge["attempts"]] == [0.0, None]
    await error(
        await http.get("/api/flows/shop/executions/order-1/state", params={"name": "Nope"}),
        400,
        "InvalidArgument",
    )


async def test_a_map_shows_counts_per_status_and_its_failed_iterations(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    await stack.create_flow("batch", BATCH)
    await stack.run("batch", "b1", {"items": list(range(20))})
    inspect = await ok(
        await http.get("/api/flows/batch/executions/b1/state", params={"name": "Inspect"})
    )
    assert inspect["status"] == "caught"
    children = inspect["children"]
    assert children["kind"] == "iteration" and children["failed"] == 1
    assert children["succeeded"] + children["failed"] + children["cancelled"] == children["started"]
    assert children["failures"] == [
        {
            "index": 7,
            "error": "Item.Invalid",
            "cause": "item 7 has no price",
            "eventId": children["failures"][0]["eventId"],
        }
    ]


async def test_executions_are_listed_with_filters_and_pages(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    await stack.create_flow("hello", HELLO)
    before = time.time()
    for name in ("a-1", "a-2", "b-1"):
        await stack.run("hello", name, {"name": name})
    everything = await ok(await http.get("/api/flows/hello/executions"))
    assert [e["name"] for e in everything["executions"]] == ["b-1", "a-2", "a-1"]
    prefixed = await ok(await http.get("/api/flows/hello/executions", params={"name_prefix": "a-"}))
    assert {e["name"] for e in prefixed["executions"]} == {"a-1", "a-2"}
    page = await ok(await http.get("/api/flows/hello/executions", params={"page_size": 2}))
    rest = await ok(
        await http.get(
            "/api/flows/hello/executions",
            params={"page_size": 2, "page_token": page["nextPageToken"]},
        )
    )
    assert len(page["executions"]) == 2 and [e["name"] for e in rest["executions"]] == ["a-1"]
    failed = await ok(await http.get("/api/flows/hello/executions", params={"status": "Failed"}))
    assert failed["executions"] == []
    later = await ok(
        await http.get("/api/flows/hello/executions", params={"started_after": time.time() + 60})
    )
    assert later["executions"] == []
    window = await ok(
        await http.get(
            "/api/flows/hello/executions",
            params={"started_after": before - 1, "started_before": time.time() + 1},
        )
    )
    assert len(window["executions"]) == 3
    await error(
        await http.get("/api/flows/hello/executions", params={"status": "Done"}),
        400,
        "InvalidArgument",
    )
    await error(
        await http.get("/api/flows/hello/executions", params={"started_after": "nan"}),
        400,
        "InvalidArgument",
    )


async def test_a_long_history_is_served_in_pages_and_filtered_on_the_server(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    await stack.create_flow("counter", COUNTER)
    await stack.run("counter", "long", {"n": 0, "limit": 2600})
    body = await ok(await http.get("/api/flows/counter/executions/long"))
    total = body["progress"]["lastEventId"]
    assert total > 10_000
    assert body["progress"]["states"]["Count"]["entered"] == 2600
    seen: list[int] = []
    token = ""
    while True:
        page = await ok(
            await http.get(
                "/api/flows/counter/executions/long/events",
                params={"page_size": 500, "page_token": token},
            )
        )
        seen += [e["id"] for e in page["events"]]
        token = page["nextPageToken"]
        if not token:
            break
    assert seen == list(range(1, total + 1))
    checks = await ok(
        await http.get(
            "/api/flows/counter/executions/long/events",
            params={"page_size": 100, "state": "Check", "type": "steps"},
        )
    )
    assert len(checks["events"]) == 100 and {e["state"] for e in checks["events"]} == {"Check"}
    assert checks["events"][0]["detail"] == {"input": {"n": 1, "limit": 2600}}
    failures = await ok(
        await http.get("/api/flows/counter/executions/long/events", params={"type": "failures"})
    )
    assert failures == {"events": [], "nextPageToken": ""}
    await error(
        await http.get("/api/flows/counter/executions/long/events", params={"page_size": 0}),
        400,
        "InvalidArgument",
    )
    await error(
        await http.get("/api/flows/counter/executions/long/events", params={"type": "most"}),
        400,
        "InvalidArgument",
    )


async def test_a_running_execution_can_be_stopped(stack: Stack, http: httpx.AsyncClient) -> None:
    await stack.create_flow("sleeper", SLEEPER)
    await ok(
        await http.post("/api/flows/sleeper/executions", json={"name": "nap", "input": "{}"}), 201
    )
    running = await ok(await http.get("/api/flows/sleeper/executions/nap"))
    assert running["execution"]["status"] == "Running"
    assert running["progress"]["states"]["Sleep"]["status"] == "running"
    stopped = await ok(await http.post("/api/flows/sleeper/executions/nap/stop", json={}))
    assert stopped["execution"]["status"] == "Stopped"
    after = await ok(await http.get("/api/flows/sleeper/executions/nap"))
    assert after["progress"]["states"]["Sleep"]["status"] == "cancelled"
    assert after["execution"]["errorMessage"] == "stopped from the console"


async def test_an_express_flow_runs_to_its_end_when_started(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    await stack.create_flow("quick", HELLO, ExecutionMode.EXPRESS)
    started = await ok(
        await http.post("/api/flows/quick/executions", json={"input": {"name": "Ada"}}), 201
    )
    assert started["mode"] == "Express"
    assert started["result"]["Status"] == "Succeeded"
    assert started["result"]["Output"] == {"greeting": "Hello, Ada!"}
    body = await error(await http.get("/api/flows/quick/executions"), 409, "WrongMode")
    assert "Express" in body["message"]
    await error(
        await http.post("/api/flows/quick/executions", json={"input": "[1]"}),
        400,
        "InvalidArgument",
    )


async def test_without_a_standard_engine_standard_operations_say_so(tmp_path: Path) -> None:
    from express_engine import ExpressEngine, PlanCache
    from gateway.console import ConsoleBackend, start_console
    from gateway.express import ExpressHost
    from gateway.flows import FlowStore
    from gateway.integrations import FunctionInvoker, FunctionRegistry, IntegrationRouter

    flows = await FlowStore.open(tmp_path / "flows.db")
    router = IntegrationRouter(functions=FunctionInvoker(FunctionRegistry()))
    backend = ConsoleBackend(flows, ExpressHost(ExpressEngine(router), PlanCache()), None)
    site = await start_console("127.0.0.1", 0, backend)
    try:
        await flows.create("hello", HELLO, "", ExecutionMode.STANDARD)
        async with httpx.AsyncClient(base_url=site.url) as http:
            info = await ok(await http.get("/api/info"))
            assert info["standard"] is False
            body = await error(
                await http.post("/api/flows/hello/executions", json={}), 409, "WrongMode"
            )
            assert "standard engine" in body["message"]
            await error(await http.get("/metrics"), 404, "NotFound")
    finally:
        await site.stop()
        await flows.close()
        await router.aclose()


# -- the page, auth and metrics ------------------------------------------------------------


async def test_the_page_and_its_files_are_served_with_a_strict_policy(
    http: httpx.AsyncClient,
) -> None:
    page = await http.get("/")
    assert page.status_code == 200 and '<script type="module" src="/static/app.js">' in page.text
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    for name in (
        "app.js",
        "api.js",
        "dom.js",
        "graph.js",
        "editor.js",
        "style.css",
        "pages/execution.js",
    ):
        response = await http.get(f"/static/{name}")
        assert response.status_code == 200, name
    assert (await http.get("/static/../backend.py")).status_code in (403, 404)


async def test_with_a_token_the_api_and_metrics_need_it_and_the_page_does_not(
    tmp_path: Path,
) -> None:
    async with (
        open_stack(tmp_path, token="s3cret") as stack,
        httpx.AsyncClient(base_url=stack.url) as http,
    ):
        for path in ("/api/flows", "/metrics"):
            missing = await error(await http.get(path), 401, "Unauthenticated")
            assert "Bearer" in missing["message"]
            await error(
                await http.get(path, headers={"Authorization": "Bearer wrong"}),
                401,
                "Unauthenticated",
            )
            assert (
                await http.get(path, headers={"Authorization": "Bearer s3cret"})
            ).status_code == 200
        assert (await http.get("/api/flows")).headers["WWW-Authenticate"] == "Bearer"
        assert (await http.get("/")).status_code == 200
        assert (await http.get("/static/app.js")).status_code == 200


async def test_metrics_are_scraped_in_the_prometheus_format(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    await stack.create_flow("sleeper", SLEEPER)
    await ok(await http.post("/api/flows/sleeper/executions", json={"name": "nap"}), 201)
    record_execution_started("sleeper", "Standard")
    response = await http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = response.text
    assert 'cloudflow_executions_running{cloudflow_execution_mode="Standard"} 1' in text
    assert 'cloudflow_executions_running{cloudflow_execution_mode="Express"} 0' in text
    assert (
        'cloudflow_executions_started_total{cloudflow_execution_mode="Standard",cloudflow_flow_name="sleeper"} 1'
        in text
    )


async def test_many_pollers_of_a_running_execution_read_its_history_once(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    await stack.create_flow("counter", COUNTER)
    await stack.run("counter", "long", {"n": 0, "limit": 2600})
    started = time.perf_counter()
    answers = await asyncio.gather(
        *(http.get("/api/flows/counter/executions/long") for _ in range(20))
    )
    assert all(a.status_code == 200 for a in answers)
    assert {a.json()["progress"]["lastEventId"] for a in answers} == {
        answers[0].json()["progress"]["lastEventId"]
    }
    assert time.perf_counter() - started < 10


@pytest.mark.parametrize(
    "path", ["/api/flows/none", "/api/flows/none/graph", "/api/flows/none/executions/x"]
)
async def test_unknown_flows_are_not_found(http: httpx.AsyncClient, path: str) -> None:
    await error(await http.get(path), 404, "FlowNotFound")


async def test_unknown_executions_are_not_found(stack: Stack, http: httpx.AsyncClient) -> None:
    await stack.create_flow("hello", HELLO)
    await error(await http.get("/api/flows/hello/executions/ghost"), 404, "ExecutionNotFound")
    await error(
        await http.get("/api/flows/hello/executions/ghost/events"), 404, "ExecutionNotFound"
    )
