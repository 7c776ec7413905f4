"""Worker process for the end-to-end callback tests: ``python -m tests.e2e.callback_worker TARGET TOKENS_FILE``.

* ``submit`` (WaitForSystemCallback): works ``event["seconds"]`` then returns ``{"done": id}``.
* ``notify`` (WaitForCustomCallback): appends ``id token`` to TOKENS_FILE and returns at once.
"""

from __future__ import annotations

import asyncio
import os
import sys

from gateway.worker_sdk import Worker


async def main(target: str, tokens_file: str) -> None:
    worker = Worker(
        target, worker_id=f"callbacks-{os.getpid()}", max_concurrency=256, reconnect_delay=0.2
    )

    @worker.function("submit")
    async def submit(event: dict[str, object]) -> dict[str, object]:
        await asyncio.sleep(float(event["seconds"]))  # type: ignore[arg-type]
        return {"done": event["id"]}

    @worker.function("notify")
    async def notify(event: dict[str, object]) -> dict[str, object]:
        with open(tokens_file, "a", encoding="utf-8") as out:
            out.write(f"{event['id']} {event['token']}\n")
        return {"sent": True}

    runner = asyncio.create_task(worker.run())
    await worker.wait_connected()
    print("connected", flush=True)
    await runner


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
