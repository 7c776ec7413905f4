"""The flows of the crash test, the executions it starts and the outputs it expects."""

from __future__ import annotations

FLOWS = {
    "waiter": """
Type: StateMachine
Name: waiter
SpecVersion: v1
StartAt: Pause
States:
  - Type: Wait
    Name: Pause
    Seconds: 2
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
