"""Tasks through a worker: FC:InvokeFunction over TaskWorker, against the raw gRPC round trip.

    python benchmarks/bench_tasks.py [--seconds 6] [--concurrency 64]

What it does, all on this machine, in one run:

1. Starts ``cloudflow serve`` (port 0, a fresh SQLite file) and one worker process
   (``cloudflow worker``) serving the functions of a small module generated in a temporary
   directory: ``echo`` returns its event; ``token_sink`` appends the task token it finds in
   its event to a file and returns at once.
2. Starts the baseline server (this script, role ``_baseline``): a raw grpc.aio server with
   a bytes echo method, and a :class:`~gateway.workers.WorkerHub` with its TaskWorker
   service and a method that runs one hub invoke of ``echo`` (no engine, no API messages),
   with a second worker process of the same module connected to it.
3. Drives each scenario from a separate client process (so the client's CPU is not the
   servers'), ``--concurrency`` callers each making one call after another, for
   ``--seconds`` after a warm-up:

   * **raw echo**: the bytes echo round trip (the baseline of every ratio);
   * **TaskWorker**: the hub invoke, i.e. gRPC round trip + worker dispatch and result;
   * **Express**: StartSyncExecution of a one-Task flow (``echo``, RequestComplete);
   * **Standard**: StartExecution + DescribeExecution(wait) of the same flow, Standard mode;
   * **callback**: StartExecution of a Standard flow whose one Task is WaitForCustomCallback
     (the worker's ``token_sink`` records the token); once every token is on file, a second
     client process sends ReportTaskSucceeded for all of them. The report's tick finishes
     the execution, so executions completed/s is measured too, from the executions'
     ``stopped_time`` (ListExecutions, after the window).

4. Prints one table: operations/s, p50/p99 latency of the whole call, CPU per operation of
   the server, the worker and the client, and the ratios to the raw echo and to the
   TaskWorker round trip; and the load average at the start and the end.

Client and servers share the machine's cores: on a small machine the figures are as much
about scheduling as about code (see the CPU columns, which hardly depend on it). A benchmark
reports; nothing here asserts on timing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

ECHO_METHOD = "/bench.Echo/Echo"
HUB_METHOD = "/bench.Hub/Invoke"
API = "/cloudflow.v1.CloudFlow/"
FUNCTIONS_MODULE = "cloudflow_bench_tasks_functions"
TOKENS_ENV = "CLOUDFLOW_BENCH_TOKENS"
EXPRESS_FLOW = "bench-task-express"
STANDARD_FLOW = "bench-task-standard"
CALLBACK_FLOW = "bench-task-callback"
EVENT = {"orderId": "A-1001", "amount": 10}
EVENT_JSON = json.dumps(EVENT, separators=(",", ":"))
STARTUP_SECONDS = 30.0
DRAIN_SECONDS = 5.0
"""After a window, how long calls in flight may take before they are cancelled."""
TOKENS_WAIT_SECONDS = 30.0

ECHO_TASK_FLOW = """\
Type: StateMachine
SpecVersion: v1
StartAt: Echo
States:
  - Type: Task
    Name: Echo
    Action: FC:InvokeFunction
    TaskMode: RequestComplete
    Parameters:
      functionName: echo
      body.$: $Input
    End: true
"""

CALLBACK_TASK_FLOW = """\
Type: StateMachine
SpecVersion: v1
StartAt: Approve
States:
  - Type: Task
    Name: Approve
    Action: FC:InvokeFunction
    TaskMode: WaitForCustomCallback
    Timeout: 300
    Parameters:
      functionName: token_sink
      invocationType: Async
      body:
        token.$: $Context.Current.TaskToken
    End: true
"""

# The worker's functions. Async, so the SDK runs them on its event loop, not in a thread.
FUNCTIONS_SOURCE = f'''\
"""Functions of bench_tasks.py's workers (generated; deleted after the run)."""

import os

_tokens = open(os.environ["{TOKENS_ENV}"], "a", buffering=1)


async def echo(event):
    return event


async def token_sink(event):
    _tokens.write(event["token"] + "\\n")
    return {{"accepted": True}}
