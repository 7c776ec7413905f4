"""The CLI verbs against a real server; ``validate`` and ``run`` keep their contract."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from gateway.cli import main
from shared.plan import ExecutionMode
from tests.gateway.conftest import FAIL_FLOW, Running, StartServer, pass_flow
from tests.gateway.fake_standard import GOOD_TOKEN, FakeStandardBackend

REPO = Path(__file__).resolve().parents[2]
HELLO = str(REPO / "examples" / "hello.yaml")


@pytest.fixture
async def server(start_server: StartServer, monkeypatch: pytest.MonkeyPatch) -> Running:
    monkeypatch.delenv("CLOUDFLOW_TOKEN", raising=False)
    return await start_server(standard=FakeStandardBackend())


async def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the CLI in a thread (it runs its own event loop) while the server runs on this one."""
    capsys.readouterr()
    code = await asyncio.to_thread(main, list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


async def cli_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    code, out, err = await cli(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


async def test_flow_verbs(server: Running, capsys: pytest.CaptureFixture[str]) -> None:
    at = ("--server", server.address)
    code, out, _ = await cli(capsys, "flow", "create", "hello", HELLO, "--mode", "express", *at)
    assert (code, out) == (0, "created Express flow 'hello' (revision 1)\n")
    code, out, _ = await cli(capsys, "flow", "describe", "hello", *at)
    assert code == 0
    assert "Name:        hello\nMode:        Express\nRevision:    1\n" in out
    assert "Definition:\n  Type: StateMachine\n" in out
    code, out, _ = await cli(capsys, "flow", "update", "hello", "--description", "greets", *at)
    assert (code, out) == (0, "updated flow 'hello' to revision 2\n")
    described = await cli_json(capsys, "flow", "describe", "hello", *at)
    assert {k: described[k] for k in ("Name", "ExecutionMode", "Revision", "Description")} == {
        "Name": "hello",
        "ExecutionMode": "Express",
        "Revision": 2,
        "Description": "greets",
    }
    assert described["Definition"] == Path(HELLO).read_text()
    await cli(capsys, "flow", "create", "another", HELLO, *at)
    code, out, _ = await cli(capsys, "flow", "list", "--page-size", "1", *at)
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "MODE", "REVISION", "MODIFIED"]
    assert lines[1].split()[:3] == ["another", "Standard", "1"]
    assert lines[2].startswith("more: --page-token ")
    listed = await cli_json(capsys, "flow", "list", "--page-size", "1", "--all", *at)
    assert [f["Name"] for f in listed["Flows"]] == ["another", "hello"]
    assert listed["NextToken"] == ""
    assert await cli_json(capsys, "flow", "delete", "another", *at) == {
        "Name": "another",
        "Deleted": True,
    }


async def test_start_sync(server: Running, capsys: pytest.CaptureFixture[str]) -> None:
    at = ("--server", server.address)
    await server.client.create_flow("hello", Path(HELLO).read_text(), mode=ExecutionMode.EXPRESS)
    await server.client.create_flow("strict", FAIL_FLOW, mode=ExecutionMode.EXPRESS)
    code, out, _ = await cli(
        capsys, "exec", "start-sync", "hello", "--input", '{"name": "Ada"}', *at
    )
    assert code == 0
    assert "Status:  Succeeded" in out
    assert '"greeting": "Hello, Ada!"' in out
    result = await cli_json(capsys, "exec", "start-sync", "hello", "--input", '{"name": "Bo"}', *at)
    assert result["Status"] == "Succeeded"
    assert result["Output"] == {"greeting": "Hello, Bo!"}
    assert result["Name"].startswith("hello:")
    code, out, _ = await cli(capsys, "exec", "start-sync", "strict", *at)
    assert code == 1
    assert "Error:   Order.Invalid" in out


async def test_standard_exec_and_task_verbs(
    server: Running, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    at = ("--server", server.address)
    await server.client.create_flow("orders", pass_flow())
    input_file = tmp_path / "input.json"
    input_file.write_text('{"orderId": "A1"}')
    started = await cli_json(
        capsys, "exec", "start", "orders", "--name", "e1", "--input-file", str(input_file), *at
    )
    assert (started["Name"], started["Status"], started["Input"]) == (
        "e1",
        "Running",
        {"orderId": "A1"},
    )
    code, out, _ = await cli(capsys, "exec", "describe", "orders", "e1", *at)
    assert code == 0 and "Status:  Running" in out and "Flow:    orders (revision 1)" in out
    stopped = await cli_json(capsys, "exec", "stop", "orders", "e1", "--error", "Halt", *at)
    assert (stopped["Status"], stopped["ErrorCode"]) == ("Stopped", "Halt")
    listed = await cli_json(capsys, "exec", "list", "orders", "--status", "stopped", *at)
    assert [e["Name"] for e in listed["Executions"]] == ["e1"]
    code, out, _ = await cli(
        capsys, "exec", "list", "orders", "--started-after", "2000-01-01T00:00:00Z", *at
    )
    assert code == 0 and out.splitlines()[1].split()[:2] == ["e1", "Stopped"]
    history = await cli_json(capsys, "exec", "history", "orders", "e1", *at)
    assert [e["Type"] for e in history["Events"]][:2] == ["ExecutionStarted", "StepEntered"]
    assert history["Events"][3]["EventDetail"] == {"output": 1}
    code, out, _ = await cli(capsys, "exec", "history", "orders", "e1", *at)
    assert code == 0 and "TaskSucceeded" in out
    assert await cli_json(capsys, "task", "succeed", GOOD_TOKEN, "--output", "[1]", *at) == {
        "EventId": 42
    }
    code, out, _ = await cli(capsys, "task", "fail", GOOD_TOKEN, "--error", "No", *at)
    assert (code, out) == (0, "recorded (event 42)\n")
    code, out, _ = await cli(capsys, "task", "heartbeat", GOOD_TOKEN, *at)
    assert code == 0


async def test_errors_and_exit_codes(server: Running, capsys: pytest.CaptureFixture[str]) -> None:
    at = ("--server", server.address)
    code, out, err = await cli(capsys, "flow", "describe", "ghost", *at)
    assert (code, out) == (2, "")
    assert err.startswith("cloudflow: NOT_FOUND: flow 'ghost' does not exist")
    code, _, err = await cli(capsys, "flow", "describe", "ghost", "--json", *at)
    assert code == 2
    assert json.loads(err)["Error"]["Code"] == "FlowNotFound"
    code, _, err = await cli(capsys, "exec", "start-sync", "x", "--input", "[1]", *at)
    assert code == 2 and "--input must be a JSON object" in err
    code, _, err = await cli(capsys, "flow", "create", "x", "/no/such/file.yaml", *at)
    assert code == 2 and "no such file" in err
    code, _, err = await cli(capsys, "flow", "list", "--server", "127.0.0.1:1", "--timeout", "5")
    assert code == 3
    assert "UNAVAILABLE" in err and "is a CloudFlow server running at 127.0.0.1:1?" in err


async def test_token_from_the_environment(
    start_server: StartServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    guarded = await start_server(token="t0ken")
    monkeypatch.delenv("CLOUDFLOW_TOKEN", raising=False)
    code, _, err = await cli(capsys, "flow", "list", "--server", guarded.address)
    assert code == 2 and "UNAUTHENTICATED" in err
    monkeypatch.setenv("CLOUDFLOW_TOKEN", "t0ken")
    code, out, _ = await cli(capsys, "flow", "list", "--server", guarded.address)
    assert (code, out) == (0, "(none)\n")


# -- validate and run: unchanged -----------------------------------------------------------------


def test_validate_and_run_keep_their_contract(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["validate", HELLO, "--mode", "express"]) == 0
    assert capsys.readouterr().out == f"{HELLO}: valid express flow (4 states)\n"
    broken = tmp_path / "broken.yaml"
    broken.write_text("Type: StateMachine\n")
    assert main(["validate", str(broken)]) == 2
    assert main(["run", HELLO, "--input", '{"name": "Ada"}']) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    assert json.loads(last)["Output"] == {"greeting": "Hello, Ada!"}
