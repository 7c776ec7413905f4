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

Decisions on points DESIGN.md §3 leaves open:

* Numbers follow JSON's grammar (no ``01``, ``.5`` or ``1.``); a fraction or exponent
  makes a float (``1e2`` is ``100.0``); ``-`` is always the unary operator.
* ``"..."`` and ``'...'`` reject raw control characters, as JSON does; ``\\'`` is valid
  only in single quotes; a ``\\uD83D\\uDE00`` pair is one character.
* Field names after ``.`` may use Unicode letters; ``true``/``false``/``null`` are plain
  names there. Object literal keys must be quoted, and a duplicate key is a syntax error.
* ``%`` keeps the sign of the dividend (``-7 % 3`` is ``-1``), as in Go and JavaScript.
* An integral float (``2.0``) is accepted wherever an integer is needed (array indexes,
  ``arrayRange``, ``arrayPartition``, ``arrayGetItem``, ``mathRandom``).
* ``$x[i]`` also reads an object member when ``i`` is a string; a negative index gives
  null (no counting from the end).
* Arithmetic that would produce an integer of more than 4,300 digits, or an infinite
  float, is a runtime error: no JSON could carry the result.
* Limits: 16 KiB of UTF-8 text; 100 levels of nesting, counted both as brackets inside
  brackets and as the height of the syntax tree (so 101 chained ``+`` are too many);
  10 levels of function calls.
* ``str(ExpressionSyntaxError)`` ends with ``(at column N)`` when the column is known.
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
