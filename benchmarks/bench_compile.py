"""FDL compile time and constructor evaluation time, against baselines in the same run.

Compile: flows of 10, 100 and 1,000 states (a realistic mix: Pass with constructors, Task
with Parameters, Retry and Catch, Choice, Wait, ending in Succeed and Fail), as YAML text
a user would write. Each is measured through ``compile_flow`` (load, validate every field,
lower into the plan, parse every expression) and, as baselines on the same text:

* ``yaml.safe_load``: what a program that only reads the YAML pays (pure-Python loader);
* ``yaml.load(..., CSafeLoader)``: the libyaml-backed loader that the compiler itself uses.

Evaluation: a typical OutputConstructor (five keys: paths, arithmetic, a comparison, a
function call, ``$Context``) evaluated through the compiled ``Template``, against the same
mapping built by a hand-written Python function.

Each figure is the fastest of several timed batches. Usage::

    python benchmarks/bench_compile.py [--seconds N]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import yaml

from shared.compiler import compile_flow
from shared.context import RunContext
from shared.fdl.loader import load_document
from shared.ports import SystemEntropy
from shared.states.pass_ import PassState
from shared.templates import Template

BATCHES = 5


def flow_text(size: int) -> str:
    """A flow of ``size`` states at the top level: a repeating mix, then Succeed and Fail."""
    lines = [
        "Type: StateMachine",
        "SpecVersion: v1",
        f"Name: bench-{size}",
        "StartAt: S0",
        "States:",
    ]
    body = size - 2
    for i in range(body):
        following = f"S{i + 1}" if i + 1 < body else "Done"
        kind = i % 4
        if kind == 0:
            lines += [
                "  - Type: Pass",
                f"    Name: S{i}",
                "    InputConstructor:",
                "      orderId.$: $Input.orderId",
                "      total.$: $Input.price * $Input.quantity",
                "      step: " + str(i),
                f"    Next: {following}",
            ]
        elif kind == 1:
            lines += [
                "  - Type: Task",
                f"    Name: S{i}",
                "    Action: FC:InvokeFunction",
                "    Timeout: 30",
                "    Parameters:",
                "      functionName: charge",
                "      body:",
                "        orderId.$: $Input.orderId",
                "        amount.$: $Input.total",
                "    Retry:",
                "      - Errors: [FC.ResourceThrottled]",
                "        MaxAttempts: 3",
                "        IntervalSeconds: 1",
                "        BackoffRate: 2",
                "    Catch:",
                "      - Errors: [FnF.ALL]",
                "        Next: Failed",
                "    OutputConstructor:",
                "      orderId.$: $Input.orderId",
                "      chargeId.$: $Output.Body.chargeId",
                f"    Next: {following}",
            ]
        elif kind == 2:
            lines += [
                "  - Type: Choice",
                f"    Name: S{i}",
                "    Branches:",
                "      - Condition: $Input.total > 1000 && $Input.vip == true",
                f"        Next: {following}",
                '      - Condition: $Input.status == "ready"',
                f"        Next: {following}",
                f"    Default: {following}",
            ]
        else:
            lines += [
                "  - Type: Wait",
                f"    Name: S{i}",
                "    Seconds: 1",
                f"    Next: {following}",
            ]
    lines += [
        "  - Type: Succeed",
        "    Name: Done",
        "  - Type: Fail",
        "    Name: Failed",
        "    Code: ChargeFailed",
    ]
    return "\n".join(lines) + "\n"


def measure(work: Callable[[], Any], seconds: float) -> float:
    """Seconds per call in the fastest of BATCHES batches, each sized to take seconds/BATCHES.

    The fastest batch, not the mean: on a shared machine the other batches measure the
    neighbours as well (the advice of the ``timeit`` documentation).
    """
    work()  # warm up
    start = time.perf_counter()
    work()
    once = max(time.perf_counter() - start, 1e-7)
    per_batch = max(1, int(seconds / BATCHES / once))
    samples = []
    for _ in range(BATCHES):
        start = time.perf_counter()
        for _ in range(per_batch):
            work()
        samples.append((time.perf_counter() - start) / per_batch)
    return min(samples)


def show_time(seconds: float) -> str:
    if seconds >= 1e-3:
        return f"{seconds * 1e3:9.2f} ms"
    return f"{seconds * 1e6:9.2f} µs"


def bench_compile(seconds: float) -> None:
    c_loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    print("Compile time per flow (fastest of 5 batches)")
    header = f"{'flow':>11} {'bytes':>8} | {'compile_flow':>12} {'per state':>12} | {'of it: load':>12} | {'yaml.safe_load':>14} {'ratio':>6} | {'CSafeLoader':>12} {'ratio':>6}"
    print(header)
    print("-" * len(header))
    for size in (10, 100, 1000):
        text = flow_text(size)
        plan = compile_flow(text)
        assert plan.state_count == size, plan.state_count
        compile_time = measure(partial(compile_flow, text), seconds)
        load_time = measure(partial(load_document, text), seconds)
        safe_load = measure(partial(yaml.safe_load, text), seconds)
        c_load = measure(partial(yaml.load, text, Loader=c_loader), seconds)
        print(
            f"{size:>5} states {len(text):>8} | {show_time(compile_time):>12} {show_time(compile_time / size):>12} | "
            f"{show_time(load_time):>12} | {show_time(safe_load):>14} {compile_time / safe_load:5.2f}x | "
            f"{show_time(c_load):>12} {compile_time / c_load:5.2f}x"
        )
    print(
        "ratio = compile_flow time / baseline time on the same text (below 1: compiling is cheaper than that load)"
    )


CONSTRUCTOR_FLOW = """\
Type: StateMachine
SpecVersion: v1
StartAt: Shape
States:
  - Type: Pass
    Name: Shape
    OutputConstructor:
      orderId.$: $Input.order.id
      total.$: $Input.order.price * $Input.order.quantity
      vip.$: $Input.order.price > 1000 && $Context.Execution.Input.vip == true
      label.$: format("order {} for {}", $Input.order.id, $Input.customer.name)
      items.$: arrayLength($Input.order.items)
    End: true
