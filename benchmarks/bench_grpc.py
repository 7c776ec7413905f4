"""StartSyncExecution throughput over gRPC, against a raw grpc.aio echo server as the baseline.

    python benchmarks/bench_grpc.py [--duration 10] [--concurrency 64] [--processes 1,2]

What it does, all on this machine:

1. Starts a raw grpc.aio echo server (uvloop, a generic handler that returns the request bytes)
   and drives it from a separate client process: ``--concurrency`` callers, each making one
   call after another, for ``--duration`` seconds after a warm-up.
2. Starts ``cloudflow serve`` (a fresh SQLite file), creates a 5-state Pass flow in Express mode
   and drives StartSyncExecution of it with the same client, the same request bytes and the
   same concurrency.
3. Prints requests/s, p50/p99 latency and the server's CPU time per call for both, and the
   ratios (goal: >= 85 %). ``--rounds N`` alternates the two sides N times, reporting medians.
4. Looks past one core: starts ``--processes`` server processes sharing one port with
   SO_REUSEPORT (``cloudflow serve --reuse-port``, one SQLite file) and drives them the same way,
   through several channels so the kernel spreads the connections over the processes.

The client sends pre-serialised bytes and does not decode responses (one response of each
server is decoded and checked before the run), so client-side costs are equal for both
servers. Client and servers compete for the same cores: see the printed CPU count.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

ECHO_METHOD = "/bench.Echo/Echo"
SYNC_METHOD = "/cloudflow.v1.CloudFlow/StartSyncExecution"
FLOW_NAME = "bench-pass5"
FLOW = """\
Type: StateMachine
SpecVersion: v1
StartAt: S1
States:
  - {Type: Pass, Name: S1, Next: S2}
  - {Type: Pass, Name: S2, Next: S3}
  - {Type: Pass, Name: S3, Next: S4}
  - {Type: Pass, Name: S4, Next: S5}
  - Type: Pass
    Name: S5
    OutputConstructor:
      orderId.$: $Input.orderId
      done: true
    End: true
"""
STARTUP_SECONDS = 30


# -- the client process ------------------------------------------------------------------------


async def drive(
    target: str,
    method: str,
    payload: bytes,
    *,
    duration: float,
    warmup: float,
    callers: int,
    channels: int,
) -> dict[str, Any]:
    """Call ``method`` with ``payload`` from ``callers`` loops; latencies of the measured window."""
    import grpc

    # A local subchannel pool per channel: each channel gets its own TCP connection, which is
    # what lets SO_REUSEPORT spread them over several server processes.
    opened = [
        grpc.aio.insecure_channel(target, options=[("grpc.use_local_subchannel_pool", 1)])
        for _ in range(channels)
    ]
    stubs = [channel.unary_unary(method) for channel in opened]  # bytes in, bytes out
    latencies: list[float] = []
    errors: dict[str, int] = {}
    state = {"measuring": False, "stopping": False}
    completed = [0]

    async def caller(index: int) -> None:
        call = stubs[index % channels]
        clock = time.perf_counter
        while not state["stopping"]:
            began = clock()
            try:
                await call(payload, timeout=30)
            except grpc.aio.AioRpcError as error:
                errors[error.code().name] = errors.get(error.code().name, 0) + 1
                continue
            completed[0] += 1
            if state["measuring"]:
                latencies.append(clock() - began)

    tasks = [asyncio.create_task(caller(i)) for i in range(callers)]
    await asyncio.sleep(warmup)
    state["measuring"] = True
    began = time.perf_counter()
    await asyncio.sleep(duration)
    state["measuring"] = False
    elapsed = time.perf_counter() - began
    state["stopping"] = True
    await asyncio.gather(*tasks)
    for channel in opened:
        await channel.close()
    latencies.sort()
    return {
        "requests": len(latencies),
        "seconds": elapsed,
        "rps": len(latencies) / elapsed,
        "p50_ms": 1000 * percentile(latencies, 0.50),
        "p99_ms": 1000 * percentile(latencies, 0.99),
        "errors": errors,
        "all_calls": completed[0],
    }


def percentile(ordered: Sequence[float], fraction: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


# -- the echo server process -------------------------------------------------------------------


async def echo_server() -> None:
    import grpc

    async def echo(request: bytes, context: Any) -> bytes:
        return request

    from gateway.api import cloudflow_pb2 as pb

    # The diagnostic third server: the CloudFlow method with protobuf decoding and encoding but
    # no work at all (a constant answer). The gap from echo to it is the price of the API's
    # messages; the gap from it to CloudFlow is the gateway's and the engine's.
    answer = pb.StartSyncExecutionResponse(
        name="bench:00000000-0000-4000-8000-000000000000",
        flow_name=FLOW_NAME,
        status=pb.EXECUTION_STATUS_SUCCEEDED,
        output='{"orderId":"A-1001","done":true}',
    )
    answer.started_time.GetCurrentTime()
    answer.stopped_time.GetCurrentTime()

    async def constant(request: Any, context: Any) -> Any:
        return answer

    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    handlers = {"Echo": grpc.unary_unary_rpc_method_handler(echo)}  # no (de)serialisers: bytes
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("bench.Echo", handlers),))
    proto = {
        "StartSyncExecution": grpc.unary_unary_rpc_method_handler(
            constant,
            request_deserializer=pb.StartSyncExecutionRequest.FromString,
            response_serializer=pb.StartSyncExecutionResponse.SerializeToString,
        )
    }
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("cloudflow.v1.CloudFlow", proto),)
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    print(f"listening on 127.0.0.1:{port}", flush=True)
    await server.wait_for_termination()


# -- the conductor -----------------------------------------------------------------------------


def run_on_uvloop(coroutine: Any) -> Any:
    import uvloop

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coroutine)


@contextmanager
def started(command: list[str], log: Path) -> Iterator[tuple[str, int]]:
    """Start a server process; yield the address from its ``listening on`` line, and its pid."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("CLOUDFLOW_TOKEN", None)
    with log.open("ab") as errors:
        process = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=errors
        )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().decode()
        if not line.startswith("listening on "):
            raise SystemExit(f"{' '.join(command)} did not start (see {log}): {line!r}")
        yield line.split()[-1], process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def serve_command(db: Path, port: int = 0, reuse_port: bool = False) -> list[str]:
    command = [sys.executable, "-m", "gateway.cli", "serve", "--port", str(port), "--db", str(db)]
    return command + ["--log-level", "WARNING"] + (["--reuse-port"] if reuse_port else [])


