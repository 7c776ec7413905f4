"""The ``cloudflow`` command line.

``cloudflow validate FILE [--mode standard|express]``
    Exit 0 and one confirmation line for a valid flow; exit 2 and every problem on its
    own line for an invalid one.

``cloudflow run FILE --input JSON [--mode express|standard] [--functions MODULE]``
    Runs the flow in this process and prints one JSON object on the last line of stdout:
    ``{"Name", "Status", "Output", "ErrorCode", "ErrorMessage"}``. Exit 0 when the
    execution succeeded, 1 when it did not, 2 for a bad definition or a bad input.

``cloudflow serve [--host H] [--port P] [--db PATH] ...``
    Runs the server (gateway, flow store and engines in one process) until SIGTERM/SIGINT.
    The first line on stdout is ``listening on HOST:PORT``. See ``cloudflow serve --help``.

``cloudflow flow create|update|describe|list|delete ...``,
``cloudflow exec start|start-sync|describe|stop|list|history ...``,
``cloudflow task succeed|fail|heartbeat ...``
    Call a server (``--server HOST:PORT``, default ``$CLOUDFLOW_SERVER`` or 127.0.0.1:50051;
    bearer token from ``$CLOUDFLOW_TOKEN`` or ``--token-file``). Human-readable output by
    default, one JSON document with ``--json``. Exit 0 on success; 1 when ``exec start-sync``
    ran an execution that did not succeed; 2 for a bad argument or a request the server
    rejected (INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, FAILED_PRECONDITION,
    RESOURCE_EXHAUSTED, UNAUTHENTICATED, ...); 3 when the server could not be reached or failed
    (UNAVAILABLE, DEADLINE_EXCEEDED, INTERNAL, UNKNOWN).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any, TypeVar

from shared.compiler import check_flow, compile_flow
from shared.errors import InvalidDefinition, ServiceError
from shared.fdl.loader import MAX_DEFINITION_BYTES
from shared.plan import ExecutionMode
from shared.values import parse_json_object

__all__ = ["EXIT_BAD_INPUT", "EXIT_NOT_SUCCEEDED", "EXIT_OK", "UsageError", "main", "run_async"]

EXIT_OK = 0
EXIT_NOT_SUCCEEDED = 1
EXIT_BAD_INPUT = 2

T = TypeVar("T")


class UsageError(Exception):
    """A bad argument, file or input: printed as one clear line, exit 2."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
        return code
    except UsageError as exc:
        print(f"cloudflow: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # never a traceback for a user: say what broke, in one line
        print(
            f"cloudflow: internal error ({type(exc).__name__}: {exc}); please report it",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cloudflow", description="CloudFlow workflow runtime")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    validate = commands.add_parser(
        "validate", help="check a flow definition and list every problem"
    )
    validate.add_argument("file", help="FDL file (YAML or JSON)")
    validate.add_argument("--mode", choices=("standard", "express"), default="standard")
    validate.set_defaults(handler=_validate)

    run = commands.add_parser("run", help="run a flow in this process and print its result")
    run.add_argument("file", help="FDL file (YAML or JSON)")
    run.add_argument(
        "--input", default="{}", help="the execution input, a JSON object (default {})"
    )
    run.add_argument("--mode", choices=("express", "standard"), default="express")
    run.add_argument(
        "--functions",
        metavar="MODULE",
        help="a Python module whose functions serve FC:InvokeFunction",
    )
    run.add_argument("--name", default="", help="the execution name")
    run.set_defaults(handler=_run)

    _add_serve(commands)
    _add_worker(commands)
    # Imported here, not at the top: cli_remote imports this module (UsageError, run_async).
    from gateway import cli_remote

    cli_remote.add_commands(commands)
    return parser


def _mode(text: str) -> ExecutionMode:
    return ExecutionMode.EXPRESS if text == "express" else ExecutionMode.STANDARD


def _read(path_text: str) -> bytes:
    path = Path(path_text)
    try:
        with path.open("rb") as handle:
            # Read no more than a definition may hold: a huge file or a device such as
            # /dev/zero must not fill the memory.
            data = handle.read(MAX_DEFINITION_BYTES + 1)
            size = os.fstat(handle.fileno()).st_size
    except FileNotFoundError:
        raise UsageError(f"{path_text}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{path_text}: is a directory, not a flow file") from None
    except OSError as exc:
        raise UsageError(f"{path_text}: cannot read it ({exc.strerror})") from None
    if len(data) > MAX_DEFINITION_BYTES:
        shown = f" ({size} bytes)" if size > MAX_DEFINITION_BYTES else ""
        raise UsageError(
            f"{path_text}: the definition is over the limit of {MAX_DEFINITION_BYTES} bytes{shown}"
        )
    return data


def _validate(args: argparse.Namespace) -> int:
    text = _read(args.file)
    problems = check_flow(text, _mode(args.mode))
    if problems:
        for problem in problems:
            print(f"{args.file}: {problem}")
        print(
            f"{args.file}: invalid ({len(problems)} problem{'s' if len(problems) != 1 else ''})",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    plan = compile_flow(text, _mode(args.mode))
    count = plan.state_count
    print(f"{args.file}: valid {args.mode} flow ({count} state{'s' if count != 1 else ''})")
    return EXIT_OK


def _run(args: argparse.Namespace) -> int:
    text = _read(args.file)
    mode = _mode(args.mode)
    try:
        plan = compile_flow(text, mode)
    except InvalidDefinition as exc:
        for problem in exc.problems:
            print(f"{args.file}: {problem}")
        return EXIT_BAD_INPUT
    try:
        execution_input = parse_json_object(args.input, "--input")
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    from gateway.integrations import FunctionRegistry

    registry = FunctionRegistry()
    if args.functions:
        try:
            registry.load_module(args.functions)
        except ImportError as exc:
            raise UsageError(f"--functions {args.functions}: cannot import it ({exc})") from None
    if mode is ExecutionMode.STANDARD:
        runner = _run_standard(text.decode("utf-8"), plan, execution_input, registry, args.name)
    else:
        runner = _run_express(plan, execution_input, registry, args.name)
    try:
        summary = run_async(runner)
    except ServiceError as exc:
        raise UsageError(exc.message) from None
    print(json.dumps(summary, ensure_ascii=False))
    return EXIT_OK if summary["Status"] == "Succeeded" else EXIT_NOT_SUCCEEDED


async def _run_express(
    plan: Any, execution_input: dict[str, Any], registry: Any, name: str
) -> dict[str, Any]:
    from express_engine import ExpressEngine
    from gateway.integrations import FunctionInvoker, HttpInvoker, IntegrationRouter

    router = IntegrationRouter(functions=FunctionInvoker(registry), http=HttpInvoker())
    try:
        result = await ExpressEngine(router).run(
            plan, execution_input, flow_name=plan.name, execution_name=name
        )
    finally:
        await router.aclose()
    return result.summary()


async def _run_standard(
    definition: str, plan: Any, execution_input: dict[str, Any], registry: Any, name: str
) -> dict[str, Any]:
    """A Standard execution against a temporary database, start to end."""
    import tempfile

    from gateway.integrations import FunctionInvoker, HttpInvoker, IntegrationRouter
    from shared.results import ExecutionStatus
    from standard_engine import StandardEngine

    router = IntegrationRouter(functions=FunctionInvoker(registry), http=HttpInvoker())
    flow_name = plan.name or "flow"
    with tempfile.TemporaryDirectory(prefix="cloudflow-run-") as directory:
        engine = await StandardEngine.open(Path(directory) / "run.db", router)
        try:
            started = await engine.start_execution(
                flow_name, 1, definition, name or None, json.dumps(execution_input)
            )
            info = started
            while info.status is ExecutionStatus.RUNNING:
                info = await engine.describe_execution(flow_name, started.name, wait_seconds=60)
        finally:
            await engine.close()
            await router.aclose()
    return {
        "Name": info.name,
        "Status": info.status.value,
        "Output": json.loads(info.output) if info.output is not None else None,
        "ErrorCode": info.error_code,
        "ErrorMessage": info.error_message,
    }


# -- serve -------------------------------------------------------------------------------------


def _add_serve(commands: Any) -> None:
    from gateway import config

    serve = commands.add_parser(
        "serve",
        help="run the CloudFlow server (gRPC API, flow store, engines) in this process",
        description="Run the CloudFlow server until SIGTERM or SIGINT, then drain. The first "
        "line on stdout is 'listening on HOST:PORT'. A bearer token is required from callers "
        f"when ${config.TOKEN_ENV} or --token-file gives one.",
    )
    serve.add_argument(
        "--host",
        default=config.DEFAULT_HOST,
        help="address to listen on (default %(default)s; 0.0.0.0 for every interface)",
    )
    serve.add_argument(
        "--port",
        type=int,
        default=config.DEFAULT_PORT,
        help="TCP port (default %(default)s; 0 picks a free one)",
    )
    serve.add_argument(
        "--db",
        default=str(config.DEFAULT_DB_PATH),
        metavar="PATH",
        help="SQLite file of the flows (default ./%(default)s, created if missing)",
    )
    serve.add_argument(
        "--token-file",
        metavar="PATH",
        help=f"file holding the bearer token callers must send (default: ${config.TOKEN_ENV}; none: no auth)",
    )
    serve.add_argument(
        "--tls-cert", metavar="PEM", help="certificate chain; with --tls-key, serve TLS only"
    )
    serve.add_argument("--tls-key", metavar="PEM", help="private key of --tls-cert")
    serve.add_argument(
        "--functions",
        metavar="MODULE",
        action="append",
        default=[],
        help="a Python module whose public functions serve FC:InvokeFunction (repeatable)",
    )
    serve.add_argument(
        "--allow-host",
        metavar="HOST",
        action="append",
        help="a host HTTP:Request tasks may call (repeatable; default: every host)",
    )
    serve.add_argument(
        "--grace-seconds",
        type=float,
        default=30.0,
        help="on SIGTERM, how long calls in flight may take to finish (default %(default)s)",
    )
    serve.add_argument(
        "--max-running",
        type=int,
        default=10_000,
        help="Express executions in progress at once (default %(default)s)",
    )
    serve.add_argument(
        "--reuse-port",
        action="store_true",
        help="set SO_REUSEPORT so several server processes can share the port",
    )
    serve.add_argument(
        "--telemetry",
        choices=("none", "console", "otlp"),
        help="trace exporter (default: $OTEL_TRACES_EXPORTER, else none)",
    )
    serve.add_argument(
        "--log-level",
        default="INFO",
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        help="log level on stderr (default %(default)s)",
    )
    serve.add_argument(
        "--console-port",
        type=int,
        default=8080,
        metavar="PORT",
        help="the web console's HTTP port, beside the gRPC one (default %(default)s; 0 picks a free one)",
    )
    serve.add_argument("--no-console", action="store_true", help="do not serve the web console")
    serve.add_argument(
        "--metrics-exporter",
        choices=("none", "console", "otlp"),
        default="none",
        help="where metrics go besides the console's /metrics (default %(default)s)",
    )
    serve.add_argument(
        "--retention-days",
        type=float,
        default=None,
        metavar="DAYS",
        help="purge finished Standard executions older than this (default: keep them)",
    )
    serve.set_defaults(handler=_serve)


def _add_worker(commands: Any) -> None:
    worker = commands.add_parser(
        "worker",
        help="serve Python functions to a CloudFlow server as a worker",
        description="Connect to a server and serve the public functions of the given modules "
        "for FC:InvokeFunction tasks, until SIGTERM or SIGINT (then drain).",
    )
    worker.add_argument("--server", default=os.environ.get("CLOUDFLOW_SERVER", "127.0.0.1:50051"))
    worker.add_argument(
        "--functions",
        action="append",
        required=True,
        metavar="MODULE",
        help="a module of functions (repeatable)",
    )
    worker.add_argument(
        "--concurrency", type=int, default=16, help="invocations run at once (default 16)"
    )
    worker.add_argument("--id", default=None, help="a name for this worker in the server's logs")
    worker.add_argument("--token-file", default=None, help="file holding the server's bearer token")
    worker.add_argument(
        "--tls", action="store_true", help="connect over TLS (system root certificates)"
    )
    worker.add_argument(
        "--tls-ca", default=None, metavar="PEM", help="connect over TLS trusting this CA"
    )
    worker.set_defaults(handler=_worker)


def _worker(args: argparse.Namespace) -> int:
    import logging
    import signal

    from gateway.config import token_from_environment
    from gateway.worker_sdk import Worker

    logging.basicConfig(
        level="INFO", stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    token = _read(args.token_file).decode().strip() if args.token_file else token_from_environment()
    worker = Worker(
        args.server,
        token=token,
        worker_id=args.id,
        max_concurrency=args.concurrency,
        tls=args.tls,
        root_certificates=_read(args.tls_ca) if args.tls_ca else None,
    )
    for module in args.functions:
        try:
            worker.registry.load_module(module)
        except ImportError as exc:
            raise UsageError(f"--functions {module}: cannot import it ({exc})") from None

    async def work() -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, lambda: asyncio.ensure_future(worker.stop()))
        runner = asyncio.create_task(worker.run())
        connected = asyncio.create_task(worker.wait_connected())
        await asyncio.wait({runner, connected}, return_when=asyncio.FIRST_COMPLETED)
        if connected.done():
            print(
                f"worker connected to {args.server} serving {', '.join(worker.registry.names())}",
                flush=True,
            )
        await runner

    run_async(work())
    return EXIT_OK


def _serve(args: argparse.Namespace) -> int:
    import logging

    from gateway.config import ServerConfig, token_from_environment
    from gateway.server import serve
    from gateway.telemetry import exporter_from_environment
    from standard_engine.engine import EngineLocked

    logging.basicConfig(
        level=args.log_level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    token = _read(args.token_file).decode().strip() if args.token_file else token_from_environment()
    try:
        config = ServerConfig(
            host=args.host,
            port=args.port,
            db_path=Path(args.db),
            token=token,
            tls_cert=Path(args.tls_cert) if args.tls_cert else None,
            tls_key=Path(args.tls_key) if args.tls_key else None,
            max_running_express=args.max_running,
            grace_seconds=args.grace_seconds,
            reuse_port=args.reuse_port,
            telemetry=args.telemetry or exporter_from_environment(),
            functions_modules=tuple(args.functions),
            allowed_http_hosts=frozenset(args.allow_host) if args.allow_host else None,
            retention_seconds=args.retention_days * 86_400 if args.retention_days else None,
            console_port=None if args.no_console else args.console_port,
            metrics_exporter=args.metrics_exporter,
        )
        return serve(config)
    except (ValueError, OSError, ImportError, EngineLocked) as exc:
        raise UsageError(str(exc)) from None


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run on uvloop where it is installed."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency except on Windows
        return asyncio.run(coroutine)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coroutine)


if __name__ == "__main__":  # pragma: no cover
    # Run the imported module's main, not this __main__ copy's: cli_remote imports
    # gateway.cli, and its UsageError must be the one main() catches.
    from gateway.cli import main as _main

    sys.exit(_main())