"""


def hand_written(variables: dict[str, Any]) -> dict[str, Any]:
    """The baseline: what the constructor computes, written directly in Python."""
    state_input = variables["$Input"]
    order = state_input["order"]
    context = variables["$Context"]
    return {
        "orderId": order["id"],
        "total": order["price"] * order["quantity"],
        "vip": order["price"] > 1000 and context["Execution"]["Input"]["vip"] is True,
        "label": "order {} for {}".format(order["id"], state_input["customer"]["name"]),
        "items": len(order["items"]),
    }


def bench_evaluation(seconds: float) -> None:
    state = compile_flow(CONSTRUCTOR_FLOW).scope.first
    assert isinstance(state, PassState) and isinstance(state.output_constructor, Template)
    template = state.output_constructor
    entropy = SystemEntropy()
    run = RunContext("e", "f", {"vip": True}, "2024-01-01T00:00:00Z", entropy)
    data = {
        "order": {"id": "A1", "price": 1200, "quantity": 3, "items": [1, 2, 3]},
        "customer": {"name": "Ada"},
    }
    variables = {
        "$Input": data,
        "$Output": data,
        "$Global": {},
        "$Context": run.context_value("Shape", data),
    }
    assert template.build(variables, entropy) == hand_written(variables)
    evaluated = measure(lambda: template.build(variables, entropy), seconds)
    baseline = measure(lambda: hand_written(variables), seconds)
    whole_state = measure(lambda: state.enter(data, run), seconds)
    print()
    print("Expression evaluation: a typical OutputConstructor of five keys (fastest of 5 batches)")
    header = f"{'what':<46} {'time':>12} {'ratio':>7}"
    print(header)
    print("-" * len(header))
    print(
        f"{'Template.build (compiled expressions)':<46} {show_time(evaluated):>12} {evaluated / baseline:6.2f}x"
    )
    print(f"{'the same mapping, hand-written Python':<46} {show_time(baseline):>12} {1.0:6.2f}x")
    print(
        f"{'PassState.enter (context, constructor, size)':<46} {show_time(whole_state):>12} {whole_state / baseline:6.2f}x"
    )
    print("ratio = time / hand-written baseline")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--seconds", type=float, default=0.5, help="time spent per measurement (default 0.5)"
    )
    args = parser.parse_args()
    print(
        f"Python {sys.version.split()[0]}, PyYAML {yaml.__version__} (libyaml: {yaml.__with_libyaml__})"
    )
    print()
    bench_compile(args.seconds)
    bench_evaluation(args.seconds)


if __name__ == "__main__":
    main()
