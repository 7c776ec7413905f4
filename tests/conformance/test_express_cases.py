"""Conformance: every runnable case whose modes include express, on the express engine."""

from __future__ import annotations

import pytest

from express_engine import ExpressEngine
from gateway.integrations import FunctionInvoker, IntegrationRouter
from shared.compiler import compile_flow
from shared.plan import ExecutionMode
from tests.conformance.cases import Case, load_cases, same_json, show
from tests.conformance.scripted import ScriptedFunctions

CASES = [case for case in load_cases() if case.runs and "express" in case.modes]


def check_result(
    case: Case, index: int, summary: dict, calls: dict[str, int], expect_calls: dict | None
) -> None:  # type: ignore[type-arg]
    expect = case.runs[index].expect
    where = f"{case.id} run {index}"
    assert summary["Status"] == expect["status"], f"{where}: {show(summary)}"
    if expect["status"] == "Succeeded":
        if "output" in expect:
            assert same_json(summary["Output"], expect["output"]), (
                f"{where}: output {show(summary['Output'])} != expected {show(expect['output'])}"
            )
    else:
        assert summary["ErrorCode"] == expect.get("error"), f"{where}: {show(summary)}"
    if "cause" in expect:
        assert summary["ErrorMessage"] == expect["cause"], f"{where}: {show(summary)}"
    if "cause_contains" in expect:
        assert expect["cause_contains"] in (summary["ErrorMessage"] or ""), (
            f"{where}: {show(summary)}"
        )
    for name, count in (expect_calls or {}).items():
        assert calls.get(name, 0) == count, (
            f"{where}: {name} called {calls.get(name, 0)} times, expected {count}"
        )


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_case_on_express_engine(case: Case) -> None:
    plan = compile_flow(case.definition, ExecutionMode.EXPRESS)
    for index, run in enumerate(case.runs):
        functions = ScriptedFunctions(case.functions)
        router = IntegrationRouter(functions=FunctionInvoker(functions.registry()), http=None)
        engine = ExpressEngine(router)
        result = await engine.run(plan, run.input, flow_name=plan.name)
        check_result(case, index, result.summary(), dict(functions.calls), run.calls)
