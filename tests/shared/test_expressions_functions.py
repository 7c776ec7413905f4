"""The built-in functions of the expression language (DESIGN.md §3, "Functions")."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest

from shared.expressions import ExpressionRuntimeError, ExpressionSyntaxError, compile_expression
from shared.expressions.functions import FUNCTIONS
from tests.shared.test_expressions import FixedEntropy, same_json

INPUT: dict[str, Any] = {
    "tags": ["a", "b", "c"],
    "nums": [1, 2, 3, 1],
    "obj": {"a": 1},
    "two": {"k1": "v1", "k2": "v2"},
    "name": "Ann",
    "age": 30,
    "raw": '{"k": [1, "two"]}',
}


def call(text: str, data: Any = None) -> Any:
    expression = compile_expression(text)
    return expression.evaluate({"$Input": INPUT if data is None else data}, FixedEntropy())


def call_error(text: str) -> str:
    with pytest.raises(ExpressionRuntimeError) as caught:
        call(text)
    return str(caught.value)


def test_the_table_has_exactly_the_documented_functions() -> None:
    assert set(FUNCTIONS) == {
        "arrayContains",
        "arrayUnique",
        "arrayLength",
        "arrayRange",
        "arrayPartition",
        "arrayGetItem",
        "format",
        "fromBase64",
        "toBase64",
        "stringToJson",
        "jsonToString",
        "stringSplit",
        "hash",
        "jsonMerge",
        "length",
        "mapKeys",
        "mapValues",
        "uuid",
        "mathAdd",
        "mathRandom",
    }


# The conformance case expressions/functions.yaml, plus edge cases of each function.
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # arrayContains: the rules of ==
        ('arrayContains($Input.tags, "b")', True),
        ('arrayContains($Input.tags, "z")', False),
        ('arrayContains(["Tom", 10], 10)', True),
        ("arrayContains([1, 2], 2.0)", True),
        ("arrayContains([1], true)", False),
        ('arrayContains([{"a": [1]}], {"a": [1.0]})', True),
        ("arrayContains([], null)", False),
        ("arrayContains([null], null)", True),
        # arrayUnique: first occurrences, in order
        ("arrayUnique($Input.nums)", [1, 2, 3]),
        ("arrayUnique([])", []),
        ("arrayUnique([2, 1, 2.0, 1])", [2, 1]),
        ("arrayUnique([1, true, 1.0, false, 0])", [1, True, False, 0]),
        (
            'arrayUnique([{"a": 1, "b": 2}, {"b": 2, "a": 1.0}, {"a": 1}])',
            [{"a": 1, "b": 2}, {"a": 1}],
        ),
        ("arrayUnique([[1], [1], [1, 1], null, null])", [[1], [1, 1], None]),
        ('arrayUnique(["1", 1])', ["1", 1]),
        # arrayLength
        ("arrayLength($Input.nums)", 4),
        ("arrayLength([])", 0),
        # arrayRange: includes the end when a step lands on it
        ("arrayRange(1, 9, 3)", [1, 4, 7]),
        ("arrayRange(1, 7, 3)", [1, 4, 7]),
        ("arrayRange(0, 0, 1)", [0]),
        ("arrayRange(5, 1, -2)", [5, 3, 1]),
        ("arrayRange(5, 2, -2)", [5, 3]),
        ("arrayRange(1, 9, -1)", []),
        ("arrayRange(9, 1, 1)", []),
        ("arrayRange(1.0, 3, 1)", [1, 2, 3]),
        ("arrayLength(arrayRange(1, 10000, 1))", 10_000),
        # arrayPartition
        ("arrayPartition([1, 2, 3, 4, 5], 2)", [[1, 2], [3, 4], [5]]),
        ("arrayPartition([1, 2, 3, 4], 2)", [[1, 2], [3, 4]]),
        ("arrayPartition([1, 2], 5)", [[1, 2]]),
        ("arrayPartition([], 3)", []),
        # arrayGetItem: counts from 0
        ("arrayGetItem($Input.nums, 2)", 3),
        ("arrayGetItem($Input.nums, 0)", 1),
        ('arrayGetItem([[1], {"a": 2}], 1)', {"a": 2}),
        # format
        ('format("hi {}, you are {}", $Input.name, $Input.age)', "hi Ann, you are 30"),
        ('format("hello {}", "world")', "hello world"),
        ('format("no placeholders")', "no placeholders"),
        ('format("{}{}", 1.5, true)', "1.5true"),
        ('format("[{}]", null)', "[null]"),
        ('format("{} {}", [1, "a"], {"k": "中"})', '[1,"a"] {"k":"中"}'),
        ('format("{{}}", 1)', "{1}"),  # no escape: the inner {} is the placeholder
        ('format("{ }")', "{ }"),
        ('format("{}", "{}")', "{}"),  # an inserted "{}" is not a placeholder
        # base64
        ('toBase64("FnF")', "Rm5G"),
        ('fromBase64("Rm5G")', "FnF"),
        ('toBase64("")', ""),
        ('fromBase64("")', ""),
        ('toBase64("中文")', base64.b64encode("中文".encode()).decode()),
        ('fromBase64(toBase64("héllo ✓"))', "héllo ✓"),
        ('toBase64("a")', "YQ=="),
        # JSON
        ("stringToJson($Input.raw)", {"k": [1, "two"]}),
        ('stringToJson(\'{"name": "Tom"}\')', {"name": "Tom"}),
        ('stringToJson(" 1.0 ")', 1.0),
        ('stringToJson("[true, null]")', [True, None]),
        ('stringToJson("\\"s\\"")', "s"),
        ("jsonToString($Input.obj)", '{"a":1}'),
        (
            'jsonToString({"a": [1, 2.5, null, true], "b": "中\\n"})',
            '{"a":[1,2.5,null,true],"b":"中\\n"}',
        ),
        ('jsonToString("x")', '"x"'),
        ("jsonToString(null)", "null"),
        ("stringToJson(jsonToString($Input))", INPUT),
        # stringSplit
        ('stringSplit("a,b,c", ",")', ["a", "b", "c"]),
        ('stringSplit("a,,b", ",")', ["a", "", "b"]),
        ('stringSplit("", ",")', [""]),
        ('stringSplit("a--b--c", "--")', ["a", "b", "c"]),
        ('stringSplit("abc", ",")', ["abc"]),
        # hash
        ('hash("abc", "MD5")', "900150983cd24fb0d6963f7d28e17f72"),
        ('hash("abc", "SHA-1")', "a9993e364706816aba3e25717850c26c9cd0d89d"),
        (
            'hash("abc", "SHA-256")',
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        ),
        ('hash("abc", "SHA-512")', hashlib.sha512(b"abc").hexdigest()),
        ('hash("中", "MD5")', hashlib.md5("中".encode()).hexdigest()),
        # jsonMerge: shallow, second wins
        ('jsonMerge($Input.obj, {"b": 2, "a": 5})', {"a": 5, "b": 2}),
        ('jsonMerge({"a": {"x": 1}}, {"a": {"y": 2}})', {"a": {"y": 2}}),
        ("jsonMerge({}, {})", {}),
        # length
        ("length($Input.tags)", 3),
        ('length("hello")', 5),
        ('length("中文")', 2),  # code points, not bytes
        ("length($Input.obj)", 1),
        ("length([])", 0),
        ('length("")', 0),
        # mapKeys / mapValues: the object's order
        ("mapKeys($Input.two)", ["k1", "k2"]),
        ("mapValues($Input.two)", ["v1", "v2"]),
        ('mapKeys({"z": 1, "a": 2})', ["z", "a"]),
        ("mapValues({})", []),
        # uuid, mathAdd
        ("length(uuid())", 36),
        ("uuid()", FixedEntropy.UUID),
        ("mathAdd(40, 2)", 42),
        ("mathAdd(0.5, 2)", 2.5),
        ("mathAdd(-1, 1)", 0),
        # nesting
        ('length(arrayUnique(stringSplit(format("{},{},{}", "x", "y", "x"), ",")))', 2),
    ],
)
def test_functions(text: str, expected: Any) -> None:
    assert same_json(call(text), expected)


def test_json_merge_keeps_the_first_objects_key_order() -> None:
    assert list(call('jsonMerge({"a": 1, "b": 2}, {"c": 3, "a": 4})')) == ["a", "b", "c"]


def test_math_random_uses_the_entropy_port() -> None:
    entropy = FixedEntropy()
    assert compile_expression("mathRandom(3, 10)").evaluate({}, entropy) == 3
    assert entropy.random_calls == [(3, 10)]


def test_functions_that_build_values_build_new_ones() -> None:
    data = {"list": [1, 2], "obj": {"a": 1}}
    for text in [
        "arrayUnique($Input.list)",
        "arrayPartition($Input.list, 5)[0]",
        "jsonMerge($Input.obj, {})",
        "mapKeys($Input.obj)",
        "mapValues($Input.obj)",
    ]:
        result = call(text, data)
        assert result is not data["list"] and result is not data["obj"], text
        assert isinstance(result, list | dict)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('arrayContains("abc", "a")', "arrayContains(): argument 1 must be an array, got string"),
        ("arrayUnique({})", "arrayUnique(): argument 1 must be an array, got object"),
        ("arrayLength(null)", "arrayLength(): argument 1 must be an array, got null"),
        ("arrayRange(1, 5, 0)", "arrayRange(): the step must not be 0"),
        ('arrayRange("1", 5, 1)', "arrayRange(): argument 1 must be an integer, got string"),
        ("arrayRange(1, 5.5, 1)", "arrayRange(): argument 2 must be an integer, got number"),
        ("arrayRange(1, 5, true)", "arrayRange(): argument 3 must be an integer, got boolean"),
        ("arrayRange(0, 10000, 1)", "the range would have 10001 elements (at most 10000)"),
        ("arrayRange(0, -100000, -1)", "at most 10000"),
        ("arrayPartition([1], 0)", "arrayPartition(): the chunk size must be at least 1, got 0"),
        ("arrayPartition([1], -1)", "at least 1"),
        ("arrayPartition([1], 1.5)", "argument 2 must be an integer"),
        ("arrayPartition(1, 1)", "argument 1 must be an array"),
        (
            "arrayGetItem([1, 2], 2)",
            "arrayGetItem(): index 2 is out of range for an array of 2 elements",
        ),
        ("arrayGetItem([1], -1)", "index -1 is out of range for an array of 1 element"),
        ('arrayGetItem([1], "0")', "argument 2 must be an integer, got string"),
        (
            'format("{} {}", 1)',
            "format(): the template has 2 placeholders '{}' but 1 argument follow",
        ),
        ('format("x", 1)', "the template has 0 placeholders"),
        ("format(1)", "format(): argument 1 must be a string, got number"),
        ('fromBase64("@@@@")', "fromBase64(): the string is not valid base64"),
        ('fromBase64("Rm5")', "not valid base64"),  # missing padding
        ('fromBase64("Rm 5G")', "not valid base64"),
        ('fromBase64("中")', "not valid base64"),
        ('fromBase64("/w==")', "fromBase64(): the decoded bytes are not UTF-8 text"),
        ("toBase64(1)", "toBase64(): argument 1 must be a string, got number"),
        ('toBase64("\\ud800")', "toBase64(): the string is not valid Unicode"),
        ('stringToJson("{")', "stringToJson(): the string is not valid JSON"),
        ('stringToJson("NaN")', "not valid JSON"),
        ('stringToJson("[Infinity]")', "not valid JSON"),
        ('stringToJson("1e999")', "not valid JSON"),
        ('stringToJson("")', "not valid JSON"),
        ("stringToJson([])", "argument 1 must be a string, got array"),
        ('stringSplit("a", "")', "stringSplit(): the separator must not be empty"),
        ('stringSplit(1, ",")', "argument 1 must be a string"),
        ('stringSplit("a", 1)', "argument 2 must be a string"),
        (
            'hash("a", "sha256")',
            "hash(): unknown algorithm 'sha256'; use one of MD5, SHA-1, SHA-256, SHA-512",
        ),
        ('hash(1, "MD5")', "hash(): argument 1 must be a string"),
        ('hash("\\udfff", "MD5")', "not valid Unicode"),
        ("jsonMerge({}, [])", "jsonMerge(): argument 2 must be an object, got array"),
        ("jsonMerge(null, {})", "argument 1 must be an object, got null"),
        ("length(1)", "length(): argument 1 must be an array, object or string, got number"),
        ("length(null)", "got null"),
        ("mapKeys([])", "mapKeys(): argument 1 must be an object, got array"),
        ('mapValues("a")', "mapValues(): argument 1 must be an object, got string"),
        ('mathAdd("1", 2)', "mathAdd(): argument 1 must be a number, got string"),
        ("mathAdd(1, true)", "mathAdd(): argument 2 must be a number, got boolean"),
        ("mathAdd(1e308, 1e308)", "out of range"),
        ("mathRandom(5, 5)", "mathRandom(): the start (5) must be less than the end (5)"),
        ("mathRandom(1.5, 5)", "mathRandom(): argument 1 must be an integer, got number"),
        ('mathRandom(1, "5")', "argument 2 must be an integer, got string"),
    ],
)
def test_function_errors(text: str, fragment: str) -> None:
    assert fragment in call_error(text)


def test_json_to_string_rejects_values_json_cannot_hold() -> None:
    expression = compile_expression("jsonToString($Input)")
    with pytest.raises(ExpressionRuntimeError, match="cannot be written as JSON"):
        expression.evaluate({"$Input": float("nan")}, FixedEntropy())
    with pytest.raises(ExpressionRuntimeError, match="cannot be written as JSON"):
        expression.evaluate({"$Input": 10**5000}, FixedEntropy())


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("arrayContains([1])", "function 'arrayContains' expects 2 arguments, got 1"),
        ("uuid(1)", "expects no arguments"),
        ("format()", "expects at least 1 argument"),
        ("mathRandom(1, 2, 3)", "function 'mathRandom' expects 2 arguments, got 3"),
        ("Length(1)", "unknown function 'Length'; did you mean 'length'?"),
        ("States.Format(1)", "unexpected name 'States'"),
    ],
)
def test_arity_and_names_are_checked_when_compiling(text: str, fragment: str) -> None:
    with pytest.raises(ExpressionSyntaxError) as caught:
        compile_expression(text)
    assert fragment in caught.value.message
