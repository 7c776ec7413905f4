"""The in-repo copy of the conformance cases must equal the shared reference set when present."""

from __future__ import annotations

import filecmp

import pytest

from tests.conformance.cases import CASES_DIR, SHARED_DIR, load_cases


def _differences(left: filecmp.dircmp[str]) -> list[str]:
    found = [f"only in the shared set: {left.left}/{name}" for name in left.left_only]
    found += [f"only in the repo copy: {left.right}/{name}" for name in left.right_only]
    found += [f"differs: {left.right}/{name}" for name in left.diff_files]
    for sub in left.subdirs.values():
        found += _differences(sub)
    return found


def test_repo_copy_matches_shared_conformance_cases() -> None:
    if not SHARED_DIR.is_dir():
        pytest.skip("no ../shared/conformance beside this clone; the repo copy is the reference")
    comparison = filecmp.dircmp(str(SHARED_DIR), str(CASES_DIR), ignore=["__pycache__"])
    # dircmp compares by size and type only; compare contents byte by byte too.
    differences = _differences(comparison)
    for path in SHARED_DIR.rglob("*"):
        if path.is_file():
            copy = CASES_DIR / path.relative_to(SHARED_DIR)
            if copy.is_file() and copy.read_bytes() != path.read_bytes():
                differences.append(f"content differs: {copy}")
    assert not differences, "tests/conformance/cases is out of date:\n" + "\n".join(
        sorted(set(differences))
    )


def test_cases_load() -> None:
    cases = load_cases()
    assert len(cases) >= 40
    assert all(case.invalid is not None or case.runs for case in cases)
