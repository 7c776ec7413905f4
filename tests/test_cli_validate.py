"""``cloudflow validate`` and ``cloudflow run`` as a user runs them: real processes, real files.

Valid: exit 0 and one confirmation line. Invalid: exit 2 and every problem on its own line.
Whatever the file holds (binary, empty, a YAML bomb, 10 MB of text, deep nesting), or when
it is a directory or missing: a clear message, never a traceback.

The cases the issue names run as real processes, all started at once by one module
fixture (they are independent); further cases call ``main`` in this process, which is the
same code without the start-up cost.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from gateway.cli import main

REPO = Path(__file__).resolve().parents[1]

VALID = """\
Type: StateMachine
SpecVersion: v1
Name: greet
StartAt: Hello
States:
  - Type: Pass
    Name: Hello
    OutputConstructor:
      greeting.$: format("hello {}", $Input.name)
    Next: Done
  - Type: Succeed
    Name: Done
"""

INVALID = """\
Type: StateMachine
SpecVersion: v1
StartAt: Charge
States:
  - Type: Task
    Name: Charge
    Action: FC:InvokeFunction
    Parameters: {functionName: charge}
    Retry:
      - Errors: [FnF.ALL]
        MaxAttempts: -1
        IntervalSeconds: 1
    Next: Nowhere
  - Type: Pass
    Name: "Bad\\nName"
    Colour: "red\\nblue"
    End: true
"""

EXPRESS_ONLY_INVALID = """\
Type: StateMachine
SpecVersion: v1
StartAt: W
States:
  - Type: Wait
    Name: W
    Seconds: 600
    End: true
"""

FAILING = """\
Type: StateMachine
SpecVersion: v1
StartAt: Boom
States:
  - Type: Fail
    Name: Boom
    Code: Broken
    Detail: it broke
