"""A worker process for tests: ``python -m tests.workers.worker_process TARGET [ID]``.

Serves ``double`` (quick), ``hang`` (never answers) and ``record`` (appends the event to
the file named by $WORKER_LOG before answering).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys

from gateway.worker_sdk import Worker


async def main(target: str, worker_id: str) -> None:
    worker = Worker(target, worker_id=worker_id, max_concurrency=8)

    @worker.function("double")
    async def double(event: dict[str, int]) -> dict[str, int]:
        return {"v": event["v"] * 2, "by": worker_id}  # type: ignore[dict-item]

    @worker.function("hang")
    async def hang(event: object) -> object:
        print(f"hanging {json.dumps(event)}", flush=True)
        await asyncio.Event().wait()
        return event

    @worker.function("record")
    async def record(event: dict[str, object]) -> dict[str, object]:
        with open(os.environ["WORKER_LOG"], "a", encoding="utf-8") as log:
            log.write(json.dumps({"worker": worker_id, "event": event}) + "\n")
        await asyncio.sleep(float(event.get("sleep", 0)))  # type: ignore[arg-type]
        return {"by": worker_id}

    runner = asyncio.create_task(worker.run())
    await worker.wait_connected()
    print("connected", flush=True)
    await runner


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "w"))
