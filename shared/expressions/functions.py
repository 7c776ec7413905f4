"""The built-in functions (DESIGN.md §3, "Functions").

Each implementation is called as ``implementation(entropy, *arguments)`` with evaluated
arguments. The parser has already checked the arity; the implementation checks types and
raises :class:`ExpressionRuntimeError` with a message that starts with the function's
name. Functions that build an array or object always build a new one, so a result can
never be a live view of the input.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final, NoReturn

from shared.expressions.errors import ExpressionRuntimeError
from shared.expressions.operators import add
from shared.expressions.values import (
    as_integer,
    identity_key,
    is_number,
    json_equal,
    to_json_text,
    type_name,
)
from shared.ports import Entropy

__all__ = ["FUNCTIONS", "MAX_RANGE_LENGTH", "Function"]

MAX_RANGE_LENGTH: Final = 10_000
"""The most elements ``arrayRange`` may produce."""


@dataclass(frozen=True, slots=True)
class Function:
    """A built-in function: its arity and its implementation."""

    name: str
    min_arity: int
    max_arity: int | None
    """``None`` for no upper bound (``format``)."""
    implementation: Callable[..., Any]
    """Called as ``implementation(entropy, *arguments)``."""

    def arity_text(self) -> str:
        """The accepted number of arguments, e.g. ``2 arguments`` or ``at least 1 argument``."""
        low, high = self.min_arity, self.max_arity
        noun = "argument" if (high if high is not None else low) == 1 else "arguments"
        if high is None:
            return f"at least {low} {noun}"
        if high == 0:
            return "no arguments"
        return f"{low} {noun}" if low == high else f"{low} to {high} {noun}"


# -- argument checks ---------------------------------------------------------------------


def _fail(name: str, message: str) -> NoReturn:
    raise ExpressionRuntimeError(f"{name}(): {message}")


def _wrong_type(name: str, position: int, expected: str, value: Any) -> NoReturn:
    _fail(name, f"argument {position} must be {expected}, got {type_name(value)}")


def _array(name: str, position: int, value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    _wrong_type(name, position, "an array", value)


def _object(name: str, position: int, value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    _wrong_type(name, position, "an object", value)


def _string(name: str, position: int, value: Any) -> str:
    if isinstance(value, str):
        return value
    _wrong_type(name, position, "a string", value)


def _integer(name: str, position: int, value: Any) -> int:
    integer = as_integer(value)
    if integer is None:
        _wrong_type(name, position, "an integer", value)
    return integer


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _utf8(name: str, text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, e.g. from "\ud800"
        _fail(name, "the string is not valid Unicode (it contains a lone surrogate)")


# -- arrays ------------------------------------------------------------------------------


def array_contains(entropy: Entropy, array: Any, value: Any) -> bool:
    """Whether ``array`` has an element equal to ``value`` (the rules of ``==``)."""
    return any(json_equal(item, value) for item in _array("arrayContains", 1, array))


def array_unique(entropy: Entropy, array: Any) -> list[Any]:
    """``array`` without repeats (the rules of ``==``), keeping first occurrences in order."""
    seen: set[Any] = set()
    unique: list[Any] = []
    for item in _array("arrayUnique", 1, array):
        key = identity_key(item)
        if key not in seen:
            seen.add(key)
            unique.append(item)
    return unique


def array_length(entropy: Entropy, array: Any) -> int:
    """The number of elements of an array."""
    return len(_array("arrayLength", 1, array))


def array_range(entropy: Entropy, start: Any, end: Any, step: Any) -> list[int]:
    """Integers from ``start`` by ``step``, up to and including ``end`` when a step lands on it.

    ``arrayRange(1, 9, 3)`` is ``[1, 4, 7]``; ``arrayRange(5, 1, -2)`` is ``[5, 3, 1]``.
    A step that moves away from ``end`` gives ``[]``; a zero step, a non-integer argument
    or more than 10,000 elements is an error.
    """
    first = _integer("arrayRange", 1, start)
    last = _integer("arrayRange", 2, end)
    stride = _integer("arrayRange", 3, step)
    if stride == 0:
        _fail("arrayRange", "the step must not be 0")
    count = (last - first) // stride + 1
    if count <= 0:
        return []
    if count > MAX_RANGE_LENGTH:
        _fail("arrayRange", f"the range would have {count} elements (at most {MAX_RANGE_LENGTH})")
    return list(range(first, first + count * stride, stride))


def array_partition(entropy: Entropy, array: Any, size: Any) -> list[list[Any]]:
    """``array`` cut into chunks of ``size`` elements (the last may be shorter); size >= 1."""
    items = _array("arrayPartition", 1, array)
    chunk = _integer("arrayPartition", 2, size)
    if chunk <= 0:
        _fail("arrayPartition", f"the chunk size must be at least 1, got {chunk}")
    return [items[i : i + chunk] for i in range(0, len(items), chunk)]


def array_get_item(entropy: Entropy, array: Any, index: Any) -> Any:
    """The element at ``index``, counting from 0; an index outside the array is an error."""
    items = _array("arrayGetItem", 1, array)
    position = _integer("arrayGetItem", 2, index)
    if not 0 <= position < len(items):
        _fail(
            "arrayGetItem",
            f"index {position} is out of range for an array of {_count(len(items), 'element')}",
        )
    return items[position]


# -- strings and JSON --------------------------------------------------------------------


def format_(entropy: Entropy, template: Any, *arguments: Any) -> str:
    """Replace each ``{}`` of ``template`` in order with the next argument.

    Strings are inserted as they are, other values as compact JSON. ``{}`` has no escape:
    every occurrence is a placeholder, other braces are plain text. The number of
    placeholders must equal the number of arguments.
    """
    pieces = _string("format", 1, template).split("{}")
    if len(pieces) - 1 != len(arguments):
        _fail(
            "format",
            f"the template has {_count(len(pieces) - 1, 'placeholder')} '{{}}'"
            f" but {_count(len(arguments), 'argument')} follow it",
        )
    parts = [pieces[0]]
    for position, argument in enumerate(arguments, 1):
        parts.append(argument if isinstance(argument, str) else to_json_text(argument, "format()"))
        parts.append(pieces[position])
    return "".join(parts)


def from_base64(entropy: Entropy, text: Any) -> str:
    """Decode standard base64 (with padding, no whitespace) into a UTF-8 string."""
    encoded = _string("fromBase64", 1, text)
    try:
        return base64.b64decode(encoded, validate=True).decode("utf-8")
    except UnicodeDecodeError:
        _fail("fromBase64", "the decoded bytes are not UTF-8 text")
    except ValueError:  # binascii.Error, or a non-ASCII character in the input
        _fail("fromBase64", "the string is not valid base64")


def to_base64(entropy: Entropy, text: Any) -> str:
    """Encode a string's UTF-8 bytes as standard base64 with padding."""
    data = _utf8("toBase64", _string("toBase64", 1, text))
    return base64.b64encode(data).decode("ascii")


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range")
    return value


