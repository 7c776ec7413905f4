"""The ``cloudflow flow|exec|task`` verbs: a server's operations from the command line.

Each verb makes one call (``--all`` follows pages) with :class:`gateway.client.CloudFlowClient`
and prints the answer for a person, or as one JSON document with ``--json``. JSON output uses
CloudFlow's API field names (``Name``, ``Status``, ``Output``...), with JSON payloads as values
rather than text, as ``cloudflow run`` prints them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, TypeVar

import grpc

from gateway.cli import EXIT_BAD_INPUT, EXIT_NOT_SUCCEEDED, EXIT_OK, UsageError, run_async
from gateway.client import CloudFlowClient, CloudFlowError
from gateway.config import DEFAULT_HOST, DEFAULT_PORT, TOKEN_ENV, token_from_environment
from gateway.flows import Flow
from shared.plan import ExecutionMode
from shared.results import ExecutionInfo, ExecutionResult, ExecutionStatus, HistoryEvent
from shared.values import parse_json_object

__all__ = ["EXIT_SERVER_FAILED", "SERVER_ENV", "add_commands"]

SERVER_ENV: Final = "CLOUDFLOW_SERVER"
EXIT_SERVER_FAILED: Final = 3
"""The server could not be reached, or failed: worth retrying, unlike a rejected request."""

_SERVER_FAILURES: Final = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.CANCELLED,
        grpc.StatusCode.DATA_LOSS,
    }
)
_STATUS_NAMES: Final = {status.name.lower().replace("_", "-"): status for status in ExecutionStatus}

T = TypeVar("T")
Verb = Callable[[CloudFlowClient, argparse.Namespace], Awaitable[int]]


def add_commands(commands: Any) -> None:
    """Add the ``flow``, ``exec`` and ``task`` command groups to the CLI's subparsers."""
    common = argparse.ArgumentParser(add_help=False)
    default_server = os.environ.get(SERVER_ENV) or f"{DEFAULT_HOST}:{DEFAULT_PORT}"
    common.add_argument(
        "--server",
        default=default_server,
        metavar="HOST:PORT",
        help=f"the server (default ${SERVER_ENV}, else {DEFAULT_HOST}:{DEFAULT_PORT})",
    )
    common.add_argument("--json", action="store_true", help="print one JSON document, for scripts")
    common.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="deadline of the call (default %(default)s)",
    )
    common.add_argument(
        "--token-file", metavar="PATH", help=f"file holding the bearer token (default ${TOKEN_ENV})"
    )
    common.add_argument(
        "--tls", action="store_true", help="connect with TLS, trusting the system's roots"
    )
    common.add_argument(
        "--tls-ca", metavar="PEM", help="connect with TLS, trusting this CA certificate"
    )

    def group(name: str, help_text: str) -> Any:
        parser = commands.add_parser(name, help=help_text)
        return parser.add_subparsers(dest=f"{name}_verb", required=True, metavar="VERB")

    def verb(verbs: Any, name: str, handler: Verb, help_text: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = verbs.add_parser(name, parents=[common], help=help_text)
        parser.set_defaults(handler=lambda args: _call(handler, args))
        return parser

    flows = group("flow", "create, update, describe, list and delete flows on a server")
    p = verb(flows, "create", _flow_create, "create a flow from an FDL file")
    p.add_argument("name", help="the flow's name")
    p.add_argument("file", help="FDL file (YAML or JSON); - for stdin")
    p.add_argument("--mode", choices=("standard", "express"), default="standard")
    p.add_argument("--description", default="")
    p = verb(flows, "update", _flow_update, "store a new revision of a flow")
    p.add_argument("name")
    p.add_argument("--file", help="the new definition (FDL file; - for stdin)")
    p.add_argument("--description", help="the new description")
    p = verb(flows, "describe", _flow_describe, "show a flow and its definition")
    p.add_argument("name")
    p = verb(flows, "list", _flow_list, "list flows in name order")
    _paging(p)
    p = verb(flows, "delete", _flow_delete, "delete a flow")
    p.add_argument("name")

    execs = group("exec", "start, inspect and stop executions")
    p = verb(execs, "start", _exec_start, "start an execution of a Standard flow")
    p.add_argument("flow")
    _input(p)
    p.add_argument("--name", default="", help="the execution name (generated if omitted)")
    p = verb(execs, "start-sync", _exec_start_sync, "run an Express flow and print its result")
    p.add_argument("flow")
    _input(p)
    p.add_argument("--name", default="", help="a name prefix; the server appends :<uuid>")
    p = verb(execs, "describe", _exec_describe, "show an execution")
    p.add_argument("flow")
    p.add_argument("name")
    p.add_argument(
        "--wait", type=int, default=0, metavar="SECONDS", help="wait up to 0-60 s for it to end"
    )
    p = verb(execs, "stop", _exec_stop, "stop a running execution")
    p.add_argument("flow")
    p.add_argument("name")
    p.add_argument("--error", default="", help="the error name to record (1-128 characters)")
    p.add_argument("--cause", default="", help="why it was stopped")
    p = verb(execs, "list", _exec_list, "list a flow's executions, newest first")
    p.add_argument("flow")
    p.add_argument(
        "--status", choices=sorted(_STATUS_NAMES), help="only executions with this status"
    )
    p.add_argument("--prefix", default="", help="only executions whose name starts with this")
    p.add_argument(
        "--started-after", metavar="TIME", help="RFC 3339 instant, e.g. 2025-01-31T08:00:00Z"
    )
    p.add_argument("--started-before", metavar="TIME", help="RFC 3339 instant")
    _paging(p)
    p = verb(execs, "history", _exec_history, "show an execution's history events")
    p.add_argument("flow")
    p.add_argument("name")
    _paging(p)

    tasks = group("task", "report the outcome of a task that waits for a callback")
    p = verb(tasks, "succeed", _task_succeed, "complete a task with an output")
    p.add_argument("token", help="the task token ($Context.Current.TaskToken)")
    p.add_argument("--output", default="null", help="the task's result, JSON (default null)")
    p = verb(tasks, "fail", _task_fail, "fail a task with an error")
    p.add_argument("token")
    p.add_argument("--error", required=True, help="the error name Retry and Catch match on")
    p.add_argument("--cause", default="", help="a human-readable cause")
    p = verb(tasks, "heartbeat", _task_heartbeat, "tell the engine a task's worker is alive")
    p.add_argument("token")


def _paging(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--page-size", type=int, default=0, help="items per page (default 60)")
    parser.add_argument("--page-token", default="", help="the token a previous page printed")
    parser.add_argument("--all", action="store_true", help="follow the pages to the end")


def _input(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--input", default="{}", help="the execution input, a JSON object (default {})"
    )
    source.add_argument(
        "--input-file", metavar="PATH", help="read the input from a file (- for stdin)"
    )


# -- running a verb ----------------------------------------------------------------------------


def _call(handler: Verb, args: argparse.Namespace) -> int:
    token = _read_text(args.token_file).strip() if args.token_file else token_from_environment()
    root = _read_text(args.tls_ca).encode() if args.tls_ca else None

    async def call() -> int:
        async with CloudFlowClient(
            args.server, token, tls=args.tls, root_certificates=root, timeout=args.timeout
        ) as client:
            return await handler(client, args)

    try:
        return run_async(call())
    except CloudFlowError as error:
        if error.status is grpc.StatusCode.UNAVAILABLE:
            error.message += f" (is a CloudFlow server running at {args.server}?)"
        _print_error(error, args.json)
        return EXIT_SERVER_FAILED if error.status in _SERVER_FAILURES else EXIT_BAD_INPUT


def _print_error(error: CloudFlowError, as_json: bool) -> None:
    if as_json:
        body = {"Status": error.status.name, "Code": error.code, "Message": error.message}
        print(json.dumps({"Error": body}, ensure_ascii=False), file=sys.stderr)
    else:
        print(f"cloudflow: {error.status.name}: {error.message}", file=sys.stderr)


def _emit(args: argparse.Namespace, document: Any, lines: Sequence[str]) -> None:
    if args.json:
        print(json.dumps(document, ensure_ascii=False, indent=2))
    else:
        for line in lines:
            print(line)


# -- flows -------------------------------------------------------------------------------------


async def _flow_create(client: CloudFlowClient, args: argparse.Namespace) -> int:
    mode = ExecutionMode.EXPRESS if args.mode == "express" else ExecutionMode.STANDARD
    flow = await client.create_flow(
        args.name, _read_text(args.file), mode=mode, description=args.description
    )
    _emit(args, _flow_json(flow), [f"created {flow.mode.value} flow {flow.name!r} (revision 1)"])
    return EXIT_OK


async def _flow_update(client: CloudFlowClient, args: argparse.Namespace) -> int:
    definition = _read_text(args.file) if args.file else None
    flow = await client.update_flow(args.name, definition=definition, description=args.description)
    _emit(args, _flow_json(flow), [f"updated flow {flow.name!r} to revision {flow.revision}"])
    return EXIT_OK


async def _flow_describe(client: CloudFlowClient, args: argparse.Namespace) -> int:
    flow = await client.describe_flow(args.name)
    lines = _fields(
        ("Name", flow.name),
        ("Mode", flow.mode.value),
        ("Revision", str(flow.revision)),
        ("Description", flow.description or "-"),
        ("Created", _time(flow.created_at)),
        ("Modified", _time(flow.modified_at)),
    )
    _emit(args, _flow_json(flow), [*lines, "Definition:", *_indent(flow.definition)])
    return EXIT_OK


async def _flow_list(client: CloudFlowClient, args: argparse.Namespace) -> int:
    flows, token = await _pages(
        lambda t: client.list_flows(page_size=args.page_size, page_token=t), args
    )
    rows = [(f.name, f.mode.value, str(f.revision), _time(f.modified_at)) for f in flows]
    lines = _table(("NAME", "MODE", "REVISION", "MODIFIED"), rows) + _more(token)
    _emit(args, {"Flows": [_flow_json(f) for f in flows], "NextToken": token}, lines)
    return EXIT_OK


async def _flow_delete(client: CloudFlowClient, args: argparse.Namespace) -> int:
    await client.delete_flow(args.name)
    _emit(args, {"Name": args.name, "Deleted": True}, [f"deleted flow {args.name!r}"])
    return EXIT_OK


# -- executions --------------------------------------------------------------------------------


async def _exec_start(client: CloudFlowClient, args: argparse.Namespace) -> int:
    info = await client.start_execution(args.flow, _input_text(args), name=args.name)
    _emit(args, _execution_json(info), _execution_lines(info))
    return EXIT_OK


async def _exec_start_sync(client: CloudFlowClient, args: argparse.Namespace) -> int:
    result = await client.start_sync_execution(
        args.flow, _input_text(args), name=args.name, timeout=args.timeout
    )
    error = result.error
    pairs = [
        ("Name", result.name),
        ("Status", result.status.value),
        ("Started", _time(result.started_at)),
        ("Stopped", _time(result.stopped_at)),
    ]
    if error is not None:
        pairs += [("Error", error.code), ("Cause", error.cause)]
    lines = _fields(*pairs)
    if result.status is ExecutionStatus.SUCCEEDED:
        lines += ["Output:", *_indent(json.dumps(result.output, ensure_ascii=False, indent=2))]
    _emit(args, _result_json(result), lines)
    return EXIT_OK if result.status is ExecutionStatus.SUCCEEDED else EXIT_NOT_SUCCEEDED


async def _exec_describe(client: CloudFlowClient, args: argparse.Namespace) -> int:
    info = await client.describe_execution(args.flow, args.name, wait_seconds=args.wait)
    _emit(args, _execution_json(info), _execution_lines(info))
    return EXIT_OK


async def _exec_stop(client: CloudFlowClient, args: argparse.Namespace) -> int:
    info = await client.stop_execution(args.flow, args.name, error=args.error, cause=args.cause)
    _emit(args, _execution_json(info), _execution_lines(info))
    return EXIT_OK


async def _exec_list(client: CloudFlowClient, args: argparse.Namespace) -> int:
    status = _STATUS_NAMES[args.status] if args.status else None
    after, before = _instant(args.started_after), _instant(args.started_before)
    executions, token = await _pages(
        lambda t: client.list_executions(
            args.flow,
            status=status,
            name_prefix=args.prefix,
            started_after=after,
            started_before=before,
            page_size=args.page_size,
            page_token=t,
        ),
        args,
    )
    rows = [
        (e.name, e.status.value, _time(e.started_at), _time(e.stopped_at) if e.stopped_at else "-")
        for e in executions
    ]
    lines = _table(("NAME", "STATUS", "STARTED", "STOPPED"), rows) + _more(token)
    document = {"Executions": [_execution_json(e) for e in executions], "NextToken": token}
    _emit(args, document, lines)
    return EXIT_OK


async def _exec_history(client: CloudFlowClient, args: argparse.Namespace) -> int:
    events, token = await _pages(
        lambda t: client.get_execution_history(
            args.flow, args.name, page_size=args.page_size, page_token=t
        ),
        args,
    )
    rows = [
        (str(e.event_id), _time(e.time), e.type, e.step_name or "-", _short(e.detail))
        for e in events
    ]
    lines = _table(("ID", "TIME", "TYPE", "STEP", "DETAIL"), rows) + _more(token)
    _emit(args, {"Events": [_event_json(e) for e in events], "NextToken": token}, lines)
    return EXIT_OK


# -- tasks -------------------------------------------------------------------------------------


async def _task_succeed(client: CloudFlowClient, args: argparse.Namespace) -> int:
    try:
        output = json.loads(args.output)
    except ValueError:
        raise UsageError(f"--output is not valid JSON: {args.output!r}") from None
    return _event_recorded(args, await client.report_task_succeeded(args.token, output))


async def _task_fail(client: CloudFlowClient, args: argparse.Namespace) -> int:
    return _event_recorded(
        args, await client.report_task_failed(args.token, args.error, args.cause)
    )


async def _task_heartbeat(client: CloudFlowClient, args: argparse.Namespace) -> int:
    return _event_recorded(args, await client.report_task_heartbeat(args.token))


def _event_recorded(args: argparse.Namespace, event_id: int) -> int:
    _emit(args, {"EventId": event_id}, [f"recorded (event {event_id})"])
    return EXIT_OK


# -- arguments ---------------------------------------------------------------------------------


def _read_text(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read it ({exc})") from None


def _input_text(args: argparse.Namespace) -> str:
    text: str = _read_text(args.input_file) if args.input_file else args.input
    try:
        parse_json_object(text, "--input")  # say it here, before a round trip
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return text


def _instant(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"{text!r} is not an RFC 3339 instant, e.g. 2025-01-31T08:00:00Z"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


async def _pages(
    fetch: Callable[[str], Awaitable[tuple[list[T], str]]], args: argparse.Namespace
) -> tuple[list[T], str]:
    """One page from ``--page-token``, or with ``--all`` every page from there on."""
    items, token = await fetch(args.page_token)
    while args.all and token:
        more, token = await fetch(token)
        items.extend(more)
    return items, token


# -- rendering ---------------------------------------------------------------------------------


def _time(seconds: float) -> str:
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _json_value(text: str | None) -> Any:
    """A JSON payload as a value for --json output; text that is not JSON stays text."""
    if text is None or text == "":
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _flow_json(flow: Flow) -> dict[str, Any]:
    return {
        "Name": flow.name,
        "Definition": flow.definition,
        "Description": flow.description,
        "ExecutionMode": flow.mode.value,
        "Revision": flow.revision,
        "CreatedTime": _time(flow.created_at),
        "LastModifiedTime": _time(flow.modified_at),
    }


def _execution_json(info: ExecutionInfo) -> dict[str, Any]:
    return {
        "Name": info.name,
        "FlowName": info.flow_name,
        "FlowRevision": info.flow_revision,
        "Status": info.status.value,
        "Input": _json_value(info.input),
        "Output": _json_value(info.output),
        "ErrorCode": info.error_code,
        "ErrorMessage": info.error_message,
        "StartedTime": _time(info.started_at),
        "StoppedTime": _time(info.stopped_at) if info.stopped_at is not None else None,
    }


def _result_json(result: ExecutionResult) -> dict[str, Any]:
    return {
        "FlowName": result.flow_name,
        **result.summary(),
        "StartedTime": _time(result.started_at),
        "StoppedTime": _time(result.stopped_at),
    }


def _event_json(event: HistoryEvent) -> dict[str, Any]:
    return {
        "EventId": event.event_id,
        "ScheduleEventId": event.schedule_event_id,
        "Type": event.type,
        "StepName": event.step_name,
        "Time": _time(event.time),
        "EventDetail": _json_value(event.detail),
    }


def _execution_lines(info: ExecutionInfo) -> list[str]:
    pairs = [
        ("Name", info.name),
        ("Flow", f"{info.flow_name} (revision {info.flow_revision})"),
        ("Status", info.status.value),
        ("Started", _time(info.started_at)),
        ("Stopped", _time(info.stopped_at) if info.stopped_at is not None else "-"),
        ("Input", info.input),
    ]
    if info.output is not None:
        pairs.append(("Output", info.output))
    if info.error_code is not None:
        pairs += [("Error", info.error_code), ("Cause", info.error_message or "")]
    return _fields(*pairs)


def _fields(*pairs: tuple[str, str]) -> list[str]:
    width = max(len(label) for label, _ in pairs) + 2
    return [f"{label + ':':<{width}}{value}" for label, value in pairs]


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> list[str]:
    if not rows:
        return ["(none)"]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in (header, *rows)
    ]


def _more(token: str) -> list[str]:
    return [f"more: --page-token {token}"] if token else []


def _indent(text: str) -> list[str]:
    return ["  " + line for line in text.rstrip("\n").splitlines()]


def _short(detail: str, width: int = 60) -> str:
    return detail if len(detail) <= width else detail[: width - 3] + "..."
