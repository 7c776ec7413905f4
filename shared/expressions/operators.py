"""What each operator does to two (or one) JSON values (DESIGN.md §3, "Expressions").

Every function here takes already-evaluated operands; ``&&`` and ``||`` short-circuit, so
the evaluator applies them itself and only calls :func:`logic_error` here.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any, Final

from shared.expressions.errors import ExpressionRuntimeError
from shared.expressions.values import (
    INTEGER_LIMIT,
    check_float,
    check_integer,
    json_equal,
    type_name,
    type_phrase,
)

__all__ = [
    "BINARY_OPERATIONS",
    "add",
    "compare_error",
    "divide",
    "logic_error",
    "modulo",
    "multiply",
    "negate",
    "not_",
    "subtract",
]

BinaryOperation = Callable[[Any, Any], Any]

_NEGATIVE_LIMIT: Final = -INTEGER_LIMIT


def _numbers_error(symbol: str, left: Any, right: Any) -> ExpressionRuntimeError:
    return ExpressionRuntimeError(
        f"'{symbol}' needs two numbers, got {type_name(left)} and {type_name(right)}"
    )


def add(left: Any, right: Any) -> Any:
    """Numbers add (ints stay ints), strings join; anything else is an error."""
    left_type = type(left)
    right_type = type(right)
    if left_type is int and right_type is int:
        result = left + right
        # Inlined check_integer: integer arithmetic is the hot path of most flows.
        return result if _NEGATIVE_LIMIT < result < INTEGER_LIMIT else check_integer(result)
    if left_type is str and right_type is str:
        return left + right
    if (left_type is int or left_type is float) and (right_type is int or right_type is float):
        return _float_result(operator.add, left, right)
    raise ExpressionRuntimeError(
        f"'+' needs two numbers or two strings, got {type_name(left)} and {type_name(right)}"
    )


def subtract(left: Any, right: Any) -> Any:
    left_type = type(left)
    right_type = type(right)
    if left_type is int and right_type is int:
        result = left - right
        # Inlined check_integer: integer arithmetic is the hot path of most flows.
        return result if _NEGATIVE_LIMIT < result < INTEGER_LIMIT else check_integer(result)
    if (left_type is int or left_type is float) and (right_type is int or right_type is float):
        return _float_result(operator.sub, left, right)
    raise _numbers_error("-", left, right)


def multiply(left: Any, right: Any) -> Any:
    left_type = type(left)
    right_type = type(right)
    if left_type is int and right_type is int:
        # Operands are below INTEGER_LIMIT, so even the largest product is quick to compute.
        result = left * right
        # Inlined check_integer: integer arithmetic is the hot path of most flows.
        return result if _NEGATIVE_LIMIT < result < INTEGER_LIMIT else check_integer(result)
    if (left_type is int or left_type is float) and (right_type is int or right_type is float):
        return _float_result(operator.mul, left, right)
    raise _numbers_error("*", left, right)


def divide(left: Any, right: Any) -> Any:
    """True division; an exact quotient of two ints is an int (``6 / 3`` is ``2``)."""
    left_type = type(left)
    right_type = type(right)
    if not (
        (left_type is int or left_type is float) and (right_type is int or right_type is float)
    ):
        raise _numbers_error("/", left, right)
    if right == 0:
        raise ExpressionRuntimeError("division by zero")
    if left_type is int and right_type is int:
        quotient, remainder = divmod(left, right)
        if remainder == 0:
            return quotient
    return _float_result(operator.truediv, left, right)


def modulo(left: Any, right: Any) -> Any:
    """Remainder with the sign of the dividend (``-7 % 3`` is ``-1``), as in Go and JS."""
    left_type = type(left)
    right_type = type(right)
    if not (
        (left_type is int or left_type is float) and (right_type is int or right_type is float)
    ):
        raise _numbers_error("%", left, right)
    if right == 0:
        raise ExpressionRuntimeError("modulo by zero")
    if left_type is int and right_type is int:
        remainder = abs(left) % abs(right)
        return remainder if left >= 0 else -remainder
    return _float_result(math.fmod, left, right)


def _float_result(operation: Callable[[Any, Any], Any], left: Any, right: Any) -> float:
    try:
        result = operation(left, right)
    except OverflowError:  # an int too large to mix with a float
        raise ExpressionRuntimeError("number result is out of range") from None
    return check_float(float(result))


def negate(value: Any) -> Any:
    """Unary ``-``."""
    value_type = type(value)
    if value_type is int or value_type is float:
        return -value
    raise ExpressionRuntimeError(f"'-' needs a number, got {type_name(value)}")


def not_(value: Any) -> bool:
    """Unary ``!``."""
    if value is True:
        return False
    if value is False:
        return True
    raise ExpressionRuntimeError(f"'!' needs a boolean, got {type_name(value)}")


def logic_error(symbol: str, side: str, value: Any) -> ExpressionRuntimeError:
    """The error for a non-boolean operand of ``&&`` or ``||``."""
    return ExpressionRuntimeError(
        f"'{symbol}' needs booleans, but its {side} side is {type_phrase(value)}"
    )


def compare_error(symbol: str, left: Any, right: Any) -> ExpressionRuntimeError:
    """The error for ordering two values that are not both numbers or both strings."""
    return ExpressionRuntimeError(
        f"cannot compare {type_name(left)} with {type_name(right)} using '{symbol}'"
    )


def _ordering(symbol: str, compare: Callable[[Any, Any], bool]) -> BinaryOperation:
    def ordered(left: Any, right: Any) -> bool:
        left_type = type(left)
        right_type = type(right)
        if (left_type is int or left_type is float) and (right_type is int or right_type is float):
            return compare(left, right)
        if left_type is str and right_type is str:
            return compare(left, right)  # code-point order
        raise compare_error(symbol, left, right)

    return ordered


def _not_equal(left: Any, right: Any) -> bool:
    return not json_equal(left, right)


_ORDERINGS: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
"""The plain Python comparison behind each ordering operator (for operands already checked)."""

BINARY_OPERATIONS: Final[dict[str, BinaryOperation]] = {
    "+": add,
    "-": subtract,
    "*": multiply,
    "/": divide,
    "%": modulo,
    "==": json_equal,
    "!=": _not_equal,
    **{symbol: _ordering(symbol, compare) for symbol, compare in _ORDERINGS.items()},
}
"""Every binary operator except the short-circuiting ``&&`` and ``||``."""