def cpu_seconds(pids: Sequence[int]) -> float:
    """CPU time (user + system, all threads) the processes have used so far (Linux)."""
    ticks = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime: fields 14 and 15 of stat
    return ticks / os.sysconf("SC_CLK_TCK")


def client_run(
    target: str,
    method: str,
    payload: bytes,
    options: argparse.Namespace,
    channels: int,
    server_pids: Sequence[int],
) -> dict[str, Any]:
    """Drive ``target`` from a separate client process and return its measurements.

    Adds ``server_us_per_call``: the servers' CPU time per call over the whole run. Unlike
    throughput, it hardly depends on what else the machine is doing, so it is the steadier
    figure on a shared machine.
    """
    command = [
        sys.executable, __file__, "_drive", target, method, payload.hex(),
        "--duration", str(options.duration), "--warmup", str(options.warmup),
        "--concurrency", str(options.concurrency), "--channels", str(channels),
    ]  # fmt: skip
    cpu_before = cpu_seconds(server_pids)
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    cpu_used = cpu_seconds(server_pids) - cpu_before
    if done.returncode != 0:
        raise SystemExit(f"the client failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    result["server_us_per_call"] = 1e6 * cpu_used / max(result["all_calls"], 1)
    if result["errors"]:
        print(f"  warning: failed calls {result['errors']}", flush=True)
    return result


def sync_request() -> bytes:
    from gateway.api import cloudflow_pb2 as pb

    request = pb.StartSyncExecutionRequest(flow_name=FLOW_NAME, input='{"orderId":"A-1001"}')
    return bytes(request.SerializeToString())


async def prepare_flow(target: str) -> None:
    """Create the flow and check that one execution succeeds with the expected output."""
    from gateway.client import CloudFlowClient
    from shared.plan import ExecutionMode
    from shared.results import ExecutionStatus

    async with CloudFlowClient(target) as client:
        await client.create_flow(FLOW_NAME, FLOW, mode=ExecutionMode.EXPRESS)
        result = await client.start_sync_execution(FLOW_NAME, {"orderId": "A-1001"})
    if result.status is not ExecutionStatus.SUCCEEDED or result.output != {
        "orderId": "A-1001",
        "done": True,
    }:
        raise SystemExit(f"the benchmark flow did not run as expected: {result}")


async def check_echo(target: str, payload: bytes) -> None:
    import grpc

    async with grpc.aio.insecure_channel(target) as channel:
        if await channel.unary_unary(ECHO_METHOD)(payload) != payload:
            raise SystemExit("the echo server did not echo")


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return sorted(runs, key=lambda run: run["rps"])[len(runs) // 2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def line(label: str, result: dict[str, Any]) -> str:
    return (
        f"{label:<28} {result['rps']:>9,.0f} req/s   p50 {result['p50_ms']:6.2f} ms   "
        f"p99 {result['p99_ms']:6.2f} ms   server CPU {result['server_us_per_call']:5.0f} us/call"
    )


def conduct(options: argparse.Namespace) -> None:
    payload = sync_request()
    print(
        f"{os.cpu_count()} CPUs; {options.concurrency} concurrent callers in one client process; "
        f"{options.duration:g} s measured after {options.warmup:g} s warm-up per run",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="cloudflow-bench-") as scratch:
        workdir = Path(scratch)
        log = workdir / "servers.log"
        with (
            started([sys.executable, __file__, "_echo"], log) as (echo, echo_pid),
            started(serve_command(workdir / "one.db"), log) as (target, server_pid),
        ):
            run_on_uvloop(check_echo(echo, payload))
            run_on_uvloop(prepare_flow(target))
            # Rounds alternate the two servers so that a change in the machine's other load
            # hits both alike; each side reports its median round.
            echo_runs, proto_runs, sync_runs = [], [], []
            channels = options.channels
            for _ in range(options.rounds):
                echo_runs.append(
                    client_run(echo, ECHO_METHOD, payload, options, channels, [echo_pid])
                )
                sync_runs.append(
                    client_run(target, SYNC_METHOD, payload, options, channels, [server_pid])
                )
                if options.diagnose:
                    proto_runs.append(
                        client_run(echo, SYNC_METHOD, payload, options, channels, [echo_pid])
                    )
        baseline, sync = median_run(echo_runs), median_run(sync_runs)
        print(line("raw grpc.aio echo", baseline), flush=True)
        if proto_runs:
            print(line("  (protobuf, constant answer)", median_run(proto_runs)), flush=True)
        print(line("StartSyncExecution (5 Pass)", sync), flush=True)
        ratio = sync["rps"] / baseline["rps"]
        verdict = "meets" if ratio >= 0.85 else "misses"
        print(f"{'ratio':<28} {ratio:>9.1%} of raw echo throughput ({verdict} the 85 % goal)")
        cpu_ratio = baseline["server_us_per_call"] / sync["server_us_per_call"]
        print(
            f"{'':<28} {cpu_ratio:>9.1%} by server CPU per call (what a CPU-bound server would reach)"
        )

        if options.processes:
            print("\nSO_REUSEPORT: several server processes sharing one port", flush=True)
            single = None
            for count in options.processes:
                port = free_port()
                db = workdir / f"shared-{count}.db"
                with ExitStack() as stack:
                    servers = [
                        stack.enter_context(started(serve_command(db, port, reuse_port=True), log))
                        for _ in range(count)
                    ]
                    target = servers[0][0]
                    run_on_uvloop(prepare_flow(target))
                    channels = max(options.channels, 8 * count)
                    pids = [pid for _, pid in servers]
                    result = client_run(target, SYNC_METHOD, payload, options, channels, pids)
                single = single or result["rps"]
                scale = result["rps"] / single
                print(
                    line(f"{count} process(es), {channels} channels", result) + f"   x{scale:.2f}",
                    flush=True,
                )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "role", nargs="?", default="conduct", choices=("conduct", "_echo", "_drive")
    )
    parser.add_argument("target", nargs="?")
    parser.add_argument("method", nargs="?")
    parser.add_argument("payload", nargs="?", help="hex")
    parser.add_argument(
        "--duration", type=float, default=10.0, help="measured seconds per run (default 10)"
    )
    parser.add_argument(
        "--warmup", type=float, default=2.0, help="unmeasured seconds first (default 2)"
    )
    parser.add_argument(
        "--concurrency", type=int, default=64, help="concurrent callers (default 64)"
    )
    parser.add_argument(
        "--diagnose",
        action="store_true",
        help="also time a server that decodes and encodes the API's messages and does nothing else",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="alternating runs of each side; medians are reported (default 1)",
    )
    parser.add_argument(
        "--channels", type=int, default=1, help="client channels (connections) (default 1)"
    )
    parser.add_argument(
        "--processes",
        type=lambda text: [int(n) for n in text.split(",") if n],
        default=[1, 2],
        help="server process counts for the SO_REUSEPORT runs, e.g. 1,2,4 ('' to skip; default 1,2)",
    )
    options = parser.parse_args(argv)
    if options.role == "_echo":
        run_on_uvloop(echo_server())
    elif options.role == "_drive":
        result = run_on_uvloop(
            drive(
                options.target,
                options.method,
                bytes.fromhex(options.payload),
                duration=options.duration,
                warmup=options.warmup,
                callers=options.concurrency,
                channels=options.channels,
            )
        )
        print(json.dumps(result))
    else:
        conduct(options)
    return 0


if __name__ == "__main__":
    sys.exit(main())