def string_to_json(entropy: Entropy, text: Any) -> Any:
    """Parse JSON text into a value of any JSON type (strictly: no NaN or Infinity)."""
    source = _string("stringToJson", 1, text)
    try:
        return json.loads(source, parse_constant=_reject_constant, parse_float=_finite_float)
    except ValueError as exc:
        _fail("stringToJson", f"the string is not valid JSON ({exc})")
    except RecursionError:
        _fail("stringToJson", "the JSON is nested too deeply")


def json_to_string(entropy: Entropy, value: Any) -> str:
    """Compact JSON text: no spaces, non-ASCII characters kept as they are."""
    return to_json_text(value, "jsonToString()")


def string_split(entropy: Entropy, text: Any, separator: Any) -> list[str]:
    """Split on every occurrence of ``separator``; empty pieces are kept (``"a,,b"`` gives 3)."""
    whole = _string("stringSplit", 1, text)
    sep = _string("stringSplit", 2, separator)
    if not sep:
        _fail("stringSplit", "the separator must not be empty")
    return whole.split(sep)


_HASHES: Final[Mapping[str, Callable[[bytes], Any]]] = MappingProxyType(
    {
        # md5 is a checksum here, not security: say so, or FIPS builds refuse it.
        "MD5": lambda data: hashlib.md5(data, usedforsecurity=False),
        "SHA-1": lambda data: hashlib.sha1(data, usedforsecurity=False),
        "SHA-256": hashlib.sha256,
        "SHA-512": hashlib.sha512,
    }
)


