"""Express engine throughput and latency, against a hand-written baseline in the same run.

Three flows run in-process on uvloop, one execution at a time:

* ``pass-5``: five Pass states in a row;
* ``choice-loop-100``: a Choice and a Pass looping 100 times (a counter in the data);
* ``map-100``: an inline Map over 100 items whose processor is one Pass state.

The baseline of each is the same work written by hand as a Python ``async def`` (awaited
the same way the engine is): a dict copy per state. Engine and baseline take turns in
short slices for the same total time, so a change in the machine's load weighs on both
alike. The table shows executions/s by wall clock and per second of this process's CPU
time (the two differ when other processes compete for the cores), p50 and p99 latency,
and the ratio engine/baseline. The goals of issue 3 are checked as text, never asserted.

Usage::

    python benchmarks/bench_express.py [--seconds N] [--profile SCENARIO]

``--profile SCENARIO`` runs the engine alone on one scenario under cProfile instead and
prints the functions that take the most time.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import uvloop

from express_engine import ExpressEngine
from shared.compiler import compile_flow
from shared.plan import ExecutionMode, FlowPlan
from shared.ports import TaskRequest
from shared.results import ExecutionStatus

PASS_5 = """
Type: StateMachine
Name: pass5
SpecVersion: v1
StartAt: S1
States:
  - {Type: Pass, Name: S1, Next: S2}
  - {Type: Pass, Name: S2, Next: S3}
  - {Type: Pass, Name: S3, Next: S4}
  - {Type: Pass, Name: S4, Next: S5}
  - {Type: Pass, Name: S5, End: true}
"""

CHOICE_LOOP = """
Type: StateMachine
Name: loop100
SpecVersion: v1
StartAt: More
States:
  - Type: Choice
    Name: More
    Branches:
      - Condition: $Input.i < 100
        Next: Step
    Default: Done
  - Type: Pass
    Name: Step
    OutputConstructor:
      i.$: $Input.i + 1
    Next: More
  - Type: Succeed
    Name: Done
"""

MAP_100 = """
Type: StateMachine
Name: map100
SpecVersion: v1
StartAt: Each
States:
  - Type: Map
    Name: Each
    ItemsPath: $Input.items
    Processor:
      StartAt: Touch
      States:
        - {Type: Pass, Name: Touch, End: true}
    End: true