'''


# -- measuring (the client process) ------------------------------------------------------------


class Unexpected(Exception):
    """A call that answered, but not as the scenario expects (e.g. an execution that failed)."""


def percentile(ordered: Sequence[float], fraction: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def measure(
    one: Callable[[int], Awaitable[None]], *, seconds: float, warmup: float, callers: int
) -> dict[str, Any]:
    """Run ``one(caller)`` back to back in ``callers`` loops; time the calls that end in the window.

    Callers stop starting calls at the window's end; calls still in flight ``DRAIN_SECONDS``
    later are cancelled, which bounds the run. ``all_calls`` (warm-up included) is what the
    conductor divides the processes' CPU time by.
    """
    import grpc

    clock = time.perf_counter
    window_start = clock() + warmup
    window_end = window_start + seconds
    latencies: list[float] = []
    errors: dict[str, int] = {}
    completed = [0]

    async def caller(index: int) -> None:
        while clock() < window_end:
            began = clock()
            try:
                await one(index)
            except grpc.aio.AioRpcError as error:
                errors[error.code().name] = errors.get(error.code().name, 0) + 1
                continue
            except Unexpected as error:
                errors[str(error)] = errors.get(str(error), 0) + 1
                continue
            ended = clock()
            completed[0] += 1
            if window_start <= ended < window_end:
                latencies.append(ended - began)

    tasks = [asyncio.ensure_future(caller(i)) for i in range(callers)]
    _, pending = await asyncio.wait(tasks, timeout=warmup + seconds + DRAIN_SECONDS)
    for task in pending:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return summary(latencies, seconds, errors, completed[0], abandoned=len(pending))


def summary(
    latencies: list[float], seconds: float, errors: dict[str, int], all_calls: int, abandoned: int
) -> dict[str, Any]:
    latencies.sort()
    return {
        "ops": len(latencies),
        "seconds": seconds,
        "rate": len(latencies) / seconds if seconds > 0 else float("nan"),
        "p50_ms": 1000 * percentile(latencies, 0.50),
        "p99_ms": 1000 * percentile(latencies, 0.99),
        "errors": errors,
        "all_calls": all_calls,
        "abandoned": abandoned,
    }


def api_method(channel: Any, name: str, request_type: Any, response_type: Any) -> Any:
    """A CloudFlow method on a raw channel: the generated messages, none of the client's extras."""
    return channel.unary_unary(
        API + name,
        request_serializer=request_type.SerializeToString,
        response_deserializer=response_type.FromString,
    )


def bytes_scenario(channel: Any, method: str, payload: bytes) -> Callable[[int], Awaitable[None]]:
    """The baselines: pre-serialised bytes in, bytes out, not decoded (as in bench_grpc.py)."""
    call = channel.unary_unary(method)

    async def one(_: int) -> None:
        await call(payload, timeout=30)

    return one


def express_scenario(channel: Any) -> Callable[[int], Awaitable[None]]:
    from gateway.api import cloudflow_pb2 as pb

    call = api_method(
        channel, "StartSyncExecution", pb.StartSyncExecutionRequest, pb.StartSyncExecutionResponse
    )
    request = pb.StartSyncExecutionRequest(flow_name=EXPRESS_FLOW, input=EVENT_JSON)

    async def one(_: int) -> None:
        response = await call(request, timeout=30)
        if response.status != pb.EXECUTION_STATUS_SUCCEEDED:
            raise Unexpected(f"execution {response.error_code or response.status}")

    return one


def standard_scenario(channel: Any) -> Callable[[int], Awaitable[None]]:
    from gateway.api import cloudflow_pb2 as pb

    start = api_method(
        channel, "StartExecution", pb.StartExecutionRequest, pb.StartExecutionResponse
    )
    describe = api_method(
        channel, "DescribeExecution", pb.DescribeExecutionRequest, pb.DescribeExecutionResponse
    )
    names = execution_names()

    async def one(caller: int) -> None:
        request = pb.StartExecutionRequest(
            flow_name=STANDARD_FLOW, execution_name=names(caller), input=EVENT_JSON
        )
        execution = (await start(request, timeout=30)).execution
        while execution.status == pb.EXECUTION_STATUS_RUNNING:
            wait = pb.DescribeExecutionRequest(
                flow_name=STANDARD_FLOW, execution_name=execution.name, wait_time_seconds=20
            )
            execution = (await describe(wait, timeout=30)).execution
        if execution.status != pb.EXECUTION_STATUS_SUCCEEDED:
            raise Unexpected(f"execution {execution.error_code or execution.status}")

    return one


def execution_names() -> Callable[[int], str]:
    """Names made by the client: the server's own start with a digit 10 times in 16 and are
    then refused as invalid (standard_engine/engine.py, StandardEngine.start_execution)."""
    counters: dict[int, itertools.count[int]] = {}
    prefix = f"b{os.getpid()}"

    def name(caller: int) -> str:
        counter = counters.setdefault(caller, itertools.count())
        return f"{prefix}-{caller}-{next(counter)}"

    return name


def callback_start_scenario(channel: Any) -> Callable[[int], Awaitable[None]]:
    from gateway.api import cloudflow_pb2 as pb

    start = api_method(
        channel, "StartExecution", pb.StartExecutionRequest, pb.StartExecutionResponse
    )
    names = execution_names()

    async def one(caller: int) -> None:
        request = pb.StartExecutionRequest(
            flow_name=CALLBACK_FLOW, execution_name=names(caller), input=EVENT_JSON
        )
        await start(request, timeout=30)

    return one


async def report_all(
    channel: Any, tokens: list[str], *, seconds: float, callers: int
) -> dict[str, Any]:
    """ReportTaskSucceeded for every token (or until ``seconds``), from ``callers`` loops."""
    import grpc

    from gateway.api import cloudflow_pb2 as pb

    report = api_method(
        channel,
        "ReportTaskSucceeded",
        pb.ReportTaskSucceededRequest,
        pb.ReportTaskSucceededResponse,
    )
    output = json.dumps({"approved": True})
    queue = iter(tokens)
    latencies: list[float] = []
    errors: dict[str, int] = {}
    clock = time.perf_counter
    began = clock()
    wall_start = time.time()

    async def caller() -> None:
        for token in queue:
            if clock() - began >= seconds:
                return
            t0 = clock()
            try:
                await report(
                    pb.ReportTaskSucceededRequest(task_token=token, output=output), timeout=30
                )
            except grpc.aio.AioRpcError as error:
                errors[error.code().name] = errors.get(error.code().name, 0) + 1
                continue
            latencies.append(clock() - t0)

    tasks = [asyncio.ensure_future(caller()) for _ in range(callers)]
    _, pending = await asyncio.wait(tasks, timeout=seconds + DRAIN_SECONDS)
    for task in pending:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    elapsed = clock() - began
    result = summary(latencies, elapsed, errors, len(latencies), abandoned=len(pending))
    result["wall_start"] = wall_start
    result["tokens"] = len(tokens)
    return result


async def stopped_times(channel: Any) -> list[float]:
    """When each succeeded execution of the callback flow stopped (server clock, Unix seconds)."""
    from gateway.api import cloudflow_pb2 as pb

    listing = api_method(
        channel, "ListExecutions", pb.ListExecutionsRequest, pb.ListExecutionsResponse
    )
    times: list[float] = []
    page = ""
    while True:
        request = pb.ListExecutionsRequest(
            flow_name=CALLBACK_FLOW,
            status=pb.EXECUTION_STATUS_SUCCEEDED,
            page_size=99,
            page_token=page,
        )
        response = await listing(request, timeout=60)
        times.extend(e.stopped_time.ToNanoseconds() / 1e9 for e in response.executions)
        page = response.next_page_token
        if not page:
            return times


async def drive(options: argparse.Namespace) -> dict[str, Any]:
    import grpc

    async with grpc.aio.insecure_channel(options.target) as channel:
        await channel.channel_ready()
        scenario = options.scenario
        if scenario == "callback-report":
            tokens = Path(options.tokens).read_text().split()
            result = await report_all(
                channel, tokens, seconds=options.seconds, callers=options.concurrency
            )
            times = await stopped_times(channel)
            result["completed"] = len(times)
            last = max(times, default=result["wall_start"])
            result["completed_rate"] = len(times) / max(last - result["wall_start"], 1e-9)
            return result
        one = {
            "echo": lambda: bytes_scenario(channel, ECHO_METHOD, express_request()),
            "hub": lambda: bytes_scenario(channel, HUB_METHOD, EVENT_JSON.encode()),
            "express": lambda: express_scenario(channel),
            "standard": lambda: standard_scenario(channel),
            "callback-start": lambda: callback_start_scenario(channel),
        }[scenario]()
        return await measure(
            one, seconds=options.seconds, warmup=options.warmup, callers=options.concurrency
        )


def express_request() -> bytes:
    """The echo baseline's payload: the very bytes of the Express scenario's request."""
    from gateway.api import cloudflow_pb2 as pb

    request = pb.StartSyncExecutionRequest(flow_name=EXPRESS_FLOW, input=EVENT_JSON)
    return bytes(request.SerializeToString())


# -- the baseline server process ---------------------------------------------------------------


async def baseline_server() -> None:
    """Raw bytes echo, and one hub invoke of ``echo`` per call: the TaskWorker path alone."""
    import grpc

    from gateway.workers import TaskWorkerServicer, WorkerHub
    from shared.ports import TaskRequest

    hub = WorkerHub()

    async def echo(request: bytes, context: Any) -> bytes:
        return request

    async def invoke(request: bytes, context: Any) -> bytes:
        task = TaskRequest(
            action="FC:InvokeFunction",
            parameters={"functionName": "echo", "body": json.loads(request)},
            execution_name="baseline",
            state_name="Echo",
        )
        result = await hub.invoke(task, wait_for_worker=False)
        return json.dumps(result["Body"], separators=(",", ":")).encode()

    from gateway.api import worker_pb2_grpc

    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    for service, method, handler in (("bench.Echo", "Echo", echo), ("bench.Hub", "Invoke", invoke)):
        handlers = {method: grpc.unary_unary_rpc_method_handler(handler)}  # bytes in and out
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service, handlers),))
    worker_pb2_grpc.add_TaskWorkerServicer_to_server(TaskWorkerServicer(hub), server)  # type: ignore[no-untyped-call]
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
def started(
    command: list[str], env: dict[str, str], log: Path, ready: str
) -> Iterator[tuple[str, int]]:
    """Start a process; yield its first stdout line (which must start with ``ready``), its pid.

    On the way out: SIGTERM, then SIGKILL after 10 s.
    """
    with log.open("ab") as errors:
        process = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=errors, text=True
        )
    try:
        assert process.stdout is not None
        first = first_line(process, STARTUP_SECONDS)
        if not first.startswith(ready):
            raise SystemExit(f"{' '.join(command)} did not start (see {log}): {first!r}")
        yield first.strip(), process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def first_line(process: subprocess.Popen[str], timeout: float) -> str:
    """The process's first stdout line, or "" when it has none within ``timeout``."""
    import selectors

    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            return ""
    return process.stdout.readline()


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system, all threads) the process has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def client_run(
    scenario: str,
    target: str,
    options: argparse.Namespace,
    pids: dict[str, int],
    *,
    tokens: Path | None = None,
) -> dict[str, Any]:
    """Run one scenario in a client process; add each process's CPU time per operation.

    CPU is divided by every call the client completed, warm-up included (``all_calls``);
    the client's own CPU comes from the kernel's account of reaped children.
    """
    command = [
        sys.executable, __file__, "_drive", scenario, target,
        "--seconds", str(options.seconds), "--warmup", str(options.warmup),
        "--concurrency", str(options.concurrency),
    ]  # fmt: skip
    if tokens is not None:
        command += ["--tokens", str(tokens)]
    before = {role: cpu_seconds(pid) for role, pid in pids.items()}
    client_before = children_cpu()
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    client_used = children_cpu() - client_before
    if done.returncode != 0:
        raise SystemExit(f"the {scenario} client failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    calls = max(result["all_calls"], 1)
    for role, pid in pids.items():
        result[f"{role}_us"] = 1e6 * (cpu_seconds(pid) - before[role]) / calls
    result["client_us"] = 1e6 * client_used / calls
    if result["errors"]:
        print(f"  warning: {scenario}: failed calls {result['errors']}", flush=True)
    if result["abandoned"]:
        print(f"  warning: {scenario}: {result['abandoned']} callers cancelled", flush=True)
    return result


async def prepare_flows(target: str) -> None:
    """Create the three flows; check that one Express and one Standard execution echo the event."""
    from gateway.client import CloudFlowClient
    from shared.plan import ExecutionMode
    from shared.results import ExecutionStatus

    async with CloudFlowClient(target) as client:
        await client.create_flow(EXPRESS_FLOW, ECHO_TASK_FLOW, mode=ExecutionMode.EXPRESS)
        await client.create_flow(STANDARD_FLOW, ECHO_TASK_FLOW, mode=ExecutionMode.STANDARD)
        await client.create_flow(CALLBACK_FLOW, CALLBACK_TASK_FLOW, mode=ExecutionMode.STANDARD)
        result = await client.start_sync_execution(EXPRESS_FLOW, EVENT)
        if result.status is not ExecutionStatus.SUCCEEDED or result.output != {"Body": EVENT}:
            raise SystemExit(f"the Express flow did not echo through the worker: {result}")
        info = await client.start_execution(STANDARD_FLOW, EVENT, name="check")
        info = await client.describe_execution(STANDARD_FLOW, info.name, wait_seconds=20)
        if info.status is not ExecutionStatus.SUCCEEDED or json.loads(info.output or "") != {
            "Body": EVENT
        }:
            raise SystemExit(f"the Standard flow did not echo through the worker: {info}")


async def check_baseline(target: str) -> None:
    import grpc

    async with grpc.aio.insecure_channel(target) as channel:
        payload = express_request()
        if await channel.unary_unary(ECHO_METHOD)(payload) != payload:
            raise SystemExit("the echo server did not echo")
        answer = await channel.unary_unary(HUB_METHOD)(EVENT_JSON.encode())
        if json.loads(answer) != EVENT:
            raise SystemExit(f"the hub invoke did not echo: {answer!r}")


def wait_for_lines(path: Path, count: int, timeout: float) -> int:
    """Until ``path`` has ``count`` lines (or ``timeout``); returns how many it has."""
    deadline = time.monotonic() + timeout
    while True:
        lines = path.read_bytes().count(b"\n")
        if lines >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def conduct(options: argparse.Namespace) -> None:
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load()} at "
        f"the start; {options.concurrency} callers in one client process; "
        f"{options.seconds:g} s measured after {options.warmup:g} s warm-up per scenario",
        flush=True,
    )
    scratch = Path(tempfile.mkdtemp(prefix="cloudflow-bench-tasks-"))
    try:
        results = run_scenarios(options, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"load average at the end: {load()}")
    print_table(results, options)


def run_scenarios(options: argparse.Namespace, scratch: Path) -> dict[str, dict[str, Any]]:
    (scratch / f"{FUNCTIONS_MODULE}.py").write_text(FUNCTIONS_SOURCE)
    tokens = scratch / "tokens.txt"
    tokens.touch()
    log = scratch / "processes.log"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(scratch)])}
    env[TOKENS_ENV] = str(tokens)
    env.pop("CLOUDFLOW_TOKEN", None)
    serve = [
        sys.executable, "-m", "gateway.cli", "serve", "--port", "0",
        "--db", str(scratch / "cloudflow.db"), "--log-level", "WARNING", "--grace-seconds", "2",
    ]  # fmt: skip
    try:
        with ExitStack() as stack:
            server_line, server_pid = stack.enter_context(started(serve, env, log, "listening on "))
            baseline_line, baseline_pid = stack.enter_context(
                started([sys.executable, __file__, "_baseline"], env, log, "listening on ")
            )
            target, baseline = server_line.split()[-1], baseline_line.split()[-1]
            # Workers are entered after their servers, so they are stopped first: a server
            # drains calls in flight, and a connected worker's stream is one.
            _, worker_pid = stack.enter_context(
                started(worker_command(target, options), env, log, "worker connected")
            )
            _, baseline_worker_pid = stack.enter_context(
                started(worker_command(baseline, options), env, log, "worker connected")
            )
            run_on_uvloop(check_baseline(baseline))
            run_on_uvloop(prepare_flows(target))
            return measure_all(
                options,
                tokens,
                (baseline, {"server": baseline_pid, "worker": baseline_worker_pid}),
                (target, {"server": server_pid, "worker": worker_pid}),
            )
    except BaseException:
        with contextlib.suppress(OSError):
            sys.stderr.write(log.read_text()[-4000:])
        raise


Stack = tuple[str, dict[str, int]]
"""A server's address and the pids (server, worker) whose CPU time is counted."""


def measure_all(
    options: argparse.Namespace, tokens: Path, baseline: Stack, cloudflow: Stack
) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    for scenario, (target, pids) in (
        ("echo", baseline),
        ("hub", baseline),
        ("express", cloudflow),
        ("standard", cloudflow),
        ("callback-start", cloudflow),
    ):
        print(f"  running {scenario} ...", flush=True)
        results[scenario] = client_run(scenario, target, options, pids)
    started_count = results["callback-start"]["all_calls"]
    on_file = wait_for_lines(tokens, started_count, TOKENS_WAIT_SECONDS)
    if on_file < started_count:
        print(f"  warning: {on_file} tokens of {started_count} executions on file", flush=True)
    print("  running callback-report ...", flush=True)
    target, pids = cloudflow
    results["callback-report"] = client_run("callback-report", target, options, pids, tokens=tokens)
    return results


def worker_command(target: str, options: argparse.Namespace) -> list[str]:
    return [
        sys.executable, "-m", "gateway.cli", "worker", "--server", target,
        "--functions", FUNCTIONS_MODULE, "--concurrency", str(options.concurrency),
        "--id", "bench-tasks",
    ]  # fmt: skip


ROWS = (
    ("echo", "raw gRPC echo (baseline)"),
    ("hub", "TaskWorker round trip (hub)"),
    ("express", "Express StartSync, 1 Task"),
    ("standard", "Standard Start+Describe, 1 Task"),
    ("callback-start", "callback flow: StartExecution"),
    ("callback-report", "ReportTaskSucceeded"),
)


def print_table(results: dict[str, dict[str, Any]], options: argparse.Namespace) -> None:
    echo, hub = results["echo"], results["hub"]
    print()
    print(
        f"through one worker, {options.concurrency} concurrent callers; latency = the whole "
        "call as the client sees it; CPU = process CPU per operation"
    )
    header = (
        f"{'scenario':<32} {'ops/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'vs echo':>8} "
        f"{'vs hub':>7} {'p50 x':>6} {'server':>7} {'worker':>7} {'client':>7}"
    )
    print(header)
    print(
        f"{'':<32} {'':>8} {'':>8} {'':>8} {'ops/s':>8} {'ops/s':>7} {'echo':>6} {'us/op':>7} {'us/op':>7} {'us/op':>7}"
    )
    print("-" * len(header))
    for key, label in ROWS:
        r = results[key]
        print(
            f"{label:<32} {r['rate']:>8,.0f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} "
            f"{r['rate'] / echo['rate']:>8.1%} {r['rate'] / hub['rate']:>7.1%} "
            f"{r['p50_ms'] / echo['p50_ms']:>6.1f} {r['server_us']:>7.0f} {r['worker_us']:>7.0f} "
            f"{r['client_us']:>7.0f}"
        )
    report = results["callback-report"]
    rate = report["completed_rate"]
    print(
        f"{'  executions completed/s':<32} {rate:>8,.0f} {'':>8} {'':>8} "
        f"{rate / echo['rate']:>8.1%} {rate / hub['rate']:>7.1%}"
    )
    print()
    print(
        f"callback: {report['tokens']:,} executions started and their tokens recorded by the "
        f"worker; {report['ops']:,} reported in {report['seconds']:.2f} s; "
        f"{report['completed']:,} succeeded (stopped_time from ListExecutions)"
    )
    print(
        "rows 1-2 run on the baseline server (bytes in and out, no API messages); the worker "
        "column of row 1 is an idle worker's heartbeats"
    )
    print_breakdown(results)


def print_breakdown(results: dict[str, dict[str, Any]]) -> None:
    """Where a task's CPU goes, by differences of the CPU columns (steadier than ops/s on a
    busy machine: they hardly depend on how the cores are shared)."""
    echo, hub, express, standard = (
        results[key]["server_us"] for key in ("echo", "hub", "express", "standard")
    )
    steps = (
        ("gRPC round trip (echo)", echo),
        ("+ TaskWorker dispatch and result (hub - echo)", hub - echo),
        ("+ API messages, express engine (express - hub)", express - hub),
        ("+ durable start, DescribeExecution (standard - express)", standard - express),
    )
    print()
    print("server CPU per task, by difference")
    for label, value in steps:
        print(f"  {label:<58} {value:>6.0f} us")
    print(f"  {'(the worker process, per task)':<58} {results['hub']['worker_us']:>6.0f} us")
    print(
        f"  Express by server CPU: {echo / express:.1%} of echo, {hub / express:.1%} of hub; "
        f"Standard: {echo / standard:.1%} of echo"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "role", nargs="?", default="conduct", choices=("conduct", "_baseline", "_drive")
    )
    parser.add_argument("scenario", nargs="?")
    parser.add_argument("target", nargs="?")
    parser.add_argument(
        "--seconds", type=float, default=6.0, help="measured seconds per scenario (default 6)"
    )
    parser.add_argument(
        "--warmup", type=float, default=1.0, help="unmeasured seconds first (default 1)"
    )
    parser.add_argument(
        "--concurrency", type=int, default=64, help="concurrent callers (default 64)"
    )
    parser.add_argument("--tokens", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.role == "_baseline":
        run_on_uvloop(baseline_server())
    elif options.role == "_drive":
        print(json.dumps(run_on_uvloop(drive(options))))
    else:
        conduct(options)
    return 0


if __name__ == "__main__":
    sys.exit(main())
