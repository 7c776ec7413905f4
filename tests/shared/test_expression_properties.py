"""Properties of the expression language, checked with Hypothesis.

* Every tree the parser can build survives ``unparse`` and ``parse`` unchanged.
* Compiling arbitrary text raises nothing but ExpressionSyntaxError.
* Evaluating any valid expression on any JSON input raises nothing but
  ExpressionRuntimeError, and returns only JSON-shaped values.
* The specialised closures (constant paths, comparisons with a literal) agree with the
  general ones.
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.expressions import (
    ExpressionRuntimeError,
    ExpressionSyntaxError,
    Node,
    compile_expression,
    parse,
    unparse,
)
from shared.expressions.functions import FUNCTIONS
from shared.expressions.lexer import VARIABLES
from shared.expressions.parser import MAX_CALL_NESTING, MAX_NESTING
from shared.expressions.syntax import (
    BINARY_PRECEDENCE,
    ArrayLiteral,
    Binary,
    BooleanLiteral,
    Call,
    Field,
    Index,
    NullLiteral,
    NumberLiteral,
    ObjectLiteral,
    StringLiteral,
    Unary,
    Variable,
    children,
)
from tests.shared.test_expressions import FixedEntropy

SETTINGS = settings(max_examples=300, deadline=None)

# -- strategies --------------------------------------------------------------------------

# Any character, lone surrogates included: the lexer must read back whatever unparse writes.
any_text = st.text(st.characters(exclude_categories=()), max_size=8)
non_negative_floats = st.floats(min_value=0.0, allow_nan=False, allow_infinity=False).filter(
    lambda value: math.copysign(1.0, value) > 0
)


def _calls(arguments: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    def with_arguments(name: str) -> st.SearchStrategy[Node]:
        function = FUNCTIONS[name]
        most = function.max_arity if function.max_arity is not None else function.min_arity + 3
        return st.lists(arguments, min_size=function.min_arity, max_size=most).map(
            lambda args: Call(name, tuple(args))
        )

    return st.sampled_from(sorted(FUNCTIONS)).flatmap(with_arguments)


def _trees(keys: st.SearchStrategy[str], numbers: st.SearchStrategy[int | float]) -> Any:
    leaves = st.one_of(
        st.sampled_from(sorted(VARIABLES)).map(Variable),
        st.just(NullLiteral()),
        st.booleans().map(BooleanLiteral),
        numbers.map(NumberLiteral),
        keys.map(StringLiteral),
    )

    def extend(inner: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
        return st.one_of(
            st.lists(inner, max_size=3).map(lambda items: ArrayLiteral(tuple(items))),
            st.dictionaries(keys, inner, max_size=3).map(
                lambda entries: ObjectLiteral(tuple(entries.items()))
            ),
            st.builds(Field, inner, keys),
            # The parser turns a constant string index into a Field, so Index never holds one.
            st.builds(Index, inner, inner.filter(lambda n: not isinstance(n, StringLiteral))),
            st.builds(Unary, st.sampled_from(["!", "-"]), inner),
            st.builds(Binary, st.sampled_from(sorted(BINARY_PRECEDENCE)), inner, inner),
            _calls(inner),
        )

    return st.recursive(leaves, extend, max_leaves=20).filter(_within_limits)


def _within_limits(tree: Node) -> bool:
    return _height(tree) <= MAX_NESTING and _call_depth(tree) <= MAX_CALL_NESTING


def _height(tree: Node) -> int:
    return 1 + max((_height(child) for child in children(tree)), default=0)


def _call_depth(tree: Node) -> int:
    below = max((_call_depth(child) for child in children(tree)), default=0)
    return below + 1 if isinstance(tree, Call) else below


# Trees for round trips: any keys, any numbers the parser can produce.
syntax_trees = _trees(
    any_text, st.one_of(st.integers(min_value=0, max_value=10**40), non_negative_floats)
)

# Trees for evaluation: keys and numbers that hit the data, so paths lead somewhere.
small_keys = st.sampled_from(["a", "b", "list", "0", "", "MD5", "SHA-1", "{}", "a,b", "Rm5G"])
evaluation_trees = _trees(
    small_keys, st.one_of(st.integers(min_value=0, max_value=12), st.sampled_from([0.5, 2.0]))
)

json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**20), max_value=10**20),
        st.floats(allow_nan=False, allow_infinity=False),
        small_keys,
        any_text,
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(small_keys, inner, max_size=4)
    ),
    max_leaves=12,
)
variable_maps = st.dictionaries(st.sampled_from(sorted(VARIABLES)), json_values)

# Fragments that make random text look like an expression often enough to go deep.
fragments = st.sampled_from(
    [
        "$Input", "$Item", "$Nope", "$", ".", "[", "]", "(", ")", "{", "}", ",", ":", " ",
        "0", "1", "01", "1.5", "1e5", "1e999", ".5", "e", '"s"', "'s'", "`r`", '"', "'",
        "`", "\\", "\\u", "\\ud800", "+", "-", "*", "/", "%", "!", "==", "!=", "<", "<=",
        ">", ">=", "&&", "||", "&", "|", "=", "true", "null", "x", "length", "format",
        "uuid", "arrayRange", "hash", "\n", "\u00a0", "中",
    ]
)  # fmt: skip
expression_like_text = st.lists(fragments, max_size=40).map("".join)


def _is_json(value: Any) -> bool:
    if value is None or type(value) in (bool, int, str):
        return True
    if type(value) is float:
        return math.isfinite(value)
    if type(value) is list:
        return all(_is_json(item) for item in value)
    if type(value) is dict:
        return all(type(key) is str and _is_json(item) for key, item in value.items())
    return False


def _outcome(text: str, variables: dict[str, Any]) -> tuple[str, Any]:
    try:
        return "value", compile_expression(text).evaluate(variables, FixedEntropy())
    except ExpressionRuntimeError as error:
        return "error", error.message


# -- properties --------------------------------------------------------------------------


@SETTINGS
@given(syntax_trees)
def test_unparse_then_parse_gives_the_same_tree(tree: Node) -> None:
    text = unparse(tree)
    assert parse(text) == tree
    # Trees compare 1 == 1.0; the text tells int and float literals apart.
    assert unparse(parse(text)) == text


@SETTINGS
@given(st.one_of(st.text(max_size=60), expression_like_text))
def test_compiling_any_text_raises_only_syntax_errors(text: str) -> None:
    try:
        expression = compile_expression(text)
    except ExpressionSyntaxError as error:
        assert error.message
        assert error.column is None or 1 <= error.column <= len(text) + 1
    else:
        assert expression.source == text
        assert parse(unparse(parse(text))) == parse(text)


@SETTINGS
@given(evaluation_trees, variable_maps)
def test_evaluating_raises_only_runtime_errors_and_returns_json(
    tree: Node, variables: dict[str, Any]
) -> None:
    expression = compile_expression(unparse(tree))
    try:
        result = expression.evaluate(variables, FixedEntropy())
    except ExpressionRuntimeError as error:
        assert error.message
    else:
        assert _is_json(result), result


scalar_literals = st.sampled_from(
    ["null", "true", "false", "0", "1", "2.5", "-1", "-0.5", '""', '"a"', '"b"', "1e3"]
)
comparison_operators = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])


@SETTINGS
@given(json_values, scalar_literals, comparison_operators)
def test_comparisons_with_literals_agree_with_the_general_rule(
    value: Any, literal: str, operator: str
) -> None:
    # Wrapping the literal in [...][0] makes it a computed value: the general closure.
    variables = {"$Input": value}
    special = _outcome(f"$Input {operator} {literal}", variables)
    general = _outcome(f"$Input {operator} [{literal}][0]", variables)
    assert special == general
    special_left = _outcome(f"{literal} {operator} $Input", variables)
    general_left = _outcome(f"[{literal}][0] {operator} $Input", variables)
    assert special_left == general_left


path_steps = st.lists(
    st.one_of(small_keys.map(lambda key: f"[{key!r}]"), st.integers(0, 3).map("[{}]".format)),
    min_size=1,
    max_size=5,
).map("".join)


@SETTINGS
@given(json_values, path_steps)
def test_constant_paths_agree_with_the_general_rule(value: Any, steps: str) -> None:
    variables = {"$Input": value}
    special_kind, special = _outcome(f"$Input{steps}", variables)
    general_kind, general = _outcome(f"[$Input][0]{steps}", variables)
    assert special_kind == general_kind
    if special_kind == "value":
        assert special is general or special == general
