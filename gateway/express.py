"""StartSyncExecution: Express executions hosted in this process.

The gateway's part is small and all at the edge: name the execution ``<name>:<uuid>``, turn
the input text into a JSON object, fetch the compiled plan of the flow's current revision, and
bound the run by the call's deadline. The express engine does the rest.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any, Final

from express_engine import ExpressEngine, PlanCache
from gateway.flows import Flow, check_name
from gateway.status import CallDeadlineExceeded
from shared.errors import InvalidArgument
from shared.plan import ExecutionMode
from shared.results import ExecutionResult
from shared.values import parse_json_object

__all__ = ["ExpressHost", "execution_uuid", "parse_input"]

# Version 4 UUIDs from a Mersenne Twister seeded from os.urandom: five times cheaper than
# uuid.uuid4() (a system call per id), and an Express execution name needs uniqueness, not
# unpredictability (it grants nothing: no later call can name a finished Express execution).
_random: Final = random.Random()
_V4_MASK: Final = ~((0xF << 76) | (0x3 << 62))
_V4_BITS: Final = (0x4 << 76) | (0x2 << 62)


def execution_uuid() -> str:
    """A random version-4 UUID, as text."""
    h = f"{_random.getrandbits(128) & _V4_MASK | _V4_BITS:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def parse_input(text: str) -> dict[str, Any]:
    """An execution input: a JSON object as text, empty meaning ``{}``; else InvalidArgument."""
    try:
        return parse_json_object(text, "the execution input")
    except ValueError as exc:
        raise InvalidArgument(f'{exc}; pass a JSON object such as {{"orderId": "A1"}}') from None


class ExpressHost:
    """Runs Express executions in memory for the gateway."""

    def __init__(self, engine: ExpressEngine, plans: PlanCache) -> None:
        self._engine = engine
        self._plans = plans

    @property
    def running(self) -> int:
        """Express executions in progress."""
        return self._engine.running

    async def start_sync(
        self, flow: Flow, name: str, input_text: str, time_remaining: float | None
    ) -> ExecutionResult:
        """Run one execution of ``flow``'s current revision to its end.

        ``time_remaining`` is the call's deadline in seconds from now (None: no deadline). When
        it passes first, the execution is cancelled and CallDeadlineExceeded raised; a client
        that cancels the call cancels this coroutine, and with it the execution.
        Raises InvalidArgument, PayloadTooLarge or Overloaded (from the engine).
        """
        prefix = check_name(name, "execution name") if name else flow.name
        execution_input = parse_input(input_text)
        # Keyed by flow_id, not name: a re-created flow of the same name is a different flow.
        plan = self._plans.get(flow.flow_id, flow.revision, flow.definition, ExecutionMode.EXPRESS)
        full_name = f"{prefix}:{execution_uuid()}"
        run = self._engine.run(plan, execution_input, flow_name=flow.name, execution_name=full_name)
        if time_remaining is None or plan.scope.synchronous:
            # A flow whose states never wait runs to its end without yielding to the loop:
            # there is no moment at which a deadline could interrupt it, so no timer is armed.
            return await run
        try:
            async with asyncio.timeout(time_remaining):
                return await run
        except TimeoutError:
            raise CallDeadlineExceeded(
                f"the call's deadline passed before execution {full_name!r} finished; the "
                "execution was cancelled. Give the call a longer deadline, or use a Standard "
                "flow for long work"
            ) from None