"""

ORDER = {"orderId": "A1", "amount": 10, "currency": "EUR", "lines": [1, 2, 3]}
MAP_INPUT = {"items": [{"n": n} for n in range(100)]}


async def baseline_pass_5(data: dict[str, Any]) -> dict[str, Any]:
    """Five states, each handing on a copy of its input."""
    for _ in range(5):
        data = dict(data)
    return data


async def baseline_choice_loop(data: dict[str, Any]) -> dict[str, Any]:
    """The Choice (a copy and a test) and the Pass (a copy with the counter increased)."""
    while True:
        data = dict(data)
        if not data["i"] < 100:
            return data
        data = {"i": data["i"] + 1}


async def baseline_map_100(data: dict[str, Any]) -> dict[str, Any]:
    """A copy of the Map's input, then one copy per item (the processor's Pass)."""
    data = dict(data)
    return {"Items": [dict(item) for item in data["items"]]}


@dataclass(frozen=True)
class Scenario:
    name: str
    plan: FlowPlan
    input: dict[str, Any]
    baseline: Callable[[dict[str, Any]], Awaitable[Any]]


@dataclass(frozen=True)
class Measurement:
    executions: int
    seconds: float
    """Wall-clock time."""
    cpu_seconds: float
    """CPU time of this process: on a busy machine, what the work itself cost."""
    latencies_ns: list[int]

    @property
    def rate(self) -> float:
        return self.executions / self.seconds

    @property
    def cpu_rate(self) -> float:
        return self.executions / self.cpu_seconds

    def percentile(self, fraction: float) -> float:
        """Latency in microseconds at ``fraction`` (nearest rank)."""
        ordered = sorted(self.latencies_ns)
        rank = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
        return ordered[rank] / 1000


class _NoTasks:
    """The flows benchmarked here have no Task state; invoking one is a bug."""

    async def invoke(self, request: TaskRequest) -> Any:
        raise AssertionError(f"unexpected task {request.state_name}")


def scenarios() -> list[Scenario]:
    def plan(text: str) -> FlowPlan:
        return compile_flow(text, ExecutionMode.EXPRESS)

    return [
        Scenario("pass-5", plan(PASS_5), ORDER, baseline_pass_5),
        Scenario("choice-loop-100", plan(CHOICE_LOOP), {"i": 0}, baseline_choice_loop),
        Scenario("map-100", plan(MAP_100), MAP_INPUT, baseline_map_100),
    ]


SLICE_SECONDS = 0.05
"""Engine and baseline take turns in slices this long, so a change in the machine's load
during the run (other processes, frequency scaling) weighs on both alike."""


class Sampler:
    """Times calls of one function across the slices it is given."""

    def __init__(self, run: Callable[[], Awaitable[Any]]) -> None:
        self.run = run
        self.latencies: list[int] = []
        self.elapsed_ns = 0
        self.cpu_ns = 0

    async def slice(self, seconds: float) -> None:
        clock = time.perf_counter_ns
        run = self.run
        record = self.latencies.append
        cpu_started = time.process_time_ns()
        started = now = clock()
        stop = started + int(seconds * 1e9)
        while now < stop:
            before = now
            await run()
            now = clock()
            record(now - before)
        self.elapsed_ns += now - started
        self.cpu_ns += time.process_time_ns() - cpu_started

    def measurement(self) -> Measurement:
        return Measurement(
            len(self.latencies), self.elapsed_ns / 1e9, self.cpu_ns / 1e9, self.latencies
        )


async def measure_pair(
    engine_run: Callable[[], Awaitable[Any]],
    baseline_run: Callable[[], Awaitable[Any]],
    seconds: float,
) -> tuple[Measurement, Measurement]:
    """Warm both up, then alternate slices until each has run for ``seconds``."""
    engine, baseline = Sampler(engine_run), Sampler(baseline_run)
    for sampler in (engine, baseline):
        await sampler.slice(min(0.2, seconds / 5))
        sampler.latencies.clear()
        sampler.elapsed_ns = sampler.cpu_ns = 0
    gc.collect()
    slices = max(1, round(seconds / SLICE_SECONDS))
    for _ in range(slices):
        await engine.slice(seconds / slices)
        await baseline.slice(seconds / slices)
    return engine.measurement(), baseline.measurement()


async def bench(seconds: float) -> list[tuple[Scenario, Measurement, Measurement]]:
    engine = ExpressEngine(_NoTasks())
    rows = []
    for scenario in scenarios():
        check = await engine.run(scenario.plan, scenario.input)
        if check.status is not ExecutionStatus.SUCCEEDED:
            raise SystemExit(f"{scenario.name}: the flow ended {check.status.value}: {check.error}")

        def engine_run(s: Scenario = scenario) -> Awaitable[Any]:
            return engine.run(s.plan, s.input)

        def baseline_run(s: Scenario = scenario) -> Awaitable[Any]:
            return s.baseline(s.input)

        on_engine, on_baseline = await measure_pair(engine_run, baseline_run, seconds)
        rows.append((scenario, on_engine, on_baseline))
    return rows


def report(rows: list[tuple[Scenario, Measurement, Measurement]], seconds: float) -> None:
    print(
        f"express engine vs hand-written baseline: {seconds:g} s each, in alternating "
        f"{SLICE_SECONDS * 1000:g} ms slices, one execution at a time, uvloop"
    )
    print(f"python {sys.version.split()[0]}")
    print()
    header = (
        f"{'scenario':<17} {'':<9} {'exec/s':>11} {'per CPU-s':>11} {'p50 µs':>9} {'p99 µs':>9}"
    )
    print(header)
    print("-" * len(header))
    for scenario, engine, baseline in rows:
        for label, m in (("engine", engine), ("baseline", baseline)):
            print(
                f"{scenario.name:<17} {label:<9} {m.rate:>11,.0f} {m.cpu_rate:>11,.0f} "
                f"{m.percentile(0.50):>9.2f} {m.percentile(0.99):>9.2f}"
            )
        print(
            f"{'':<17} {'ratio':<9} {engine.rate / baseline.rate:>11.1%} "
            f"{engine.cpu_rate / baseline.cpu_rate:>11.1%}"
        )
    print()
    scenario, engine, baseline = rows[0]
    print("goals (issue 3), judged by wall clock, with the CPU-time figure beside:")
    print(
        f"  {scenario.name} at >= 20% of the baseline's rate: "
        f"{engine.rate / baseline.rate:.1%} ({engine.cpu_rate / baseline.cpu_rate:.1%}) -> "
        f"{verdict(engine.rate / baseline.rate, engine.cpu_rate / baseline.cpu_rate, 0.20)}"
    )
    print(
        f"  {scenario.name} at >= 50,000 executions/s on one core: "
        f"{engine.rate:,.0f} ({engine.cpu_rate:,.0f}) -> "
        f"{verdict(engine.rate, engine.cpu_rate, 50_000)}"
    )


def verdict(wall: float, cpu: float, goal: float) -> str:
    if wall >= goal:
        return "met"
    if cpu >= goal:
        return "met by CPU time only (the machine is busy: rerun when it is idle)"
    return "NOT met"


async def profile(name: str, seconds: float) -> None:
    """Profile the engine on one scenario and print the top functions by own time."""
    chosen = {s.name: s for s in scenarios()}.get(name)
    if chosen is None:
        raise SystemExit(
            f"unknown scenario {name!r}; use one of {', '.join(s.name for s in scenarios())}"
        )
    engine = ExpressEngine(_NoTasks())
    profiler = cProfile.Profile()
    stop = time.perf_counter() + seconds
    profiler.enable()
    while time.perf_counter() < stop:
        await engine.run(chosen.plan, chosen.input)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--seconds", type=float, default=2.0, help="measuring time per engine/baseline (default 2)"
    )
    parser.add_argument(
        "--profile", metavar="SCENARIO", help="profile the engine on one scenario instead"
    )
    args = parser.parse_args()
    if args.profile:
        uvloop.run(profile(args.profile, args.seconds))
        return
    rows = uvloop.run(bench(args.seconds))
    report(rows, args.seconds)


if __name__ == "__main__":
    main()
