"""Loading the conformance cases kept in ``tests/conformance/cases`` (a copy of the shared set)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CASES_DIR = Path(__file__).parent / "cases"
SHARED_DIR = Path(__file__).resolve().parents[3] / "shared" / "conformance"
"""The reference copy beside the repository, when it is there (never on a fresh clone)."""

ALL_MODES = ("standard", "express")


@dataclass(frozen=True)
class Run:
    input: Any
    expect: dict[str, Any]
    calls: dict[str, int] | None


@dataclass(frozen=True)
class Case:
    id: str
    description: str
    modes: tuple[str, ...]
    definition: str
    functions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    runs: tuple[Run, ...] = ()
    invalid: tuple[str, ...] | None = None

    @property
    def uses_callbacks(self) -> bool:
        return any("callback" in step for steps in self.functions.values() for step in steps)


def load_cases() -> list[Case]:
    cases = []
    for path in sorted(CASES_DIR.rglob("*.yaml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        runs = tuple(
            Run(r.get("input", {}), r.get("expect", {}), r.get("calls"))
            for r in raw.get("runs") or []
        )
        invalid = raw.get("invalid")
        cases.append(
            Case(
                id=str(path.relative_to(CASES_DIR).with_suffix("")),
                description=raw.get("description", ""),
                modes=tuple(raw.get("modes") or ALL_MODES),
                definition=raw["definition"],
                functions=raw.get("functions") or {},
                runs=runs,
                invalid=None if invalid is None else tuple(str(s) for s in invalid),
            )
        )
    return cases


def same_json(actual: Any, expected: Any) -> bool:
    """Strict JSON equality: types must match (true is not 1) but 1 == 1.0; key order is free."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(actual) is type(expected) and actual == expected
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return actual == expected
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and actual.keys() == expected.keys()
            and all(same_json(actual[k], expected[k]) for k in expected)
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(same_json(a, e) for a, e in zip(actual, expected, strict=True))
        )
    return type(actual) is type(expected) and actual == expected


def show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