def hash_(entropy: Entropy, text: Any, algorithm: Any) -> str:
    """Lower-case hex digest of a string's UTF-8 bytes; ``algorithm`` is spelled exactly
    ``MD5``, ``SHA-1``, ``SHA-256`` or ``SHA-512``."""
    data = _utf8("hash", _string("hash", 1, text))
    name = _string("hash", 2, algorithm)
    digest = _HASHES.get(name)
    if digest is None:
        _fail("hash", f"unknown algorithm {name!r}; use one of {', '.join(_HASHES)}")
    return str(digest(data).hexdigest())


# -- objects -----------------------------------------------------------------------------


def json_merge(entropy: Entropy, first: Any, second: Any) -> dict[str, Any]:
    """A new object with the keys of both (shallow); ``second`` wins, ``first``'s order first."""
    merged = dict(_object("jsonMerge", 1, first))
    merged.update(_object("jsonMerge", 2, second))
    return merged


def length(entropy: Entropy, value: Any) -> int:
    """Elements of an array, keys of an object, or code points of a string."""
    if isinstance(value, list | dict | str):
        return len(value)
    _wrong_type("length", 1, "an array, object or string", value)


def map_keys(entropy: Entropy, value: Any) -> list[str]:
    """The object's keys, in its order."""
    return list(_object("mapKeys", 1, value))


def map_values(entropy: Entropy, value: Any) -> list[Any]:
    """The object's values, in its key order."""
    return list(_object("mapValues", 1, value).values())


# -- numbers and randomness --------------------------------------------------------------


def uuid(entropy: Entropy) -> str:
    """A random version-4 UUID string (36 characters) from the entropy port."""
    return entropy.uuid4()


def math_add(entropy: Entropy, left: Any, right: Any) -> Any:
    """The sum of two numbers, by the rules of ``+`` (ints stay ints)."""
    if not is_number(left):
        _wrong_type("mathAdd", 1, "a number", left)
    if not is_number(right):
        _wrong_type("mathAdd", 2, "a number", right)
    return add(left, right)


def math_random(entropy: Entropy, start: Any, end: Any) -> int:
    """A random integer in ``[start, end)`` from the entropy port; requires start < end."""
    low = _integer("mathRandom", 1, start)
    high = _integer("mathRandom", 2, end)
    if low >= high:
        _fail("mathRandom", f"the start ({low}) must be less than the end ({high})")
    return entropy.random_int(low, high)


def _table(*functions: Function) -> Mapping[str, Function]:
    return MappingProxyType({function.name: function for function in functions})


FUNCTIONS: Final = _table(
    Function("arrayContains", 2, 2, array_contains),
    Function("arrayUnique", 1, 1, array_unique),
    Function("arrayLength", 1, 1, array_length),
    Function("arrayRange", 3, 3, array_range),
    Function("arrayPartition", 2, 2, array_partition),
    Function("arrayGetItem", 2, 2, array_get_item),
    Function("format", 1, None, format_),
    Function("fromBase64", 1, 1, from_base64),
    Function("toBase64", 1, 1, to_base64),
    Function("stringToJson", 1, 1, string_to_json),
    Function("jsonToString", 1, 1, json_to_string),
    Function("stringSplit", 2, 2, string_split),
    Function("hash", 2, 2, hash_),
    Function("jsonMerge", 2, 2, json_merge),
    Function("length", 1, 1, length),
    Function("mapKeys", 1, 1, map_keys),
    Function("mapValues", 1, 1, map_values),
    Function("uuid", 0, 0, uuid),
    Function("mathAdd", 2, 2, math_add),
    Function("mathRandom", 2, 2, math_random),
)
"""Every built-in function by name (DESIGN.md §3)."""
