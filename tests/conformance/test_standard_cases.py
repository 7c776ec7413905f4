"""Conformance: every runnable case whose modes include standard, on the standard engine.

Each case runs against a real SQLite file. Callback steps are answered the way a user
would: the function receives the task token in its event, and shortly after, the
harness reports through the engine's public ReportTaskSucceeded/ReportTaskFailed.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from gateway.integrations import FunctionInvoker, IntegrationRouter
from standard_engine import StandardEngine
from tests.conformance.cases import Case, load_cases
from tests.conformance.scripted import ScriptedFunctions
from tests.conformance.test_express_cases import check_result

CASES = [case for case in load_cases() if case.runs and "standard" in case.modes]


class CallbackReporter:
    """Answers callback steps through the engine's public report operations."""

    def __init__(self) -> None:
        self.engine: StandardEngine | None = None
        self.pending: list[asyncio.Task[Any]] = []

    def schedule(self, step: dict[str, Any], event: Any) -> None:
        self.pending.append(asyncio.create_task(self._report(step["callback"], event["token"])))

    async def _report(self, callback: dict[str, Any], token: str) -> None:
        await asyncio.sleep(0.05)
        assert self.engine is not None
        if "succeed" in callback:
            await self.engine.report_task_succeeded(token, json.dumps(callback["succeed"]))
        else:
            failure = callback["fail"]
            await self.engine.report_task_failed(token, failure["code"], failure.get("detail", ""))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_case_on_standard_engine(case: Case, tmp_path: Path) -> None:
    for index, run in enumerate(case.runs):
        reporter = CallbackReporter()
        functions = ScriptedFunctions(case.functions, on_callback=reporter.schedule)
        router = IntegrationRouter(functions=FunctionInvoker(functions.registry()), http=None)
        engine = await StandardEngine.open(tmp_path / f"run{index}.db", router)
        reporter.engine = engine
        try:
            await engine.start_execution(
                case.id, 1, case.definition, f"run-{index}", json.dumps(run.input)
            )
            info = await engine.describe_execution(case.id, f"run-{index}", wait_seconds=30)
            await asyncio.gather(*reporter.pending)
        finally:
            await engine.close()
        summary = {
            "Name": info.name,
            "Status": info.status.value,
            "Output": json.loads(info.output) if info.output is not None else None,
            "ErrorCode": info.error_code,
            "ErrorMessage": info.error_message,
        }
        check_result(case, index, summary, dict(functions.calls), run.calls)
