"""The layering of DESIGN.md §1, checked over the import graph of the source.

shared/ is the pure core: it imports no engine, no gateway, no gRPC, no SQLite, no asyncio.
The engines are drivers of that core: neither imports the gateway, gRPC, or the other engine.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

FORBIDDEN = {
    "shared": {"gateway", "express_engine", "standard_engine", "grpc", "aiosqlite", "asyncio", "sqlite3"},
    "express_engine": {"gateway", "grpc", "standard_engine", "aiosqlite", "sqlite3"},
    "standard_engine": {"gateway", "grpc", "express_engine"},
}


def imported_modules(path: Path) -> set[str]:
    """Top-level names of every module a file imports, anywhere in it (also inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_respect_the_layers(package: str) -> None:
    files = sorted((REPO / package).rglob("*.py"))
    assert files, f"no sources found for {package}"
    offences = [
        f"{path.relative_to(REPO)} imports {name}"
        for path in files
        for name in sorted(imported_modules(path) & FORBIDDEN[package])
    ]
    assert not offences, "layering broken:\n" + "\n".join(offences)


def test_the_check_sees_imports_inside_functions(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    import grpc.aio\n    from asyncio import sleep\n")
    assert imported_modules(sample) == {"grpc", "asyncio"}
