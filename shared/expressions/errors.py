"""The two exceptions of the expression language.

A problem found while compiling (bad syntax, an unknown name, a wrong arity, input that
is too long or too deeply nested) is an :class:`ExpressionSyntaxError`: the validator
reports it as a problem of the flow definition. A problem found while evaluating (a type
mismatch, a division by zero, a bad function argument) is an
:class:`ExpressionRuntimeError`: the engine turns it into ``FnF.RuntimeError`` naming the
state and the expression.
"""

from __future__ import annotations

__all__ = ["ExpressionError", "ExpressionRuntimeError", "ExpressionSyntaxError"]


class ExpressionError(Exception):
    """Base of both expression errors; ``message`` is a user-facing sentence."""

    message: str

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ExpressionSyntaxError(ExpressionError):
    """An expression that cannot be compiled.

    ``column`` is the 1-based position in the expression text of the character where the
    problem was found, or ``None`` when the problem is about the text as a whole.
    ``str(exc)`` is the message followed by the column, e.g.
    ``unexpected end of expression after '+' (at column 12)``.
    """

    column: int | None

    def __init__(self, message: str, column: int | None = None) -> None:
        super().__init__(message)
        self.column = column

    def __str__(self) -> str:
        if self.column is None:
            return self.message
        return f"{self.message} (at column {self.column})"


class ExpressionRuntimeError(ExpressionError):
    """An expression that failed while being evaluated; ``str(exc)`` is the message."""
