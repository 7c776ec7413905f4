"""Turns expression text into tokens, each with its 1-based column.

The lexer decodes literals completely (string escapes, numbers), so the parser only
deals with structure. It knows the variable names, so a misspelt variable is reported at
its exact column.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import Final

from shared.expressions.errors import ExpressionSyntaxError

__all__ = [
    "KEYWORDS",
    "VARIABLES",
    "Token",
    "TokenKind",
    "describe_character",
    "is_identifier",
    "tokenize",
]

VARIABLES: Final = frozenset({"$Input", "$Output", "$Context", "$Global", "$Item", "$Index"})
"""Every variable the language knows; which ones a field may use is the caller's rule."""

KEYWORDS: Final = frozenset({"true", "false", "null"})

_TWO_CHARACTER_OPERATORS: Final = frozenset({"||", "&&", "==", "!=", "<=", ">="})
_ONE_CHARACTER_OPERATORS: Final = frozenset("<>+-*/%!()[]{},.:")
_OPERATOR_STARTS: Final = _ONE_CHARACTER_OPERATORS | {op[0] for op in _TWO_CHARACTER_OPERATORS}
# JSON's whitespace; other Unicode spaces are more likely a paste accident than intent.
_WHITESPACE: Final = frozenset(" \t\r\n")
_DIGITS: Final = frozenset("0123456789")
_HEX_DIGITS: Final = frozenset("0123456789abcdefABCDEF")
_SIMPLE_ESCAPES: Final = {
    '"': '"',
    "\\": "\\",
    "/": "/",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
}
# Single characters that users type by mistake for a two-character operator.
_DOUBLED_HINTS: Final = {"=": "==", "&": "&&", "|": "||"}


class TokenKind(enum.Enum):
    """What a token is; operators and punctuation share one kind."""

    NUMBER = "number"
    STRING = "string"
    NAME = "name"
    """A function name or one of ``true``, ``false``, ``null`` (and field names after '.')."""
    VARIABLE = "variable"
    OPERATOR = "operator"
    """Operators and punctuation; ``text`` says which."""
    END = "end"


@dataclass(frozen=True, slots=True)
class Token:
    """One token of an expression."""

    kind: TokenKind
    text: str
    """The token exactly as written in the source."""
    value: str | int | float | None
    """The decoded value of a NUMBER or STRING token; ``None`` for the others."""
    column: int
    """1-based position of the token's first character."""


def is_identifier(name: str) -> bool:
    """Whether ``name`` can be written as ``.name`` (letters, digits, ``_``; no leading digit)."""
    if not name or not _is_name_start(name[0]):
        return False
    return all(_is_name_part(ch) for ch in name[1:])


