"""The syntax tree of an expression, and :func:`unparse`, which writes one back as text.

The tree records meaning, not spelling: parentheses, quote styles and whitespace are
gone, and a bracket with a constant string (``$Input["a"]``) is the same :class:`Field`
as ``$Input.a``. ``parse(unparse(node)) == node`` holds for every tree the parser builds.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Final, TypeAlias

from shared.expressions.lexer import is_identifier

__all__ = [
    "BINARY_PRECEDENCE",
    "UNARY_OPERATORS",
    "ArrayLiteral",
    "Binary",
    "BooleanLiteral",
    "Call",
    "Field",
    "Index",
    "Node",
    "NullLiteral",
    "NumberLiteral",
    "ObjectLiteral",
    "StringLiteral",
    "Unary",
    "Variable",
    "children",
    "unparse",
]

BINARY_PRECEDENCE: Final = {
    "||": 1,
    "&&": 2,
    "==": 3,
    "!=": 3,
    "<": 4,
    "<=": 4,
    ">": 4,
    ">=": 4,
    "+": 5,
    "-": 5,
    "*": 6,
    "/": 6,
    "%": 6,
}
"""Binary operators, lowest binding first; all are left-associative."""

UNARY_OPERATORS: Final = frozenset({"!", "-"})
_UNARY_PRECEDENCE: Final = 7
_ATOM_PRECEDENCE: Final = 8


@dataclass(frozen=True, slots=True)
class Variable:
    """``$Input``, ``$Output``, ``$Context``, ``$Global``, ``$Item`` or ``$Index``."""

    name: str
    """The name with its ``$``."""


@dataclass(frozen=True, slots=True)
class NullLiteral:
    """``null``."""


@dataclass(frozen=True, slots=True)
class BooleanLiteral:
    """``true`` or ``false``."""

    value: bool


@dataclass(frozen=True, slots=True)
class NumberLiteral:
    """A number as written: ``int`` without fraction or exponent, else ``float``.

    Never negative: ``-1`` is :class:`Unary` ``-`` applied to ``1``.
    """

    value: int | float


@dataclass(frozen=True, slots=True)
class StringLiteral:
    """A string in any of the three quote styles, escapes decoded."""

    value: str


@dataclass(frozen=True, slots=True)
class ArrayLiteral:
    """``[a, b, ...]``."""

    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class ObjectLiteral:
    """``{"k": v, ...}``; keys are unique, in source order."""

    entries: tuple[tuple[str, Node], ...]


@dataclass(frozen=True, slots=True)
class Field:
    """``target.name`` or ``target["name"]``: a member with a constant key."""

    target: Node
    name: str


@dataclass(frozen=True, slots=True)
class Index:
    """``target[index]`` where ``index`` is anything but a string literal."""

    target: Node
    index: Node


@dataclass(frozen=True, slots=True)
class Call:
    """``function(arguments...)``; the function exists and the arity is valid."""

    function: str
    arguments: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Unary:
    """``!operand`` or ``-operand``."""

    operator: str
    operand: Node


@dataclass(frozen=True, slots=True)
class Binary:
    """``left operator right`` for an operator of :data:`BINARY_PRECEDENCE`."""

    operator: str
    left: Node
    right: Node


Node: TypeAlias = (
    Variable
    | NullLiteral
    | BooleanLiteral
    | NumberLiteral
    | StringLiteral
    | ArrayLiteral
    | ObjectLiteral
    | Field
    | Index
    | Call
    | Unary
    | Binary
)


def children(node: Node) -> tuple[Node, ...]:
    """The direct sub-expressions of ``node``, in source order."""
    match node:
        case Variable() | NullLiteral() | BooleanLiteral() | NumberLiteral() | StringLiteral():
            return ()
        case ArrayLiteral(items=items):
            return items
        case ObjectLiteral(entries=entries):
            return tuple(value for _, value in entries)
        case Field(target=target):
            return (target,)
        case Index(target=target, index=index):
            return (target, index)
        case Call(arguments=arguments):
            return arguments
        case Unary(operand=operand):
            return (operand,)
        case Binary(left=left, right=right):
            return (left, right)


def unparse(node: Node) -> str:
    """Write ``node`` as expression text, with only the parentheses it needs.

    Strings are always written double-quoted with JSON escapes. The parser's trees are
    at most 100 levels deep, so the recursion here is bounded.
    """
    match node:
        case Variable(name=name):
            return name
        case NullLiteral():
            return "null"
        case BooleanLiteral(value=value):
            return "true" if value else "false"
        case NumberLiteral(value=value):
            return _number_text(value)
        case StringLiteral(value=value):
            return _string_text(value)
        case ArrayLiteral(items=items):
            return "[" + ", ".join(unparse(item) for item in items) + "]"
        case ObjectLiteral(entries=entries):
            inner = ", ".join(f"{_string_text(key)}: {unparse(value)}" for key, value in entries)
            return "{" + inner + "}"
        case Field(target=target, name=name):
            if is_identifier(name):
                return f"{_postfix_target(target)}.{name}"
            return f"{_postfix_target(target)}[{_string_text(name)}]"
        case Index(target=target, index=index):
            return f"{_postfix_target(target)}[{unparse(index)}]"
        case Call(function=function, arguments=arguments):
            return f"{function}({', '.join(unparse(argument) for argument in arguments)})"
        case Unary(operator=operator, operand=operand):
            return operator + _wrap(operand, _precedence(operand) < _UNARY_PRECEDENCE)
        case Binary(operator=operator, left=left, right=right):
            own = BINARY_PRECEDENCE[operator]
            # Left-associative: a right operand of the same level needs parentheses.
            left_text = _wrap(left, _precedence(left) < own)
            right_text = _wrap(right, _precedence(right) <= own)
            return f"{left_text} {operator} {right_text}"


def _precedence(node: Node) -> int:
    if isinstance(node, Binary):
        return BINARY_PRECEDENCE[node.operator]
    if isinstance(node, Unary):
        return _UNARY_PRECEDENCE
    return _ATOM_PRECEDENCE


def _wrap(node: Node, needs_parentheses: bool) -> str:
    text = unparse(node)
    return f"({text})" if needs_parentheses else text


def _postfix_target(node: Node) -> str:
    # A number needs parentheses too: "1.a" would read as a malformed number.
    needs = isinstance(node, Unary | Binary | NumberLiteral)
    return _wrap(node, needs)


def _number_text(value: int | float) -> str:
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} cannot be written as an expression")
        return repr(value)  # shortest text that reads back as the same float
    return str(value)


def _string_text(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)
