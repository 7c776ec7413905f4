"""Lowers a syntax tree, once, into nested closures, and wraps them as an :class:`Expression`.

Every closure has the signature ``run(variables, entropy) -> value``. The shapes that
flows use most get their own closures, so that evaluating them does little more than
the dictionary look-ups they describe:

* a variable, or a path of constant keys and indexes from a variable (``$Input.a.b``,
  ``$Input.list[0]``);
* a comparison of such a value with a literal (``$Input.amount > 1000``,
  ``$Input.status == "ready"``).

Everything else goes through the general closures, which apply the rules in
:mod:`operators` and :mod:`functions`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from shared.expressions.errors import ExpressionRuntimeError
from shared.expressions.functions import FUNCTIONS
from shared.expressions.operators import (
    BINARY_OPERATIONS,
    compare_error,
    logic_error,
    negate,
    not_,
)
from shared.expressions.parser import parse
from shared.expressions.syntax import (
    ArrayLiteral,
    Binary,
    BooleanLiteral,
    Call,
    Field,
    Index,
    Node,
    NullLiteral,
    NumberLiteral,
    ObjectLiteral,
    StringLiteral,
    Unary,
    Variable,
    children,
    unparse,
)
from shared.expressions.values import as_integer, type_name, type_phrase
from shared.ports import Entropy

__all__ = ["Expression", "compile_expression"]

Evaluator = Callable[[Mapping[str, Any], Entropy], Any]
_Step = tuple[str | int, Field | Index]
"""One step of a constant path: the key or index, and the node (for error messages)."""

_MIRRORED: Final = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}
_DESCRIPTION_LIMIT: Final = 60


@dataclass(frozen=True, slots=True)
class Expression:
    """A compiled expression: immutable, safe to share between executions and threads."""

    source: str
    """The expression text as written."""
    variables: frozenset[str]
    """The variables it reads, e.g. ``frozenset({"$Input", "$Context"})``."""
    _run: Evaluator = field(repr=False, compare=False)

    def evaluate(self, variables: Mapping[str, Any], entropy: Entropy) -> Any:
        """Evaluate against ``variables`` (keyed by name with ``$``, e.g. ``"$Input"``).

        A variable missing from the mapping is ``null``. The result is a JSON value; it
        may share structure with the inputs (``$Input.a`` returns that very object), so
        callers treat values as immutable. Raises :class:`ExpressionRuntimeError`.
        """
        try:
            return self._run(variables, entropy)
        except RecursionError:  # only for pathologically nested *data*; the tree is shallow
            raise ExpressionRuntimeError("a value is nested too deeply to evaluate") from None


def compile_expression(text: str) -> Expression:
    """Parse ``text`` and lower it into an :class:`Expression`; raise ExpressionSyntaxError."""
    tree = parse(text)
    return Expression(source=text, variables=_variables_of(tree), _run=_lower(tree))


def _variables_of(tree: Node) -> frozenset[str]:
    names: set[str] = set()
    pending = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, Variable):
            names.add(node.name)
        pending.extend(children(node))
    return frozenset(names)


def _describe(node: Node) -> str:
    text = unparse(node)
    return text if len(text) <= _DESCRIPTION_LIMIT else text[: _DESCRIPTION_LIMIT - 3] + "..."


# -- paths -------------------------------------------------------------------------------


def _get_field(value: Any, key: str, node: Field | Index) -> Any:
    """``value.key`` for any ``value``; the fast paths handle a plain dict before this."""
    if value is None:
        return None
    if isinstance(value, dict):
        return value.get(key)
    raise ExpressionRuntimeError(
        f"cannot read field '{key}' of {_describe(node.target)},"
        f" which is {type_phrase(value)}, not an object"
    )


def _get_index(value: Any, index: Any, node: Field | Index) -> Any:
    """``value[index]``: an element of an array (null when out of range) or an object member."""
    if value is None:
        return None
    if isinstance(value, list):
        position = as_integer(index)
        if position is None:
            raise ExpressionRuntimeError(
                f"an array index must be an integer, got {type_name(index)}"
                f" (indexing {_describe(node.target)})"
            )
        return value[position] if 0 <= position < len(value) else None
    if isinstance(value, dict):
        if isinstance(index, str):
            return value.get(index)
        raise ExpressionRuntimeError(
            f"an object key must be a string, got {type_name(index)}"
            f" (indexing {_describe(node.target)})"
        )
    raise ExpressionRuntimeError(
        f"cannot index {_describe(node.target)}, which is {type_phrase(value)},"
        " not an array or object"
    )


def _constant_path(node: Node) -> tuple[str, tuple[_Step, ...]] | None:
    """``(variable, steps)`` if ``node`` is a variable followed by constant keys/indexes."""
    steps: list[_Step] = []
    while True:
        if isinstance(node, Variable):
            steps.reverse()
            return node.name, tuple(steps)
        if isinstance(node, Field):
            steps.append((node.name, node))
        elif isinstance(node, Index) and isinstance(node.index, NumberLiteral):
            position = as_integer(node.index.value)
            if position is None:
                return None
            steps.append((position, node))
        else:
            return None
        node = node.target


def _lower_path(root: str, steps: tuple[_Step, ...]) -> Evaluator:
    if not steps:

        def variable(variables: Mapping[str, Any], entropy: Entropy) -> Any:
            return variables.get(root)

        return variable

    first_key, first_node = steps[0]
    if len(steps) == 1 and isinstance(first_key, str):
        key, node = first_key, first_node

        def one_field(variables: Mapping[str, Any], entropy: Entropy) -> Any:
            value = variables.get(root)
            if type(value) is dict:
                return value.get(key)
            return _get_field(value, key, node)

        return one_field

    second_key, second_node = steps[-1]
    if len(steps) == 2 and isinstance(first_key, str) and isinstance(second_key, str):
        key1, node1, key2, node2 = first_key, first_node, second_key, second_node

        def two_fields(variables: Mapping[str, Any], entropy: Entropy) -> Any:
            value = variables.get(root)
            value = value.get(key1) if type(value) is dict else _get_field(value, key1, node1)
            if type(value) is dict:
                return value.get(key2)
            return _get_field(value, key2, node2)

        return two_fields

    field_steps = tuple((key, node) for key, node in steps if isinstance(key, str))
    if len(field_steps) == len(steps):

        def fields(variables: Mapping[str, Any], entropy: Entropy) -> Any:
            value = variables.get(root)
            for key, node in field_steps:
                # _get_field turns null into null, so a missing level needs no extra test.
                value = value.get(key) if type(value) is dict else _get_field(value, key, node)
            return value

        return fields

    def walk(variables: Mapping[str, Any], entropy: Entropy) -> Any:
        value = variables.get(root)
        for key, node in steps:
            if isinstance(key, str):
                value = value.get(key) if type(value) is dict else _get_field(value, key, node)
            elif type(value) is list:
                value = value[key] if 0 <= key < len(value) else None
            else:
                value = _get_index(value, key, node)
        return value

    return walk


# -- lowering ----------------------------------------------------------------------------


def _lower(node: Node) -> Evaluator:
    path = _constant_path(node)
    if path is not None:
        return _lower_path(*path)
    match node:
        case NullLiteral() | BooleanLiteral() | NumberLiteral() | StringLiteral():
            return _lower_constant(_scalar_value(node))
        case ArrayLiteral(items=items):
            return _lower_array(items)
        case ObjectLiteral(entries=entries):
            return _lower_object(entries)
        case Field(target=target, name=name):
            return _lower_field(_lower(target), name, node)
        case Index(target=target, index=index):
            return _lower_index(_lower(target), _lower(index), node)
        case Call(function=function, arguments=arguments):
            return _lower_call(function, tuple(_lower(argument) for argument in arguments))
        case Unary(operator=operator, operand=operand):
            return _lower_unary(operator, _lower(operand))
        case Binary():
            return _lower_binary(node)
        case Variable():  # handled by _constant_path above
            raise AssertionError("unreachable")


def _scalar_value(node: NullLiteral | BooleanLiteral | NumberLiteral | StringLiteral) -> Any:
    return None if isinstance(node, NullLiteral) else node.value


def _lower_constant(value: Any) -> Evaluator:
    def constant(variables: Mapping[str, Any], entropy: Entropy) -> Any:
        return value

    return constant


def _lower_array(items: tuple[Node, ...]) -> Evaluator:
    lowered = tuple(_lower(item) for item in items)

    # A new list on every evaluation: results must never share a list between runs.
    # (A plain loop: a list comprehension costs a function call on Python 3.11.)
    def array(variables: Mapping[str, Any], entropy: Entropy) -> list[Any]:
        values = []
        for item in lowered:
            values.append(item(variables, entropy))
        return values

    return array


def _lower_object(entries: tuple[tuple[str, Node], ...]) -> Evaluator:
    lowered = tuple((key, _lower(value)) for key, value in entries)

    def object_(variables: Mapping[str, Any], entropy: Entropy) -> dict[str, Any]:
        return {key: value(variables, entropy) for key, value in lowered}

    return object_


def _lower_field(target: Evaluator, key: str, node: Field) -> Evaluator:
    def field_(variables: Mapping[str, Any], entropy: Entropy) -> Any:
        value = target(variables, entropy)
        if type(value) is dict:
            return value.get(key)
        return _get_field(value, key, node)

    return field_


def _lower_index(target: Evaluator, index: Evaluator, node: Index) -> Evaluator:
    def index_(variables: Mapping[str, Any], entropy: Entropy) -> Any:
        return _get_index(target(variables, entropy), index(variables, entropy), node)

    return index_


def _lower_call(name: str, arguments: tuple[Evaluator, ...]) -> Evaluator:
    implementation = FUNCTIONS[name].implementation
    if not arguments:

        def call0(variables: Mapping[str, Any], entropy: Entropy) -> Any:
            return implementation(entropy)

        return call0
    if len(arguments) == 1:
        (only,) = arguments

        def call1(variables: Mapping[str, Any], entropy: Entropy) -> Any:
            return implementation(entropy, only(variables, entropy))

        return call1
    if len(arguments) == 2:
        first, second = arguments

        def call2(variables: Mapping[str, Any], entropy: Entropy) -> Any:
            return implementation(entropy, first(variables, entropy), second(variables, entropy))

        return call2

    if len(arguments) == 3:
        first, second, third = arguments

        def call3(variables: Mapping[str, Any], entropy: Entropy) -> Any:
            return implementation(
                entropy,
                first(variables, entropy),
                second(variables, entropy),
                third(variables, entropy),
            )

        return call3

    def call(variables: Mapping[str, Any], entropy: Entropy) -> Any:
        values = []
        for argument in arguments:
            values.append(argument(variables, entropy))
        return implementation(entropy, *values)

    return call


def _lower_unary(operator: str, operand: Evaluator) -> Evaluator:
    apply = not_ if operator == "!" else negate

    def unary(variables: Mapping[str, Any], entropy: Entropy) -> Any:
        return apply(operand(variables, entropy))

    return unary


def _constant_of(node: Node) -> tuple[bool, Any]:
    """``(True, value)`` if ``node`` is a scalar literal (a negated number counts)."""
    if isinstance(node, NullLiteral | BooleanLiteral | NumberLiteral | StringLiteral):
        return True, _scalar_value(node)
    if isinstance(node, Unary) and node.operator == "-" and isinstance(node.operand, NumberLiteral):
        return True, -node.operand.value
    return False, None


def _lower_binary(node: Binary) -> Evaluator:
    symbol = node.operator
    if symbol == "&&" or symbol == "||":
        return _lower_logic(symbol, _lower(node.left), _lower(node.right))
    if symbol in ("==", "!=", "<", "<=", ">", ">="):
        right_is_constant, right_value = _constant_of(node.right)
        left_is_constant, left_value = _constant_of(node.left)
        if right_is_constant and not left_is_constant:
            special = _compare_constant(symbol, _lower(node.left), right_value, False)
            if special is not None:
                return special
        elif left_is_constant and not right_is_constant:
            special = _compare_constant(symbol, _lower(node.right), left_value, True)
            if special is not None:
                return special
    operation = BINARY_OPERATIONS[symbol]
    left = _lower(node.left)
    right = _lower(node.right)

    def binary(variables: Mapping[str, Any], entropy: Entropy) -> Any:
        return operation(left(variables, entropy), right(variables, entropy))

    return binary


def _lower_logic(symbol: str, left: Evaluator, right: Evaluator) -> Evaluator:
    # The left side decides alone when it can; the right side, once evaluated, must
    # still be a boolean (DESIGN.md §3: && and || need booleans).
    if symbol == "&&":

        def and_(variables: Mapping[str, Any], entropy: Entropy) -> bool:
            first = left(variables, entropy)
            if first is False:
                return False
            if first is not True:
                raise logic_error("&&", "left", first)
            second: object = right(variables, entropy)
            if second is True or second is False:
                return second
            raise logic_error("&&", "right", second)

        return and_

    def or_(variables: Mapping[str, Any], entropy: Entropy) -> bool:
        first = left(variables, entropy)
        if first is True:
            return True
        if first is not False:
            raise logic_error("||", "left", first)
        second: object = right(variables, entropy)
        if second is True or second is False:
            return second
        raise logic_error("||", "right", second)

    return or_


def _compare_constant(
    symbol: str, get: Evaluator, constant: Any, constant_on_left: bool
) -> Evaluator | None:
    """A comparison of a computed value with a literal, or None if it is not special."""
    if symbol == "==" or symbol == "!=":
        equal = _equals_constant(get, constant)
        if symbol == "==":
            return equal

        def not_equal(variables: Mapping[str, Any], entropy: Entropy) -> bool:
            return not equal(variables, entropy)

        return not_equal
    constant_type = type(constant)
    if constant_type is str:
        accepted: tuple[type, type] = (str, str)
    elif constant_type is int or constant_type is float:
        accepted = (int, float)
    else:
        return None  # an ordering with null or a boolean: the general rule reports it

    def fail(value: Any) -> ExpressionRuntimeError:
        if constant_on_left:
            return compare_error(symbol, constant, value)
        return compare_error(symbol, value, constant)

    # With the literal on the left, "1000 < x" is evaluated as "x > 1000".
    effective = _MIRRORED[symbol] if constant_on_left else symbol
    return _ORDERED_WITH_CONSTANT[effective](get, constant, accepted, fail)


_Fail = Callable[[Any], ExpressionRuntimeError]


# One closure per operator, so that the comparison itself is inline Python rather than a
# call through the operator module: these run in every Choice condition.
def _less(get: Evaluator, constant: Any, accepted: tuple[type, type], fail: _Fail) -> Evaluator:
    first_type, second_type = accepted

    def less(variables: Mapping[str, Any], entropy: Entropy) -> Any:
        value = get(variables, entropy)
        value_type = type(value)
        if value_type is first_type or value_type is second_type:
            return value < constant
        raise fail(value)

    return less


def _less_equal(
    get: Evaluator, constant: Any, accepted: tuple[type, type], fail: _Fail
) -> Evaluator:
    first_type, second_type = accepted

    def less_equal(variables: Mapping[str, Any], entropy: Entropy) -> Any:
        value = get(variables, entropy)
        value_type = type(value)
        if value_type is first_type or value_type is second_type:
            return value <= constant
        raise fail(value)

    return less_equal


def _greater(get: Evaluator, constant: Any, accepted: tuple[type, type], fail: _Fail) -> Evaluator:
    first_type, second_type = accepted

    def greater(variables: Mapping[str, Any], entropy: Entropy) -> Any:
        value = get(variables, entropy)
        value_type = type(value)
        if value_type is first_type or value_type is second_type:
            return value > constant
        raise fail(value)

    return greater


def _greater_equal(
    get: Evaluator, constant: Any, accepted: tuple[type, type], fail: _Fail
) -> Evaluator:
    first_type, second_type = accepted

    def greater_equal(variables: Mapping[str, Any], entropy: Entropy) -> Any:
        value = get(variables, entropy)
        value_type = type(value)
        if value_type is first_type or value_type is second_type:
            return value >= constant
        raise fail(value)

    return greater_equal


_ORDERED_WITH_CONSTANT: Final = {
    "<": _less,
    "<=": _less_equal,
    ">": _greater,
    ">=": _greater_equal,
}


def _equals_constant(get: Evaluator, constant: Any) -> Evaluator:
    if constant is None or type(constant) is bool:
        # null, true and false are singletons, and no other value equals them.
        def is_singleton(variables: Mapping[str, Any], entropy: Entropy) -> bool:
            return get(variables, entropy) is constant

        return is_singleton
    if type(constant) is str:

        def equals_string(variables: Mapping[str, Any], entropy: Entropy) -> bool:
            value: object = get(variables, entropy)
            return type(value) is str and value == constant

        return equals_string

    def equals_number(variables: Mapping[str, Any], entropy: Entropy) -> bool:
        value: object = get(variables, entropy)
        value_type = type(value)
        return (value_type is int or value_type is float) and value == constant

    return equals_number