"""


def _bomb() -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    return "\n".join(lines) + "\n"


HOSTILE: dict[str, bytes] = {
    "binary": bytes(range(256)) * 64,
    "empty": b"",
    "bomb": _bomb().encode(),
    "ten-megabytes": b"States: " + b"x" * (10 * 1024 * 1024) + b"\n",
    "deep-nesting": b"[" * 100_000,
}
"""Run as real processes."""

MORE_HOSTILE: dict[str, tuple[bytes, str]] = {
    "deep-block": ("".join("  " * i + "k:\n" for i in range(400)).encode(), "nested too deeply"),
    "deep-mapping": (b"{a: " * 50_000, "nest"),
    "not-yaml": (
        b"Type: StateMachine\nStates: [ {Name: A, Type: Pass\n",
        "line 3: not valid YAML or JSON",
    ),
    "control-character": (
        b"Type: StateMachine\n\x1b[31mStates: []\n",
        "line 2: not valid YAML or JSON: character #x001b",
    ),
    "latin-1": ("Name: caf\u00e9\n".encode("latin-1"), "not UTF-8"),
    "utf-16": ("Type: StateMachine\n".encode("utf-16"), "not UTF-8"),
    "nul": (b"Type: StateMachine\x00\n", "NUL"),
    "json-array": (b"[1, 2, 3]", "must be a mapping"),
    "scalar": (b"just some words", "must be a mapping"),
    "two-documents": (b"a: 1\n---\nb: 2\n", "not valid YAML"),
    "duplicate-key": (b"Type: StateMachine\nType: StateMachine\n", "appears twice"),
    "python-tag": (b"!!python/object/apply:os.system ['echo hacked']\n", "must be a mapping"),
}
"""Run in this process: ``main`` returns the exit code."""


@pytest.fixture(scope="module")
def results(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, subprocess.CompletedProcess[str]]:
    folder = tmp_path_factory.mktemp("flows")
    files = {
        "valid": VALID,
        "invalid": INVALID,
        "express-only": EXPRESS_ONLY_INVALID,
        "failing": FAILING,
    }
    paths = {}
    for name, text in files.items():
        paths[name] = folder / f"{name}.yaml"
        paths[name].write_text(text, encoding="utf-8")
    for name, data in HOSTILE.items():
        paths[name] = folder / f"{name}.yaml"
        paths[name].write_bytes(data)
    missing = str(folder / "missing.yaml")
    commands: dict[str, list[str]] = {
        "validate valid": ["validate", str(paths["valid"])],
        "validate invalid": ["validate", str(paths["invalid"])],
        "validate express-only express": [
            "validate",
            str(paths["express-only"]),
            "--mode",
            "express",
        ],
        "validate directory": ["validate", str(folder)],
        "validate missing": ["validate", missing],
        "run valid": ["run", str(paths["valid"]), "--input", '{"name": "ada"}'],
        "run failing": ["run", str(paths["failing"])],
        "run invalid": ["run", str(paths["invalid"])],
    }
    for name in HOSTILE:
        commands[f"validate {name}"] = ["validate", str(paths[name])]
    environment = {**os.environ, "PYTHONPATH": str(REPO)}

    def invoke(arguments: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "gateway.cli", *arguments],
            cwd=REPO,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        futures = {name: pool.submit(invoke, arguments) for name, arguments in commands.items()}
        return {name: future.result() for name, future in futures.items()}


def assert_no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    for stream in (result.stdout, result.stderr):
        assert "Traceback" not in stream, stream
        assert "internal error" not in stream, stream


def test_valid_flow_gives_one_confirmation_line(
    results: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    result = results["validate valid"]
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    assert lines[0].endswith("valid.yaml: valid standard flow (2 states)")
    assert result.stderr == ""


def test_invalid_flow_lists_every_problem_on_its_own_line(
    results: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    result = results["validate invalid"]
    assert result.returncode == 2
    lines = result.stdout.splitlines()
    assert len(lines) == 3, result.stdout
    assert all("invalid.yaml: line " in line for line in lines)
    assert (
        "line 11: States[0] (Name: Charge).Retry[0].MaxAttempts: must be an integer from 0 to 1000, not -1"
        in lines[0]
    )
    assert "line 13: States[0] (Name: Charge).Next: there is no state named 'Nowhere'" in lines[1]
    # A name and a key with line breaks in them still make one line per problem.
    assert "line 16: States[1] (Name: Bad\\nName).Colour: unknown field 'Colour'" in lines[2]
    assert result.stderr.strip().endswith("invalid (3 problems)")
    assert_no_traceback(result)


def test_express_rules_apply_in_express_mode(
    results: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    result = results["validate express-only express"]
    assert result.returncode == 2
    (line,) = result.stdout.splitlines()
    assert "States[0] (Name: W).Seconds" in line and "five-minute" in line


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("binary", "not UTF-8"),
        ("empty", "empty"),
        ("bomb", "nodes"),
        ("ten-megabytes", "over the limit of 1048576 bytes"),
        ("deep-nesting", "nest"),
        ("directory", "is a directory"),
        ("missing", "no such file"),
    ],
)
def test_hostile_files_give_a_message_not_a_traceback(
    name: str, words: str, results: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    result = results[f"validate {name}"]
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert_no_traceback(result)
    output = (result.stdout + result.stderr).strip()
    assert words in output
    assert len(output.splitlines()) <= 2  # one problem, and the summary line or nothing


def test_run_prints_the_result_as_json(
    results: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    result = results["run valid"]
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.splitlines()[-1])
    assert summary["Status"] == "Succeeded"
    assert summary["Output"] == {"greeting": "hello ada"}
    assert summary["ErrorCode"] is None


def test_run_of_a_failing_flow_exits_1(
    results: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    result = results["run failing"]
    assert result.returncode == 1
    summary = json.loads(result.stdout.splitlines()[-1])
    assert (summary["Status"], summary["ErrorCode"], summary["ErrorMessage"]) == (
        "Failed",
        "Broken",
        "it broke",
    )


def test_run_of_an_invalid_flow_lists_its_problems(
    results: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    result = results["run invalid"]
    assert result.returncode == 2
    assert len(result.stdout.splitlines()) == 3
    assert "MaxAttempts" in result.stdout
    assert_no_traceback(result)


# -- the same code in this process ----------------------------------------------------------------


def cli(arguments: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(arguments)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("name", sorted(MORE_HOSTILE))
def test_more_hostile_files(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data, words = MORE_HOSTILE[name]
    path = tmp_path / "flow.yaml"
    path.write_bytes(data)
    for command in ("validate", "run"):
        code, out, err = cli([command, str(path)], capsys)
        assert code == 2
        assert words in out + err
        assert "Traceback" not in out + err and "internal error" not in err
        assert len(out.splitlines()) <= 1


def test_modes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "wait.yaml"
    path.write_text(EXPRESS_ONLY_INVALID, encoding="utf-8")
    assert cli(["validate", str(path)], capsys)[:2] == (
        0,
        f"{path}: valid standard flow (1 state)\n",
    )
    path.write_text(VALID, encoding="utf-8")
    assert cli(["validate", str(path), "--mode", "express"], capsys)[:2] == (
        0,
        f"{path}: valid express flow (2 states)\n",
    )


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero here")
def test_an_endless_device_is_not_read_to_its_end(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(["validate", "/dev/zero"], capsys)
    assert code == 2 and "over the limit of 1048576 bytes" in err


@pytest.mark.parametrize(
    ("input_text", "words"),
    [("[1, 2]", "--input must be a JSON object"), ("{nope", "--input is not valid JSON")],
)
def test_run_rejects_bad_inputs(
    input_text: str, words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "flow.yaml"
    path.write_text(VALID, encoding="utf-8")
    code, out, err = cli(["run", str(path), "--input", input_text], capsys)
    assert code == 2
    assert words in err
    assert out == ""
