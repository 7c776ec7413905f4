"""Rules about JSON values that both the operators and the functions follow.

Values are plain Python JSON values: ``dict``, ``list``, ``str``, ``int``, ``float``,
``bool`` and ``None``. ``bool`` is a subclass of ``int`` in Python but *not* a number
here, so type tests use ``type(x) is int`` rather than ``isinstance``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Hashable
from typing import Any, Final

from shared.expressions.errors import ExpressionRuntimeError

__all__ = [
    "INTEGER_LIMIT",
    "as_integer",
    "check_float",
    "check_integer",
    "identity_key",
    "is_number",
    "json_equal",
    "to_json_text",
    "type_name",
    "type_phrase",
]

INTEGER_LIMIT: Final = 10**4300
"""Integers that arithmetic produces must be smaller than this in magnitude (at most 4,300
digits): beyond that Python refuses to convert them to text, so no JSON could hold them."""
_NEGATIVE_LIMIT: Final = -INTEGER_LIMIT  # precomputed: negating it costs a big copy


def type_name(value: Any) -> str:
    """The JSON name of ``value``'s type, for error messages."""
    if value is None:
        return "null"
    kind = type(value)
    if kind is bool:
        return "boolean"
    if kind is int or kind is float:
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return kind.__name__


def type_phrase(value: Any) -> str:
    """``value``'s type with an article, for sentences: ``a number``, ``an array``, ``null``."""
    name = type_name(value)
    if name == "null":
        return name
    return ("an " if name[0] in "aeiou" else "a ") + name


def is_number(value: Any) -> bool:
    """Whether ``value`` is a JSON number (``True`` and ``False`` are not)."""
    kind = type(value)
    return kind is int or kind is float


def as_integer(value: Any) -> int | None:
    """``value`` as an ``int`` if it is an integral number (``2`` or ``2.0``), else None.

    ``2.0`` counts because JSON does not distinguish it from ``2``.
    """
    kind = type(value)
    if kind is int:
        return int(value)
    if kind is float and value.is_integer():
        return int(value)
    return None


def check_integer(value: int) -> int:
    """Return ``value``, or raise if it is too large to be written as JSON text."""
    if _NEGATIVE_LIMIT < value < INTEGER_LIMIT:
        return value
    raise ExpressionRuntimeError("integer result is too large (more than 4300 digits)")


def check_float(value: float) -> float:
    """Return ``value``, or raise if it is infinite or NaN (which JSON cannot hold)."""
    if not math.isfinite(value):
        raise ExpressionRuntimeError("number result is out of range")
    return value


def json_equal(left: Any, right: Any) -> bool:
    """JSON equality: deep for arrays and objects; numbers by value; bool is not a number."""
    left_type = type(left)
    right_type = type(right)
    if left_type is right_type:
        if left_type is list:
            return len(left) == len(right) and all(map(json_equal, left, right))
        if left_type is dict:
            return len(left) == len(right) and all(
                key in right and json_equal(value, right[key]) for key, value in left.items()
            )
        return bool(left == right)
    if (left_type is int or left_type is float) and (right_type is int or right_type is float):
        return bool(left == right)
    # Subclasses of list or dict (rare in practice) take the slow, general route.
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(json_equal, left, right))
    if isinstance(left, dict) and isinstance(right, dict):
        return len(left) == len(right) and all(
            key in right and json_equal(value, right[key]) for key, value in left.items()
        )
    return False


def identity_key(value: Any) -> Hashable:
    """A hashable key such that ``identity_key(a) == identity_key(b)`` iff ``json_equal(a, b)``.

    It lets ``arrayUnique`` run in linear time. Numbers share one tag and compare by
    value (Python's ``1 == 1.0`` and ``hash(1) == hash(1.0)``); booleans get their own.
    """
    kind = type(value)
    if kind is int or kind is float:
        return ("n", value)
    if kind is bool:
        return ("b", value)
    if kind is str:
        return ("s", value)
    if value is None:
        return ("z",)
    if isinstance(value, list):
        return ("a", tuple(identity_key(item) for item in value))
    if isinstance(value, dict):
        return ("o", frozenset((key, identity_key(item)) for key, item in value.items()))
    return ("?", id(value))


# One encoder for all calls: json.dumps() with options builds a new one each time (~3 µs).
_ENCODER: Final = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def to_json_text(value: Any, where: str) -> str:
    """Compact JSON text of ``value`` (no spaces, non-ASCII kept); ``where`` names the caller."""
    kind = type(value)
    if kind is bool:
        return "true" if value else "false"
    if value is None:
        return "null"
    try:
        # Integers are common in format() and much cheaper to write directly.
        return str(value) if kind is int else _ENCODER.encode(value)
    except RecursionError:
        raise ExpressionRuntimeError(f"{where}: the value is nested too deeply") from None
    except (TypeError, ValueError) as exc:
        raise ExpressionRuntimeError(
            f"{where}: the value cannot be written as JSON ({exc})"
        ) from None
