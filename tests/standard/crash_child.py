"""A standard-engine process for the crash tests: started, SIGKILLed and restarted by the test.

``python -m tests.standard.crash_child DB CALLS_FILE COUNT`` opens the engine on DB,
starts COUNT executions (the same names on every start: a running one is returned, a
finished one is refused), and exits 0 once every one of them has finished. Each function
call is appended to CALLS_FILE so the test can count repeated calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys

from gateway.integrations import FunctionError, FunctionInvoker, FunctionRegistry, IntegrationRouter
from shared.errors import ExecutionAlreadyExists
from shared.results import ExecutionStatus
from standard_engine import StandardEngine

FLOWS = {
    "waiter": """
Type: StateMachine
Name: waiter
SpecVersion: v1
StartAt: Pause
States:
  - Type: Wait
    Name: Pause
    Seconds: 1
    Next: Call
  - Type: Task
    Name: Call
    Action: FC:InvokeFunction
    Parameters:
      functionName: double
      body:
        key.$: $Context.Execution.Name
        v.$: $Input.v
    OutputConstructor:
      result.$: $Output.Body.v
    End: true
""",
    "mapper": """
Type: StateMachine
Name: mapper
SpecVersion: v1
StartAt: Each
States:
  - Type: Map
    Name: Each
    ItemsPath: $Input.items
    MaxConcurrency: 2
    ItemConstructor:
      key.$: format("{}-{}", $Context.Execution.Name, $Index)
      v.$: $Item
    Processor:
      StartAt: Call
      States:
        - Type: Task
          Name: Call
          Action: FC:InvokeFunction
          Parameters:
            functionName: double
            body:
              key.$: $Input.key
              v.$: $Input.v
          OutputConstructor:
            v.$: $Output.Body.v
          End: true
    OutputConstructor:
      results.$: $Output.Items
    End: true
""",
    "retrier": """
Type: StateMachine
Name: retrier
SpecVersion: v1
StartAt: Call
States:
  - Type: Task
    Name: Call
    Action: FC:InvokeFunction
    Parameters:
      functionName: flaky
      body:
        key.$: $Context.Execution.Name
        v.$: $Input.v
    Retry:
      - Errors: [FC.ResourceThrottled]
        MaxAttempts: 10
        IntervalSeconds: 0.5
    OutputConstructor:
      result.$: $Output.Body.v
      tries.$: $Context.Current.RetryCount
    End: true
""",
}


def plan(count: int) -> list[tuple[str, str, dict[str, object]]]:
    """(flow, execution name, input) for every execution of the test."""
    kinds = sorted(FLOWS)
    runs = []
    for i in range(count):
        kind = kinds[i % len(kinds)]
        value: dict[str, object] = (
            {"items": [i, i + 1, i + 2, i + 3, i + 4]} if kind == "mapper" else {"v": i}
        )
        runs.append((kind, f"{kind}-{i}", value))
    return runs


def expected_output(kind: str, value: dict[str, object]) -> object:
    if kind == "mapper":
        items = value["items"]
        assert isinstance(items, list)
        return {"results": [{"v": 2 * x} for x in items]}
    if kind == "retrier":
        # The first call in each process is throttled, so a crash between attempts adds
        # retries: at least one, at most one per process that ran the task.
        return {"result": 2 * int(value["v"])}  # type: ignore[call-overload]
    return {"result": 2 * int(value["v"])}  # type: ignore[call-overload]


async def main(db: str, calls_file: str, count: int) -> int:
    fd = os.open(calls_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    failed_once: set[str] = set()
    registry = FunctionRegistry()

    async def double(event: dict[str, object]) -> dict[str, object]:
        os.write(fd, f"double {event['key']}\n".encode())
        await asyncio.sleep(0.05)
        return {"v": 2 * int(event["v"])}  # type: ignore[call-overload]

    async def flaky(event: dict[str, object]) -> dict[str, object]:
        key = str(event["key"])
        os.write(fd, f"flaky {key}\n".encode())
        if key not in failed_once:  # the first call in each process is throttled
            failed_once.add(key)
            raise FunctionError("FC.ResourceThrottled", "slow down")
        return {"v": 2 * int(event["v"])}  # type: ignore[call-overload]

    registry.register("double", double)
    registry.register("flaky", flaky)
    engine = await StandardEngine.open(db, IntegrationRouter(functions=FunctionInvoker(registry)))
    try:
        runs = plan(count)
        for kind, name, value in runs:
            with contextlib.suppress(ExecutionAlreadyExists):
                await engine.start_execution(kind, 1, FLOWS[kind], name, json.dumps(value))
        for kind, name, _ in runs:
            while (
                await engine.describe_execution(kind, name, wait_seconds=30)
            ).status is ExecutionStatus.RUNNING:
                pass
    finally:
        await engine.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]))))
