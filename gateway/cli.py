"""The ``cloudflow`` command line.

``cloudflow validate FILE [--mode standard|express]``
    Exit 0 and one confirmation line for a valid flow; exit 2 and every problem on its
    own line for an invalid one.

``cloudflow run FILE --input JSON [--mode express|standard] [--functions MODULE]``
    Runs the flow in this process and prints one JSON object on the last line of stdout:
    ``{"Name", "Status", "Output", "ErrorCode", "ErrorMessage"}``. Exit 0 when the
    execution succeeded, 1 when it did not, 2 for a bad definition or a bad input.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any, TypeVar

from shared.compiler import check_flow, compile_flow
from shared.errors import InvalidDefinition, ServiceError
from shared.plan import ExecutionMode
from shared.values import parse_json_object

__all__ = ["main"]

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
        print(f"cloudflow: internal error ({type(exc).__name__}: {exc}); please report it", file=sys.stderr)
        return EXIT_BAD_INPUT


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cloudflow", description="CloudFlow workflow runtime")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    validate = commands.add_parser("validate", help="check a flow definition and list every problem")
    validate.add_argument("file", help="FDL file (YAML or JSON)")
    validate.add_argument("--mode", choices=("standard", "express"), default="standard")
    validate.set_defaults(handler=_validate)

    run = commands.add_parser("run", help="run a flow in this process and print its result")
    run.add_argument("file", help="FDL file (YAML or JSON)")
    run.add_argument("--input", default="{}", help="the execution input, a JSON object (default {})")
    run.add_argument("--mode", choices=("express", "standard"), default="express")
    run.add_argument("--functions", metavar="MODULE", help="a Python module whose functions serve FC:InvokeFunction")
    run.add_argument("--name", default="", help="the execution name")
    run.set_defaults(handler=_run)
    return parser


def _mode(text: str) -> ExecutionMode:
    return ExecutionMode.EXPRESS if text == "express" else ExecutionMode.STANDARD


def _read(path_text: str) -> bytes:
    path = Path(path_text)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{path_text}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{path_text}: is a directory, not a flow file") from None
    except OSError as exc:
        raise UsageError(f"{path_text}: cannot read it ({exc.strerror})") from None


def _validate(args: argparse.Namespace) -> int:
    text = _read(args.file)
    problems = check_flow(text, _mode(args.mode))
    if problems:
        for problem in problems:
            print(f"{args.file}: {problem}")
        print(f"{args.file}: invalid ({len(problems)} problem{'s' if len(problems) != 1 else ''})", file=sys.stderr)
        return EXIT_BAD_INPUT
    plan = compile_flow(text, _mode(args.mode))
    print(f"{args.file}: valid {args.mode} flow ({plan.state_count} states)")
    return EXIT_OK


def _run(args: argparse.Namespace) -> int:
    text = _read(args.file)
    mode = _mode(args.mode)
    if mode is ExecutionMode.STANDARD:
        raise UsageError("--mode standard needs the standard engine, which this version does not include yet; use --mode express")
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
    from express_engine import ExpressEngine
    from gateway.integrations import FunctionInvoker, FunctionRegistry, HttpInvoker, IntegrationRouter

    registry = FunctionRegistry()
    if args.functions:
        try:
            registry.load_module(args.functions)
        except ImportError as exc:
            raise UsageError(f"--functions {args.functions}: cannot import it ({exc})") from None

    async def execute() -> dict[str, Any]:
        router = IntegrationRouter(functions=FunctionInvoker(registry), http=HttpInvoker())
        try:
            engine = ExpressEngine(router)
            result = await engine.run(plan, execution_input, flow_name=plan.name, execution_name=args.name)
        finally:
            await router.aclose()
        return result.summary()

    try:
        summary = _run_async(execute())
    except ServiceError as exc:
        raise UsageError(exc.message) from None
    print(json.dumps(summary, ensure_ascii=False))
    return EXIT_OK if summary["Status"] == "Succeeded" else EXIT_NOT_SUCCEEDED


def _run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run on uvloop where it is installed."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency except on Windows
        return asyncio.run(coroutine)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coroutine)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
