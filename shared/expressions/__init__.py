"""The FDL expression language (DESIGN.md §3, "Expressions" and "Functions").

Compile once, evaluate many times::

    expression = compile_expression('$Input.amount > 1000 && $Input.vip == false')
    expression.variables                        # frozenset({'$Input'})
    expression.evaluate({"$Input": {"amount": 5, "vip": False}}, entropy)   # False

Compiling raises :class:`ExpressionSyntaxError` (syntax, unknown variable or function,
wrong arity, nesting or length limits); evaluating raises
:class:`ExpressionRuntimeError` (type mismatches, division by zero, bad function
arguments). Values in and out are plain JSON values.

Modules: :mod:`.lexer` (tokens), :mod:`.syntax` (the tree and ``unparse``),
:mod:`.parser`, :mod:`.values` (equality and type rules), :mod:`.operators`,
:mod:`.functions` (the built-ins), :mod:`.evaluator` (lowering and ``Expression``).
"""

from shared.expressions.errors import (
    ExpressionError,
    ExpressionRuntimeError,
    ExpressionSyntaxError,
)
from shared.expressions.evaluator import Expression, compile_expression
from shared.expressions.parser import parse
from shared.expressions.syntax import Node, unparse

__all__ = [
    "Expression",
    "ExpressionError",
    "ExpressionRuntimeError",
    "ExpressionSyntaxError",
    "Node",
    "compile_expression",
    "parse",
    "unparse",
]