def describe_character(ch: str) -> str:
    """A character as an error message shows it: quoted if printable, else its code point."""
    if ch.isprintable() and not ch.isspace():
        return f"'{ch}'"
    return f"U+{ord(ch):04X}"


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens, ending with an END token; raise ExpressionSyntaxError."""
    return _Lexer(text).run()


def _is_name_start(ch: str) -> bool:
    # Unicode letters are allowed: field names in other scripts are common in real data.
    return ch == "_" or ch.isalpha()


def _is_name_part(ch: str) -> bool:
    return ch == "_" or ch.isalnum()


class _Lexer:
    __slots__ = ("_pos", "_text", "_tokens")

    def __init__(self, text: str) -> None:
        self._text = text
        self._pos = 0
        self._tokens: list[Token] = []

    def run(self) -> list[Token]:
        text = self._text
        length = len(text)
        while True:
            while self._pos < length and text[self._pos] in _WHITESPACE:
                self._pos += 1
            if self._pos >= length:
                self._tokens.append(Token(TokenKind.END, "", None, length + 1))
                return self._tokens
            ch = text[self._pos]
            if ch in _DIGITS:
                self._number()
            elif ch == '"' or ch == "'":
                self._quoted_string(ch)
            elif ch == "`":
                self._raw_string()
            elif ch == "$":
                self._variable()
            elif _is_name_start(ch):
                start = self._pos
                self._name()
                self._add(TokenKind.NAME, start, None)
            elif ch in _OPERATOR_STARTS:
                self._operator()
            else:
                raise self._error(f"unexpected character {describe_character(ch)}", self._pos)

    # -- helpers ----------------------------------------------------------------------

    def _add(self, kind: TokenKind, start: int, value: str | int | float | None) -> None:
        self._tokens.append(Token(kind, self._text[start : self._pos], value, start + 1))

    def _error(self, message: str, pos: int) -> ExpressionSyntaxError:
        return ExpressionSyntaxError(message, pos + 1)

    def _name(self) -> str:
        text = self._text
        start = self._pos
        self._pos += 1
        while self._pos < len(text) and _is_name_part(text[self._pos]):
            self._pos += 1
        return text[start : self._pos]

    def _digits(self) -> None:
        text = self._text
        while self._pos < len(text) and text[self._pos] in _DIGITS:
            self._pos += 1

    # -- tokens -----------------------------------------------------------------------

    def _operator(self) -> None:
        text = self._text
        start = self._pos
        # Two characters first, so that "<=" wins over "<".
        if text[start : start + 2] in _TWO_CHARACTER_OPERATORS:
            self._pos += 2
            self._add(TokenKind.OPERATOR, start, None)
            return
        ch = text[start]
        if ch in _ONE_CHARACTER_OPERATORS:
            self._pos += 1
            self._add(TokenKind.OPERATOR, start, None)
            return
        hint = _DOUBLED_HINTS.get(ch)
        message = f"unexpected character '{ch}'"
        if hint is not None:
            message += f"; did you mean '{hint}'?"
        raise self._error(message, start)

    def _variable(self) -> None:
        start = self._pos
        self._pos += 1
        if self._pos >= len(self._text) or not _is_name_start(self._text[self._pos]):
            raise self._error("expected a variable name after '$'", start)
        name = "$" + self._name()
        if name not in VARIABLES:
            raise self._error(_unknown_variable_message(name), start)
        self._add(TokenKind.VARIABLE, start, None)

    def _number(self) -> None:
        # JSON's number grammar (without the sign: '-' is the unary operator).
        text = self._text
        start = self._pos
        is_float = False
        if text[start] == "0" and start + 1 < len(text) and text[start + 1] in _DIGITS:
            raise self._error("a number cannot start with '0' followed by digits", start)
        self._digits()
        if self._pos < len(text) and text[self._pos] == ".":
            self._pos += 1
            if self._pos >= len(text) or text[self._pos] not in _DIGITS:
                raise self._error("expected a digit after the decimal point", self._pos - 1)
            self._digits()
            is_float = True
        if self._pos < len(text) and text[self._pos] in "eE":
            self._pos += 1
            if self._pos < len(text) and text[self._pos] in "+-":
                self._pos += 1
            if self._pos >= len(text) or text[self._pos] not in _DIGITS:
                raise self._error("expected a digit in the exponent of a number", start)
            self._digits()
            is_float = True
        if self._pos < len(text) and _is_name_part(text[self._pos]):
            raise self._error(f"invalid number '{text[start : self._pos + 1]}'", start)
        literal = text[start : self._pos]
        value: int | float
        if is_float:
            value = float(literal)
            if math.isinf(value):
                raise self._error(f"number {literal} is too large", start)
        else:
            try:
                value = int(literal)
            except ValueError:  # over Python's int/str conversion limit (4300 digits)
                raise self._error("number has too many digits", start) from None
        self._add(TokenKind.NUMBER, start, value)

    def _raw_string(self) -> None:
        start = self._pos
        end = self._text.find("`", start + 1)
        if end < 0:
            raise self._error("unterminated raw string (missing closing '`')", start)
        self._pos = end + 1
        self._add(TokenKind.STRING, start, self._text[start + 1 : end])

    def _quoted_string(self, quote: str) -> None:
        text = self._text
        start = self._pos
        pos = start + 1
        parts: list[str] = []
        while True:
            # Copy the run of plain characters up to the next quote or backslash at once.
            run_end = pos
            while run_end < len(text) and text[run_end] != quote and text[run_end] != "\\":
                if text[run_end] < " ":
                    raise self._error(
                        f"control character {describe_character(text[run_end])} in a string;"
                        " write it as an escape such as \\n",
                        run_end,
                    )
                run_end += 1
            parts.append(text[pos:run_end])
            pos = run_end
            if pos >= len(text):
                raise self._error(f"unterminated string (missing closing {quote})", start)
            if text[pos] == quote:
                break
            decoded, pos = self._escape(pos, quote)
            parts.append(decoded)
        self._pos = pos + 1
        self._add(TokenKind.STRING, start, "".join(parts))

    def _escape(self, pos: int, quote: str) -> tuple[str, int]:
        """Decode the escape starting at the backslash at ``pos``; return it and the next pos."""
        text = self._text
        if pos + 1 >= len(text):
            raise self._error("unterminated escape at the end of a string", pos)
        ch = text[pos + 1]
        simple = _SIMPLE_ESCAPES.get(ch)
        if simple is not None:
            return simple, pos + 2
        if ch == "'" and quote == "'":
            return "'", pos + 2
        if ch != "u":
            return self._bad_escape(pos, quote)
        code = self._hex4(pos)
        pos += 6
        # A UTF-16 surrogate pair written as two escapes is one character, as in JSON.
        if 0xD800 <= code <= 0xDBFF and text.startswith("\\u", pos):
            low = self._hex4(pos)
            if 0xDC00 <= low <= 0xDFFF:
                return chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)), pos + 6
        return chr(code), pos

    def _bad_escape(self, pos: int, quote: str) -> tuple[str, int]:
        ch = self._text[pos + 1]
        escapes = '\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX'
        if quote == "'":
            escapes += " \\'"
        raise self._error(
            f"invalid escape '\\{ch}' in a string; the escapes are {escapes}"
            " (a `backtick` string has no escapes)",
            pos,
        )

    def _hex4(self, pos: int) -> int:
        digits = self._text[pos + 2 : pos + 6]
        if len(digits) != 4 or not all(d in _HEX_DIGITS for d in digits):
            raise self._error("'\\u' must be followed by four hexadecimal digits", pos)
        return int(digits, 16)


def _unknown_variable_message(name: str) -> str:
    for candidate in sorted(VARIABLES):
        if candidate.lower() == name.lower():
            return f"unknown variable '{name}'; did you mean '{candidate}'?"
    listed = ", ".join(["$Input", "$Output", "$Context", "$Global", "$Item"]) + " and $Index"
    return f"unknown variable '{name}'; the variables are {listed}"
