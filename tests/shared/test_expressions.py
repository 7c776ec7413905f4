"""The expression language: syntax, operators, paths, limits and compile-time errors.

The built-in functions are covered in ``test_expressions_functions.py``; properties
(round trips, no unexpected exceptions) in ``test_expression_properties.py``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import pytest

from shared.expressions import (
    Expression,
    ExpressionError,
    ExpressionRuntimeError,
    ExpressionSyntaxError,
    compile_expression,
    parse,
    unparse,
)
from shared.expressions.syntax import (
    Binary,
    Call,
    Field,
    Index,
    NumberLiteral,
    StringLiteral,
    Unary,
    Variable,
)


class FixedEntropy:
    """A deterministic Entropy: a fixed UUID, and the lowest allowed random integer."""

    UUID = "123e4567-e89b-42d3-a456-426614174000"

    def __init__(self) -> None:
        self.random_calls: list[tuple[int, int]] = []

    def uuid4(self) -> str:
        return self.UUID

    def random_int(self, start: int, end: int) -> int:
        self.random_calls.append((start, end))
        return start


INPUT: dict[str, Any] = {
    "a": 2,
    "b": 3,
    "f": 1.5,
    "s": "x",
    "t": "y",
    "flag": True,
    "off": False,
    "nothing": None,
    "list": [10, 20, 30],
    "obj": {"k": "v", "n": {"deep": 1}},
    "weird key": 7,
}


def evaluate(text: str, variables: Mapping[str, Any] | None = None) -> Any:
    """Compile and evaluate ``text`` with ``$Input`` = INPUT unless variables are given."""
    if variables is None:
        variables = {"$Input": INPUT}
    return compile_expression(text).evaluate(variables, FixedEntropy())


def runtime_error(text: str, variables: Mapping[str, Any] | None = None) -> str:
    with pytest.raises(ExpressionRuntimeError) as caught:
        evaluate(text, variables)
    return str(caught.value)


def syntax_error(text: str) -> ExpressionSyntaxError:
    with pytest.raises(ExpressionSyntaxError) as caught:
        compile_expression(text)
    return caught.value


def same_json(actual: Any, expected: Any) -> bool:
    """Equal with the same JSON types (``1`` vs ``1.0`` and ``True`` vs ``1`` differ)."""
    if type(actual) is not type(expected):
        return False
    if isinstance(expected, list):
        return len(actual) == len(expected) and all(map(same_json, actual, expected))
    if isinstance(expected, dict):
        return actual.keys() == expected.keys() and all(
            same_json(actual[key], expected[key]) for key in expected
        )
    return bool(actual == expected)


# -- literals ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0),
        ("42", 42),
        ("1.0", 1.0),
        ("12.5", 12.5),
        ("1e2", 100.0),
        ("2.5E-1", 0.25),
        ("1e+3", 1000.0),
        ("-1", -1),
        ("-0.5", -0.5),
        ("123456789012345678901234567890", 123456789012345678901234567890),
        ("true", True),
        ("false", False),
        ("null", None),
        ("[]", []),
        ('[1, "a", null, [true]]', [1, "a", None, [True]]),
        ("{}", {}),
        ('{"a": 1, \'b\': [2], `c`: {"d": null}}', {"a": 1, "b": [2], "c": {"d": None}}),
    ],
)
def test_literals(text: str, expected: Any) -> None:
    assert same_json(evaluate(text), expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"plain"', "plain"),
        ('""', ""),
        (r'"a\"b\\c\/d"', 'a"b\\c/d'),
        (r'"\b\f\n\r\t"', "\b\f\n\r\t"),
        (r'"\u00e9\u4E2D"', "é中"),
        (r'"\ud83d\ude00"', "😀"),  # a surrogate pair is one character, as in JSON
        ('"naïve 中文"', "naïve 中文"),
        (r"'it\'s'", "it's"),
        (r"'say \"hi\" \n'", 'say "hi" \n'),
        ("'\"'", '"'),
        ("`raw \\n \\ ' \"`", "raw \\n \\ ' \""),
        ("``", ""),
        ("`line\nbreak`", "line\nbreak"),
    ],
)
def test_string_literals(text: str, expected: str) -> None:
    assert evaluate(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('"abc', "unterminated string"),
        ("'abc", "unterminated string"),
        ("`abc", "unterminated raw string"),
        (r'"\x41"', "invalid escape '\\x'"),
        (r'"\'"', "invalid escape"),  # \' is for single-quoted strings only
        (r'"\u12"', "four hexadecimal digits"),
        ('"a\nb"', "control character U+000A"),
        ("01", "cannot start with '0'"),
        ("1.", "digit after the decimal point"),
        ("1e", "exponent"),
        ("1abc", "invalid number"),
        ("1e999", "too large"),
        ("9" * 5000, "too many digits"),
    ],
)
def test_bad_literals(text: str, fragment: str) -> None:
    assert fragment in syntax_error(text).message


def test_numbers_keep_int_and_float_apart() -> None:
    assert type(evaluate("1")) is int
    assert type(evaluate("1.0")) is float
    assert type(evaluate("1 + 2")) is int
    assert type(evaluate("1 + 2.0")) is float
    assert type(evaluate("-$Input.a")) is int


# -- paths and null ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$Input.a", 2),
        ("$Input.obj.n.deep", 1),
        ('$Input["a"]', 2),
        ("$Input['obj'][`n`].deep", 1),
        ('$Input["weird key"]', 7),
        ("$Input.list[0]", 10),
        ("$Input.list[2]", 30),
        ("$Input.list[3]", None),  # out of range is null
        ("$Input.list[-1]", None),  # so is a negative index
        ("$Input.list[1.0]", 20),  # an integral float is an integer
        ("$Input.list[$Input.a]", 30),  # a computed index
        ("$Input.list[$Input.a - 1]", 20),
        ('$Input[$Input.s + ""]', None),
        ('$Input.obj["k"]', "v"),
        ("$Input.missing", None),
        ("$Input.missing.deeper.still", None),
        ("$Input.missing[0]", None),
        ("$Input.nothing.x", None),
        ("$Input.nothing[true]", None),  # on null the index is not even checked
        ("$Output", None),  # a variable missing from the mapping is null
        ("$Output.x", None),
        ("[1, [2, 3]][1][0]", 2),
        ('{"a": {"b": 5}}.a.b', 5),
        ("null.x", None),
        ("$Input.obj.true", None),  # keywords are ordinary names after '.'
    ],
)
def test_paths(text: str, expected: Any) -> None:
    assert same_json(evaluate(text), expected)


def test_a_path_returns_the_input_value_itself() -> None:
    # Callers treat values as immutable, so no copy is needed (or made) for paths.
    assert evaluate("$Input.obj") is INPUT["obj"]


def test_variables_are_looked_up_by_name_with_dollar() -> None:
    variables = {
        "$Input": {"x": 1},
        "$Output": {"x": 2},
        "$Context": {"Current": {"RetryCount": 3}},
        "$Global": {"x": 4},
        "$Item": 5,
        "$Index": 6,
    }
    text = "[$Input.x, $Output.x, $Context.Current.RetryCount, $Global.x, $Item, $Index]"
    assert evaluate(text, variables) == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("$Input.a.b", "cannot read field 'b' of $Input.a, which is a number"),
        ("$Input.list.x", "which is an array"),
        ('$Input.list["0"]', "cannot read field '0' of $Input.list"),
        ("$Input.s.length", "which is a string"),
        ("$Input.flag.x", "which is a boolean"),
        ("$Input.list[1.5]", "array index must be an integer, got number"),
        ("$Input.list[true]", "array index must be an integer, got boolean"),
        ("$Input.list[null]", "array index must be an integer, got null"),
        ("$Input.obj[1]", "object key must be a string, got number"),
        ("$Input.s[0]", "cannot index $Input.s, which is a string"),
        ("$Input.a[0]", "cannot index $Input.a, which is a number"),
        ("(1 + 2).x", "cannot read field 'x' of 1 + 2, which is a number"),
    ],
)
def test_path_errors(text: str, fragment: str) -> None:
    assert fragment in runtime_error(text)


# -- operators ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("10 - 4 - 3", 3),  # left-associative
        ("10 - (4 - 3)", 9),
        ("100 / 10 / 5", 2),
        ("2 * 3 % 4", 2),  # same level, left to right: (2 * 3) % 4
        ("2 * (3 % 4)", 6),
        ("-2 * 3", -6),
        ("- -2", 2),
        ("--2", 2),
        ("!!true", True),
        ("!true == false", True),  # unary binds tighter than ==
        ("1 + 2 == 3", True),
        ("1 < 2 == true", True),  # ordering binds tighter than equality
        ("1 == 1 == true", True),
        ("true || false && false", True),  # && binds tighter than ||
        ("(true || false) && false", False),
        ("1 < 2 && 2 < 3", True),
        ("1 + 2 < 2 + 2", True),
        ('"a" + "b" == "ab"', True),
        ("-$Input.list[0]", -10),  # postfix binds tighter than unary minus
    ],
)
def test_precedence_and_associativity(text: str, expected: Any) -> None:
    assert same_json(evaluate(text), expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2", 3),
        ("1 + 2.5", 3.5),
        ("0.1 + 0.2", 0.1 + 0.2),
        ('"ab" + "cd"', "abcd"),
        ('"" + ""', ""),
        ("5 - 7", -2),
        ("5.5 - 0.5", 5.0),
        ("6 * 7", 42),
        ("1.5 * 2", 3.0),
        ("6 / 3", 2),
        ("-6 / 3", -2),
        ("3 / 2", 1.5),
        ("1 / 3", 1 / 3),
        ("6.0 / 3", 2.0),  # only two ints give an int
        ("7 % 3", 1),
        ("-7 % 3", -1),  # the sign of the dividend, as in Go and JavaScript
        ("7 % -3", 1),
        ("7.5 % 2", 1.5),
        ("-7.5 % 2", -1.5),
        ("1 < 2", True),
        ("2 <= 2", True),
        ("3 > 2.5", True),
        ("2 >= 3", False),
        ('"a" < "b"', True),
        ('"Z" < "a"', True),  # code-point order
        ('"é" > "z"', True),
        ('"ab" >= "ab"', True),
        ("!false", True),
    ],
)
def test_operator_results(text: str, expected: Any) -> None:
    assert same_json(evaluate(text), expected)


def test_large_integers_stay_exact() -> None:
    assert evaluate("9007199254740993 + 1") == 9007199254740994
    assert evaluate("123456789123456789 * 1000") == 123456789123456789000
    assert evaluate("10000000000000000000000 / 10") == 1000000000000000000000


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("true + 1", "'+' needs two numbers or two strings, got boolean and number"),
        ('1 + "a"', "got number and string"),
        ("[1] + [2]", "got array and array"),
        ("null + 1", "got null and number"),
        ('"a" - "b"', "'-' needs two numbers, got string and string"),
        ("true * 2", "'*' needs two numbers"),
        ("{} / 1", "'/' needs two numbers, got object and number"),
        ('1 % "2"', "'%' needs two numbers"),
        ("1 / 0", "division by zero"),
        ("1.5 / 0.0", "division by zero"),
        ("1 % 0", "modulo by zero"),
        ("-true", "'-' needs a number, got boolean"),
        ('-"1"', "'-' needs a number, got string"),
        ("!1", "'!' needs a boolean, got number"),
        ("!null", "'!' needs a boolean, got null"),
        ('$Input.a > "5"', "cannot compare number with string using '>'"),
        ('"5" < $Input.a', "cannot compare string with number using '<'"),
        ("null < 1", "cannot compare null with number using '<'"),
        ("$Input.missing >= 0", "cannot compare null with number using '>='"),
        ("true <= false", "cannot compare boolean with boolean"),
        ("[1] < [2]", "cannot compare array with array"),
        ("$Input.flag > 1", "cannot compare boolean with number"),
        ("1 && true", "'&&' needs booleans, but its left side is a number"),
        ("true && 1", "'&&' needs booleans, but its right side is a number"),
        ("null || true", "'||' needs booleans, but its left side is null"),
        ('false || "yes"', "'||' needs booleans, but its right side is a string"),
        ("1e308 * 10", "out of range"),
        ("1e308 + 1e308", "out of range"),
    ],
)
def test_operator_errors(text: str, fragment: str) -> None:
    assert fragment in runtime_error(text)


def test_huge_integer_results_are_errors() -> None:
    big = 10**2200
    assert "too large" in runtime_error("$Input.x * $Input.x", {"$Input": {"x": big}})
    assert evaluate("$Input.x + 1", {"$Input": {"x": big}}) == big + 1


def test_logic_short_circuits() -> None:
    # The right side would fail if it were evaluated.
    assert evaluate("false && 1 / 0 == 1") is False
    assert evaluate('true || $Input.a > "x"') is True
    assert evaluate("$Input.off && $Input.missing.x > 1") is False
    # When the left side does not decide, the right side runs and must be boolean.
    assert evaluate("true && false") is False
    assert evaluate("false || true") is True
    assert "right side" in runtime_error("true && null")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 == 1.0", True),
        ("0 == -0.0", True),
        ("true == 1", False),
        ("false == 0", False),
        ("null == false", False),
        ('"1" == 1', False),
        ("null == null", True),
        ("$Input.missing == null", True),
        ("$Input.a != null", True),
        ("[1, 2] == [1, 2]", True),
        ("[1, 2] == [2, 1]", False),
        ("[1, [2.0]] == [1.0, [2]]", True),
        ("[true] == [1]", False),
        ('{"a": 1, "b": [2]} == {"b": [2.0], "a": 1}', True),  # key order does not matter
        ('{"a": 1} == {"a": 1, "b": 2}', False),
        ('{"a": null} == {"b": null}', False),
        ('$Input.obj == {"k": "v", "n": {"deep": 1.0}}', True),
        ("[] == {}", False),
        ('"" == null', False),
        ("1 != 1.0", False),
        ("true != 1", True),
        ("$Input.list == [10, 20, 30]", True),
        # Literal on either side, and comparisons against computed values.
        ("2 == $Input.a", True),
        ('"x" == $Input.s', True),
        ("null == $Input.nothing", True),
        ("$Input.a == $Input.a * 1.0", True),
    ],
)
def test_equality(text: str, expected: bool) -> None:
    assert evaluate(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$Input.a > 1", True),
        ("$Input.a > 2", False),
        ("$Input.a >= 2", True),
        ("$Input.a < 2.5", True),
        ("$Input.a <= -1", False),
        ("3 > $Input.a", True),
        ("2 >= $Input.a", True),
        ("1 < $Input.a", True),
        ("2 <= $Input.a", True),
        ("$Input.f > 1", True),
        ('$Input.s < "y"', True),
        ('"a" < $Input.s', True),
        ('$Input.s >= "x"', True),
        ('"x" <= $Input.s', True),
    ],
)
def test_comparisons_with_literals(text: str, expected: bool) -> None:
    # These take the specialised closures; the table pins their results and operand order.
    assert evaluate(text) is expected


def test_results_are_never_tuples_and_literals_are_fresh() -> None:
    expression = compile_expression('[1, {"a": [2]}]')
    first = expression.evaluate({}, FixedEntropy())
    second = expression.evaluate({}, FixedEntropy())
    assert first == second == [1, {"a": [2]}]
    assert first is not second and first[1] is not second[1]
    assert isinstance(first, list) and isinstance(first[1]["a"], list)


# -- compile-time errors and limits ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        ("$Input.a +", "unexpected end of expression after '+'", 11),
        ("", "the expression is empty", 1),
        ("   ", "the expression is empty", 1),
        ("$Foo", "unknown variable '$Foo'", 1),
        ("1 + $input", "unknown variable '$input'; did you mean '$Input'?", 5),
        ("$", "expected a variable name after '$'", 1),
        ("noSuchFunction($Input)", "unknown function 'noSuchFunction'", 1),
        ("1 + lenght($Input)", "unknown function 'lenght'; did you mean 'length'?", 5),
        ("hello world", "unexpected name 'hello'", 1),
        ("True", "did you mean 'true'?", 1),
        ("length", "to call the function write length(...)", 1),
        ("$Input.a $Input.b", "unexpected '$Input' after a complete expression", 10),
        ("1 = 1", "unexpected character '='; did you mean '=='?", 3),
        ("true & false", "did you mean '&&'?", 6),
        ("1 | 2", "did you mean '||'?", 3),
        ("1 # 2", "unexpected character '#'", 3),
        ("(1 + 2", "expected ')' to close the parenthesis, found the end of the expression", 7),
        ("1 + )", "expected a value after '+', found ')'", 5),
        (")", "expected a value, found ')'", 1),
        ("[1, 2", "expected ']' or ',' in the array", 6),
        ("[1,]", "expected a value after ',', found ']'", 4),
        ('{"a" 1}', "expected ':' after the object key", 6),
        ("{a: 1}", "expected a quoted key in the object, found name 'a'", 2),
        ('{"a": 1, "a": 2}', 'duplicate key "a" in the object', 10),
        ("$Input.", "expected a field name after '.'", 8),
        ("$Input.0", "expected a field name after '.', found number 0", 8),
        ("$Input[0", "expected ']' to close the index", 9),
        ("length(1, 2)", "function 'length' expects 1 argument, got 2", 1),
        ('hash("a")', "function 'hash' expects 2 arguments, got 1", 1),
        ("uuid(1)", "function 'uuid' expects no arguments, got 1", 1),
        ("format()", "function 'format' expects at least 1 argument, got 0", 1),
        ("arrayRange(1, 2)", "function 'arrayRange' expects 3 arguments, got 2", 1),
        ("length(1,", "unexpected end of expression after ','", 10),
        ("$Input(1)", "unexpected '(' after a complete expression", 7),
        ("\u00a0", "unexpected character U+00A0", 1),
    ],
)
def test_syntax_errors(text: str, message: str, column: int) -> None:
    error = syntax_error(text)
    assert message in error.message
    assert error.column == column
    assert str(error) == f"{error.message} (at column {column})"


def _nested_calls(depth: int) -> str:
    return "length(" * depth + '"x"' + ")" * depth


def test_function_nesting_limit() -> None:
    assert evaluate(_nested_calls(1)) == 1
    # length(length(...)) fails at run time (length of a number) but compiles at depth 10.
    compile_expression(_nested_calls(10))
    error = syntax_error(_nested_calls(11))
    assert "nested more than 10 levels deep" in error.message
    assert error.column == 1 + 7 * 10  # the eleventh 'length'
    # Nesting through an array or object literal still counts.
    compile_expression("format(" * 8 + 'length([format("x")])' + ")" * 8)
    assert (
        "nested more than 10"
        in syntax_error("format(" * 9 + 'length([format("x")])' + ")" * 9).message
    )
    # Calls side by side do not nest.
    compile_expression(" + ".join([_nested_calls(10)] * 5))


@pytest.mark.parametrize(
    "text",
    [
        "(" * 8_000 + "1" + ")" * 8_000,
        "[" * 8_000 + "]" * 8_000,
        '{"a": ' * 2_000 + "1" + "}" * 2_000,
        "length(" * 2_000 + "1" + ")" * 2_000,
        "!" * 10_000 + "true",
        "-" * 10_000 + "1",
        "$Input" + ".a" * 5_000,
        "$Input" + "[0]" * 3_000,
        " + ".join(["1"] * 4_000),
        "1" + " + (1" * 2_000 + ")" * 2_000,
        "(" * 10_000,
    ],
)
def test_deep_nesting_is_a_syntax_error_not_a_crash(text: str) -> None:
    error = syntax_error(text)
    assert "nested more than" in error.message
    assert error.column is not None


def test_ten_thousand_parentheses_are_a_syntax_error() -> None:
    # Over the length limit too, which is checked first; either way no RecursionError.
    for text in ["(" * 10_000 + "1" + ")" * 10_000, "[" * 10_000 + "]" * 10_000]:
        with pytest.raises(ExpressionSyntaxError):
            parse(text)


def test_moderate_nesting_compiles() -> None:
    assert evaluate("(" * 90 + "1" + ")" * 90) == 1
    assert evaluate(" + ".join(["1"] * 90)) == 90
    assert evaluate("$Input" + ".x" * 90) is None
    assert evaluate("!" * 90 + "true") is True


def test_length_limit() -> None:
    long_string = '"' + "a" * (16 * 1024 - 2) + '"'
    assert len(evaluate(long_string)) == 16 * 1024 - 2
    error = syntax_error('"' + "a" * (16 * 1024) + '"')
    assert "longer than 16384 bytes" in error.message
    assert error.column is None
    assert str(error) == error.message
    # The limit is in UTF-8 bytes: 6,000 three-byte characters are 18,000 bytes.
    assert "longer than" in syntax_error('"' + "中" * 6_000 + '"').message


def test_errors_form_one_family() -> None:
    assert issubclass(ExpressionSyntaxError, ExpressionError)
    assert issubclass(ExpressionRuntimeError, ExpressionError)
    error = syntax_error("1 +")
    assert isinstance(error.message, str)


# -- the Expression object ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "variables"),
    [
        ("1 + 2", frozenset()),
        ("$Input", frozenset({"$Input"})),
        ("$Input.a + $Input.b", frozenset({"$Input"})),
        ("$Context.Current.Error.Code", frozenset({"$Context"})),
        ('format("{}{}", $Output.x, $Global.y)', frozenset({"$Output", "$Global"})),
        ('[$Item, {"i": $Index}]', frozenset({"$Item", "$Index"})),
        ("$Input.list[$Context.i]", frozenset({"$Input", "$Context"})),
        ("!($Input.a == 1)", frozenset({"$Input"})),
    ],
)
def test_variables(text: str, variables: frozenset[str]) -> None:
    assert compile_expression(text).variables == variables


def test_expression_is_immutable_and_compares_by_source() -> None:
    expression = compile_expression("$Input.a + 1")
    assert expression.source == "$Input.a + 1"
    with pytest.raises(dataclasses.FrozenInstanceError):
        expression.source = "other"  # type: ignore[misc]
    assert expression == compile_expression("$Input.a + 1")
    assert hash(expression) == hash(compile_expression("$Input.a + 1"))
    assert isinstance(expression, Expression)
    assert "$Input.a + 1" in repr(expression)


def test_evaluation_does_not_mutate_its_inputs() -> None:
    data = {"a": [3, 1, 3], "o": {"x": 1}}
    snapshot = repr(data)
    for text in [
        "arrayUnique($Input.a)",
        'jsonMerge($Input.o, {"y": 2})',
        "arrayPartition($Input.a, 1)",
        "mapValues($Input.o)",
        "[$Input.a, $Input.o]",
    ]:
        result = evaluate(text, {"$Input": data})
        assert result is not data["a"] and result is not data["o"]
    assert repr(data) == snapshot


def test_deeply_nested_data_is_a_runtime_error() -> None:
    deep: Any = []
    for _ in range(5_000):
        deep = [deep]
    assert "nested too deeply" in runtime_error("jsonToString($Input)", {"$Input": deep})
    assert "nested too deeply" in runtime_error("$Input == [$Input]", {"$Input": deep})


# -- parse and unparse -------------------------------------------------------------------


def test_parse_builds_the_tree() -> None:
    assert parse("$Input.a + 2 * 3") == Binary(
        "+",
        Field(Variable("$Input"), "a"),
        Binary("*", NumberLiteral(2), NumberLiteral(3)),
    )
    # A bracket with a constant string is the same tree as a dotted name.
    assert parse('$Input["a"]') == parse("$Input.a") == parse("$Input[`a`]")
    assert parse("$Input[0]") == Index(Variable("$Input"), NumberLiteral(0))
    assert parse("-1") == Unary("-", NumberLiteral(1))
    assert parse("length('x')") == Call("length", (StringLiteral("x"),))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1+2*3", "1 + 2 * 3"),
        ("(1+2)*3", "(1 + 2) * 3"),
        ("1-(2-3)", "1 - (2 - 3)"),
        ("(1-2)-3", "1 - 2 - 3"),
        ("-(1+2)", "-(1 + 2)"),
        ("(-1).x", "(-1).x"),
        ("(1).x", "(1).x"),
        ("- -1", "--1"),
        ("!($Input.a==$Input.b)", "!($Input.a == $Input.b)"),
        ('$Input["my key"]', '$Input["my key"]'),
        ("$Input['k']", "$Input.k"),
        ("$Input.名前", "$Input.名前"),
        ('`a"b`', '"a\\"b"'),
        ("'x'", '"x"'),
        ("{ 'a' : [ 1 ,2 ] }", '{"a": [1, 2]}'),
        ('format( "{}" , 1e2 )', 'format("{}", 100.0)'),
        ("true||false&&null", "true || false && null"),
        ("(true||false)&&null", "(true || false) && null"),
    ],
)
def test_unparse(text: str, expected: str) -> None:
    tree = parse(text)
    assert unparse(tree) == expected
    assert parse(unparse(tree)) == tree
