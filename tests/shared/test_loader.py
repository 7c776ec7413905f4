"""The FDL loader: YAML/JSON text into plain values with the line of every node.

Hostile text (binary, empty, bombs, deep nesting, huge) must end in DefinitionSyntaxError,
never in another exception.
"""

from __future__ import annotations

import pytest

from shared.fdl.loader import MAX_DEFINITION_BYTES, DefinitionSyntaxError, load_document

FLOW = """\
Type: StateMachine
SpecVersion: v1
StartAt: A
States:
  - Type: Pass
    Name: A
    InputConstructor:
      x: 1
      nested:
        - 10
        - 20
    End: true
"""


def test_yaml_values_and_lines() -> None:
    document = load_document(FLOW)
    assert document.value["States"][0]["InputConstructor"] == {"x": 1, "nested": [10, 20]}
    assert document.lines[()] == 1
    assert document.lines[("StartAt",)] == 3
    assert document.lines[("States", 0)] == 5
    assert document.lines[("States", 0, "Name")] == 6
    assert document.lines[("States", 0, "InputConstructor", "nested", 1)] == 11


def test_a_field_with_a_block_value_is_on_the_line_of_its_key() -> None:
    # Problems about a field ("unknown field", "must be a mapping") point at its key.
    document = load_document(FLOW)
    assert document.lines[("States", 0, "InputConstructor")] == 7
    assert document.lines[("States", 0, "InputConstructor", "nested")] == 9


def test_line_of_falls_back_to_the_nearest_ancestor() -> None:
    document = load_document(FLOW)
    assert document.line_of(("States", 0, "Retry", 0, "MaxAttempts")) == 5
    assert document.line_of(("Missing",)) == 1
    assert document.line_of(()) == 1


def test_json_is_accepted_and_gives_the_same_values() -> None:
    text = '{"Type": "StateMachine", "States": [{"Name": "A", "Seconds": 1e3, "X": 1.5E-1, "N": null, "B": true}]}'
    value = load_document(text).value
    assert value == {
        "Type": "StateMachine",
        "States": [{"Name": "A", "Seconds": 1000.0, "X": 0.15, "N": None, "B": True}],
    }


def test_json_lines_are_tracked_too() -> None:
    text = '{\n  "StartAt": "A",\n  "States": [\n    {"Name": "A"}\n  ]\n}\n'
    document = load_document(text)
    assert document.lines[("StartAt",)] == 2
    assert document.lines[("States", 0)] == 4


@pytest.mark.parametrize(
    ("scalar", "expected"),
    [
        ("true", True),
        ("false", False),
        ("True", True),
        ("yes", "yes"),  # YAML 1.2: only true/false are booleans
        ("On", "On"),
        ("no", "no"),
        ("null", None),
        ("~", None),
        ("", None),
        ("42", 42),
        ("-7", -7),
        ("1_000", 1000),
        ("0x1F", 31),
        ("010", 10),  # YAML 1.2 and JSON readers: decimal, not octal
        ("1.5", 1.5),
        ("1e3", 1000.0),
        ("2.5E-1", 0.25),
        ("-1e+2", -100.0),
        (".5", 0.5),
        ("'1e3'", "1e3"),  # quoted: a string
        ("!!str 1e3", "1e3"),  # explicit tag: a string
        ("1e400", "1e400"),  # JSON has no infinity: keep the text
        ("1.0e+400", "1.0e+400"),
        (".inf", ".inf"),
        (".nan", ".nan"),
        ("2024-01-01", "2024-01-01"),  # YAML timestamps stay strings
        ("2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z"),
        ("1:30", "1:30"),  # YAML 1.1 sexagesimal: a string
        ("!custom hello", "hello"),  # unknown tags are not constructed
        ("'$Input.a'", "$Input.a"),
    ],
)
def test_scalars_resolve_like_yaml_1_2_and_json(scalar: str, expected: object) -> None:
    value = load_document(f"a: {scalar}\n").value["a"]
    assert value == expected
    assert type(value) is type(expected)


def test_huge_integers_stay_text() -> None:
    # Python cannot print integers past ~4300 digits; such a literal is not a number anyone meant.
    text = "a: 0x" + "f" * 5000 + "\nb: " + "9" * 200 + "\n"
    value = load_document(text).value
    assert isinstance(value["a"], str)
    assert value["b"] == int("9" * 200)


def test_aliases_are_expanded() -> None:
    value = load_document("a: &x {k: 1}\nb: *x\n").value
    assert value == {"a": {"k": 1}, "b": {"k": 1}}


def test_bytes_with_a_bom_are_read() -> None:
    assert load_document(b"\xef\xbb\xbfa: 1\n").value == {"a": 1}


@pytest.mark.parametrize(
    ("text", "words", "line"),
    [
        ("", "empty", None),
        ("   \n\n\t\n", "empty", None),
        ("# only a comment\n", "empty", None),
        (b"\xff\xfe\x00garbage", "not UTF-8", None),
        ("a: 1\x00", "NUL", None),
        ("a: 1\na: 2\n", "appears twice", 2),
        ("a: &x {k: 1}\nb:\n  <<: *x\n", "merge keys", 3),
        ("? [1, 2]\n: x\n", "plain string", 1),
        ("a: [1, 2\nb: 3\n", "not valid YAML", 2),
        ("a: 1\n---\nb: 2\n", "not valid YAML", 2),
        ("a:\n\t- 1\n", "not valid YAML", 2),
        ("a: *nowhere\n", "not valid YAML", 1),
        ("a: 'unterminated\n", "not valid YAML", 2),
    ],
)
def test_unreadable_text_is_a_syntax_error(text: str | bytes, words: str, line: int | None) -> None:
    with pytest.raises(DefinitionSyntaxError) as caught:
        load_document(text)
    assert words in caught.value.message
    assert caught.value.line == line
    assert (f"line {line}: " in str(caught.value)) == (line is not None)


def test_text_over_the_size_limit_is_rejected_before_parsing() -> None:
    for text in ("a: " + "x" * MAX_DEFINITION_BYTES, ("a: " + "x" * MAX_DEFINITION_BYTES).encode()):
        with pytest.raises(DefinitionSyntaxError, match="over the limit"):
            load_document(text)
    # Multi-byte characters count as bytes, not characters.
    with pytest.raises(DefinitionSyntaxError, match="over the limit"):
        load_document("a: " + "é" * (MAX_DEFINITION_BYTES // 2 + 1))


@pytest.mark.parametrize("opening", ["[", "{a: ", "- "])
def test_deep_nesting_is_rejected(opening: str) -> None:
    with pytest.raises(DefinitionSyntaxError, match="nest"):
        load_document(opening * 5000)


def test_block_nesting_past_the_depth_limit_is_rejected() -> None:
    text = "".join("  " * i + "k:\n" for i in range(100)) + "  " * 100 + "v\n"
    with pytest.raises(DefinitionSyntaxError, match="nested too deeply"):
        load_document(text)


def test_alias_bomb_is_stopped() -> None:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    with pytest.raises(DefinitionSyntaxError, match=r"more than .* nodes"):
        load_document("\n".join(lines) + "\n")


def test_syntax_error_str_without_a_line() -> None:
    error = DefinitionSyntaxError("the definition is empty")
    assert str(error) == "the definition is empty"
    assert str(DefinitionSyntaxError("bad", 3)) == "line 3: bad"
