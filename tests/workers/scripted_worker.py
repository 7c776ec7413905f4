"""A worker process that plays the functions scripted by conformance cases.

``python -m tests.workers.scripted_worker TARGET SCRIPT_FILE CALLS_FILE``

SCRIPT_FILE holds ``{"run": ID, "functions": {name: [steps]}}``; the test rewrites it before
each run. Calls are counted per run (call n plays step n, the last step repeats) and each
is appended to CALLS_FILE as ``RUN NAME``. A ``callback`` step returns at once and, shortly
after, reports the task with the token from the event through the server's public
ReportTaskSucceeded/ReportTaskFailed, as an outside system would.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from gateway.client import CloudFlowClient
from gateway.integrations import FunctionError
from gateway.worker_sdk import Worker

NAMES = ("charge", "echo", "notify", "slow")


async def main(target: str, script_file: Path, calls_file: Path) -> None:
    counters: dict[int, Counter[str]] = {}
    client = CloudFlowClient(target, timeout=30)
    pending: set[asyncio.Task[Any]] = set()
    worker = Worker(target, worker_id="scripted", max_concurrency=64)

    def play(name: str) -> Any:
        async def function(event: Any) -> Any:
            script = json.loads(script_file.read_text())
            run = int(script["run"])
            steps = script["functions"][name]
            count = counters.setdefault(run, Counter())
            step = steps[min(count[name], len(steps) - 1)]
            count[name] += 1
            with calls_file.open("a") as log:
                log.write(f"{run} {name}\n")
            if step.get("delay"):
                await asyncio.sleep(float(step["delay"]))
            if "error" in step:
                raise FunctionError(step["error"]["code"], step["error"].get("detail", ""))
            if step.get("echo"):
                return event
            if "callback" in step:
                task = asyncio.create_task(report(step["callback"], event["token"]))
                pending.add(task)
                task.add_done_callback(pending.discard)
                return {"accepted": True}
            return step.get("return")

        return function

    async def report(callback: dict[str, Any], token: str) -> None:
        await asyncio.sleep(0.05)
        if "succeed" in callback:
            await client.report_task_succeeded(token, callback["succeed"])
        else:
            failure = callback["fail"]
            await client.report_task_failed(token, failure["code"], failure.get("detail", ""))

    for name in NAMES:
        worker.registry.register(name, play(name))
    runner = asyncio.create_task(worker.run())
    await worker.wait_connected()
    print("connected", flush=True)
    await runner


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])))
