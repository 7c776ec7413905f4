"""Conformance: invalid definitions are rejected with the listed words; every other definition validates."""

from __future__ import annotations

import pytest

from shared.compiler import check_flow
from shared.plan import ExecutionMode
from tests.conformance.cases import load_cases

MODES = {"standard": ExecutionMode.STANDARD, "express": ExecutionMode.EXPRESS}

CASES = [(case, mode) for case in load_cases() for mode in case.modes]


@pytest.mark.parametrize(("case", "mode"), CASES, ids=[f"{c.id}[{m}]" for c, m in CASES])
def test_definition(case, mode) -> None:  # type: ignore[no-untyped-def]
    problems = check_flow(case.definition, MODES[mode])
    messages = "\n".join(str(p) for p in problems)
    if case.invalid is None:
        assert not problems, f"{case.id} should be valid in {mode} mode, but:\n{messages}"
        return
    assert problems, f"{case.id} should be rejected in {mode} mode"
    for word in case.invalid:
        assert word in messages, f"{case.id}: '{word}' missing from the problems:\n{messages}"
    assert all(p.line is not None for p in problems), messages
