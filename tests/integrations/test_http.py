"""HTTP:Request against a real HTTP server on 127.0.0.1 (see echo_server.py)."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from gateway.integrations.http import (
    HTTP_HOST_NOT_ALLOWED,
    HTTP_REQUEST,
    TASK_TOKEN_HEADER,
    HttpInvoker,
)
from shared.errors import HTTP_CONNECTION_ERROR, RUNTIME_ERROR, TIMEOUT, FlowFailure
from shared.ports import TaskMode, TaskRequest
from tests.integrations.echo_server import EchoServer


@pytest.fixture
def server() -> Iterator[EchoServer]:
    with EchoServer() as running:
        yield running


@pytest.fixture
async def invoker() -> AsyncIterator[HttpInvoker]:
    # trust_env=False: a proxy set in the environment must not intercept 127.0.0.1.
    async with HttpInvoker(trust_env=False) as http:
        yield http


def task(
    parameters: dict[str, Any],
    *,
    timeout_seconds: float | None = None,
    task_token: str | None = None,
    headers: dict[str, str] | None = None,
) -> TaskRequest:
    return TaskRequest(
        action=HTTP_REQUEST,
        parameters=parameters,
        timeout_seconds=timeout_seconds,
        task_token=task_token,
        state_name="Call",
        headers=headers or {},
    )


async def fail(http: HttpInvoker, request: TaskRequest) -> FlowFailure:
    with pytest.raises(FlowFailure) as caught:
        await http.invoke(request)
    return caught.value


# --- Requests and responses ------------------------------------------------------------


async def test_get_returns_header_code_and_parsed_json_body(
    server: EchoServer, invoker: HttpInvoker
) -> None:
    result = await invoker.invoke(task({"url": server.url("/echo")}))

    assert result["Code"] == 200
    assert result["Header"]["content-type"] == "application/json"
    assert result["Body"]["method"] == "GET"
    assert result["Body"]["path"] == "/echo"
    assert set(result) == {"Header", "Code", "Body"}


async def test_text_response_is_returned_as_text_with_its_headers(
    server: EchoServer, invoker: HttpInvoker
) -> None:
    result = await invoker.invoke(task({"url": server.url("/text")}))

    assert result["Body"] == "hello, world"
    assert result["Header"]["x-reply"] == "yes"


async def test_post_object_body_is_sent_as_json(server: EchoServer, invoker: HttpInvoker) -> None:
    body = {"orderId": "A1", "items": [1, 2], "note": "café"}

    await invoker.invoke(task({"url": server.url("/echo"), "method": "POST", "body": body}))

    seen = server.received[0]
    assert seen.method == "POST"
    assert seen.headers["content-type"] == "application/json"
    assert json.loads(seen.body) == body


@pytest.mark.parametrize("body", [[1, "two"], 42, 1.5, True, False])
async def test_other_json_values_are_sent_as_json(
    server: EchoServer, invoker: HttpInvoker, body: Any
) -> None:
    await invoker.invoke(task({"url": server.url("/echo"), "method": "PUT", "body": body}))

    assert json.loads(server.received[0].body) == body
    assert server.received[0].headers["content-type"] == "application/json"


async def test_string_body_is_sent_as_is(server: EchoServer, invoker: HttpInvoker) -> None:
    await invoker.invoke(
        task({"url": server.url("/echo"), "method": "post", "body": "a=1&b={not json}"})
    )

    seen = server.received[0]
    assert seen.body == b"a=1&b={not json}"
    assert "content-type" not in seen.headers


async def test_user_content_type_is_kept_for_a_json_body(
    server: EchoServer, invoker: HttpInvoker
) -> None:
    parameters = {
        "url": server.url("/echo"),
        "method": "POST",
        "headers": {"content-type": "application/vnd.api+json"},
        "body": {"a": 1},
    }

    await invoker.invoke(task(parameters))

    assert server.received[0].headers["content-type"] == "application/vnd.api+json"


@pytest.mark.parametrize("method", ["GET", "post", "Put", "PATCH", "delete"])
async def test_methods_are_case_insensitive(
    server: EchoServer, invoker: HttpInvoker, method: str
) -> None:
    result = await invoker.invoke(task({"url": server.url("/echo"), "method": method}))

    assert result["Body"]["method"] == method.upper()


async def test_head_has_an_empty_body(server: EchoServer, invoker: HttpInvoker) -> None:
    result = await invoker.invoke(task({"url": server.url("/text"), "method": "HEAD"}))

    assert result["Code"] == 200
    assert result["Body"] == ""
    assert server.received[0].method == "HEAD"


async def test_headers_are_sent_with_engine_metadata(
    server: EchoServer, invoker: HttpInvoker
) -> None:
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    parameters = {
        "url": server.url("/echo"),
        "headers": {"X-Api-Key": "k1", "X-Retries": 3, "X-Override": "user"},
    }

    await invoker.invoke(
        task(parameters, headers={"traceparent": traceparent, "x-override": "engine"})
    )

    seen = server.received[0].headers
    assert seen["x-api-key"] == "k1"
    assert seen["x-retries"] == "3"
    assert seen["traceparent"] == traceparent
    assert seen["x-override"] == "user"  # The user's header wins over engine metadata.


async def test_query_is_merged_into_the_url(server: EchoServer, invoker: HttpInvoker) -> None:
    parameters = {
        "url": server.url("/echo?keep=1&page=0"),
        "query": {"page": 2, "tag": ["a", "b"], "flag": True, "q": "x y&z"},
    }

    result = await invoker.invoke(task(parameters))

    assert result["Body"]["query"] == {
        "keep": ["1"],
        "page": ["2"],
        "tag": ["a", "b"],
        "flag": ["true"],
        "q": ["x y&z"],
    }


async def test_task_token_is_sent_in_its_header(server: EchoServer, invoker: HttpInvoker) -> None:
    request = TaskRequest(
        action=HTTP_REQUEST,
        parameters={"url": server.url("/echo")},
        mode=TaskMode.WAIT_FOR_CUSTOM_CALLBACK,
        task_token="tok-123",
    )

    await invoker.invoke(request)

    assert server.received[0].headers[TASK_TOKEN_HEADER.lower()] == "tok-123"


async def test_no_token_header_without_a_token(server: EchoServer, invoker: HttpInvoker) -> None:
    await invoker.invoke(task({"url": server.url("/echo")}))

    assert TASK_TOKEN_HEADER.lower() not in server.received[0].headers


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        ("application/json; charset=utf-8", '{"a": [1]}', {"a": [1]}),
        ("application/problem+json", '{"title": "x"}', {"title": "x"}),
        ("application/json", "not json", "not json"),
        ("application/json", "NaN", "NaN"),
        ("text/plain", '{"a": 1}', '{"a": 1}'),
    ],
)
async def test_body_is_parsed_only_when_it_is_json(
    server: EchoServer, invoker: HttpInvoker, content_type: str, body: str, expected: Any
) -> None:
    url = str(httpx.URL(server.url("/json-type"), params={"type": content_type, "body": body}))

    result = await invoker.invoke(task({"url": url}))

    assert result["Body"] == expected


async def test_cookies_set_by_one_response_are_not_sent_by_later_calls(
    server: EchoServer, invoker: HttpInvoker
) -> None:
    await invoker.invoke(task({"url": server.url("/cookie")}))
    await invoker.invoke(task({"url": server.url("/echo")}))

    assert "cookie" not in server.received[1].headers


async def test_a_response_over_the_size_limit_fails(server: EchoServer) -> None:
    async with HttpInvoker(max_response_bytes=100, trust_env=False) as http:
        ok = await http.invoke(task({"url": server.url("/bytes?size=100")}))
        failure = await fail(http, task({"url": server.url("/bytes?size=101")}))

    assert ok["Body"] == "b" * 100
    assert failure.error.code == RUNTIME_ERROR
    assert "larger than 100 bytes" in failure.error.cause
    assert "'Call'" in failure.error.cause


# --- Failures ----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [404, 503, 302, 400])
async def test_non_2xx_is_a_named_http_error(
    server: EchoServer, invoker: HttpInvoker, status: int
) -> None:
    failure = await fail(invoker, task({"url": server.url(f"/status/{status}")}))

    assert failure.error.code == f"HTTP.{status}"
    assert f"returned HTTP {status}" in failure.error.cause
    assert "e" * 20 in failure.error.cause


async def test_error_cause_truncates_the_body_and_hides_the_query(
    server: EchoServer, invoker: HttpInvoker
) -> None:
    url = server.url("/status/503?size=5000&api_key=secret")

    failure = await fail(invoker, task({"url": url}))

    assert failure.error.code == "HTTP.503"
    assert len(failure.error.cause) < 1200
    assert failure.error.cause.endswith("…")
    assert "secret" not in failure.error.cause
    assert "/status/503" in failure.error.cause


async def test_connection_refused_is_a_connection_error(invoker: HttpInvoker) -> None:
    # A port that was free a moment ago: nothing listens on it now.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    failure = await fail(invoker, task({"url": f"http://127.0.0.1:{port}/x"}))

    assert failure.error.code == HTTP_CONNECTION_ERROR
    assert f"127.0.0.1:{port}" in failure.error.cause


async def test_connection_dropped_without_a_response_is_a_connection_error(
    server: EchoServer, invoker: HttpInvoker
) -> None:
    failure = await fail(invoker, task({"url": server.url("/drop")}))

    assert failure.error.code == HTTP_CONNECTION_ERROR


async def test_slow_response_past_the_task_timeout_is_fnf_timeout(
    server: EchoServer, invoker: HttpInvoker
) -> None:
    started = time.monotonic()

    failure = await fail(invoker, task({"url": server.url("/slow?seconds=3")}, timeout_seconds=0.3))

    assert failure.error.code == TIMEOUT
    assert "0.3 s" in failure.error.cause
    assert time.monotonic() - started < 2


async def test_default_timeout_applies_without_a_task_timeout(server: EchoServer) -> None:
    async with HttpInvoker(default_timeout=0.3, trust_env=False) as http:
        failure = await fail(http, task({"url": server.url("/slow?seconds=3")}))

    assert failure.error.code == TIMEOUT


async def test_cancellation_is_not_turned_into_an_error(
    server: EchoServer, invoker: HttpInvoker
) -> None:
    call = asyncio.create_task(invoker.invoke(task({"url": server.url("/slow?seconds=3")})))
    await asyncio.sleep(0.2)

    call.cancel()

    with pytest.raises(asyncio.CancelledError):
        await call


# --- Allow-list ------------------------------------------------------------------------


async def test_host_off_the_allow_list_is_refused_without_sending(server: EchoServer) -> None:
    async with HttpInvoker(frozenset({"api.example.com"}), trust_env=False) as http:
        failure = await fail(http, task({"url": server.url("/echo")}))

    assert failure.error.code == HTTP_HOST_NOT_ALLOWED
    assert "'127.0.0.1'" in failure.error.cause
    assert server.received == []


async def test_host_on_the_allow_list_is_called(server: EchoServer) -> None:
    async with HttpInvoker(frozenset({"127.0.0.1"}), trust_env=False) as http:
        result = await http.invoke(task({"url": server.url("/echo")}))

    assert result["Code"] == 200


@pytest.mark.parametrize(
    ("allowed", "url"),
    [
        ("API.Example.com", "https://api.example.COM/x"),
        ("api.example.com.", "https://api.example.com:8443/x"),
        ("[::1]", "http://[::1]:9/x"),
        ("xn--bcher-kva.example", "https://bücher.example/"),
        ("bücher.example", "https://xn--bcher-kva.example/"),
    ],
)
async def test_allow_list_matches_hosts_loosely(allowed: str, url: str) -> None:
    # A mock transport: these hosts must never be contacted for real.
    transport = httpx.MockTransport(lambda request: httpx.Response(204))
    async with HttpInvoker(frozenset({allowed}), transport=transport) as http:
        result = await http.invoke(task({"url": url}))

    assert result["Code"] == 204


# --- Bad parameters ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parameters", "named"),
    [
        ({"url": None}, "Parameters.url"),
        ({"url": 5}, "Parameters.url"),
        ({"url": "ftp://127.0.0.1/x"}, "Parameters.url"),
        ({"url": "/relative"}, "Parameters.url"),
        ({"method": "FETCH"}, "Parameters.method"),
        ({"method": 1}, "Parameters.method"),
        ({"headers": ["X-A"]}, "Parameters.headers"),
        ({"headers": {"X A": "1"}}, "Parameters.headers"),
        ({"headers": {"X-A": {"nested": 1}}}, "Parameters.headers.X-A"),
        ({"headers": {"X-A": "1\r\nX-Injected: 1"}}, "Parameters.headers.X-A"),
        ({"query": "a=1"}, "Parameters.query"),
        ({"query": {"a": {"b": 1}}}, "Parameters.query.a"),
        ({"query": {"a": None}}, "Parameters.query.a"),
        ({"method": "POST", "body": {"x": float("nan")}}, "Parameters.body"),
    ],
)
async def test_bad_parameters_are_runtime_errors_naming_the_parameter(
    server: EchoServer, invoker: HttpInvoker, parameters: dict[str, Any], named: str
) -> None:
    full = {"url": server.url("/echo"), **parameters}

    failure = await fail(invoker, task(full))

    assert failure.error.code == RUNTIME_ERROR
    assert named in failure.error.cause
    assert "'Call'" in failure.error.cause  # The state is named, as every RuntimeError must.
    assert server.received == []


def test_invalid_construction_is_refused() -> None:
    with pytest.raises(ValueError, match="default_timeout"):
        HttpInvoker(default_timeout=0)
    with pytest.raises(ValueError, match="max_response_bytes"):
        HttpInvoker(max_response_bytes=0)
