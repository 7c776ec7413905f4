"""Builds the syntax tree from tokens by precedence climbing.

Besides the grammar, the parser enforces the compile-time limits, each with a column:
the length of the text, how deeply brackets and the tree nest (so that no later
recursive walk can hit Python's recursion limit), how deeply function calls nest
(DESIGN.md §3: at most 10), and that every function exists and gets a valid number of
arguments.
"""

from __future__ import annotations

import difflib
from typing import Final

from shared.expressions.errors import ExpressionSyntaxError
from shared.expressions.functions import FUNCTIONS
from shared.expressions.lexer import KEYWORDS, Token, TokenKind, tokenize
from shared.expressions.syntax import (
    BINARY_PRECEDENCE,
    UNARY_OPERATORS,
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
)

__all__ = ["MAX_CALL_NESTING", "MAX_LENGTH", "MAX_NESTING", "parse"]

MAX_LENGTH: Final = 16 * 1024
"""Longest accepted expression, in UTF-8 bytes."""
MAX_NESTING: Final = 100
"""Deepest accepted nesting, counted both as brackets inside brackets and as levels of the
syntax tree (so a chain of 101 operators or path steps is also too deep)."""
MAX_CALL_NESTING: Final = 10
"""Deepest accepted nesting of function calls inside function arguments."""


def parse(text: str) -> Node:
    """Parse expression text into its syntax tree; raise ExpressionSyntaxError."""
    if len(text) > MAX_LENGTH or len(text.encode("utf-8", "surrogatepass")) > MAX_LENGTH:
        raise ExpressionSyntaxError(f"expression is longer than {MAX_LENGTH} bytes")
    return _Parser(tokenize(text)).run()


class _Parser:
    __slots__ = ("_calls", "_heights", "_nesting", "_pos", "_tokens")

    def __init__(self, tokens: list[Token]) -> None:
        self._tokens = tokens
        self._pos = 0
        self._nesting = 0
        self._calls = 0
        # Height of every node built so far, keyed by id(): computed as nodes are built,
        # so a tree that grows too deep is rejected at the token that made it so.
        self._heights: dict[int, int] = {}

    def run(self) -> Node:
        if self._peek().kind is TokenKind.END:
            raise ExpressionSyntaxError("the expression is empty", 1)
        node = self._expression(1)
        token = self._peek()
        if token.kind is not TokenKind.END:
            raise self._error(f"unexpected {_describe(token)} after a complete expression", token)
        return node

    # -- token access -------------------------------------------------------------------

    def _peek(self) -> Token:
        return self._tokens[self._pos]

    def _advance(self) -> Token:
        token = self._tokens[self._pos]
        if token.kind is not TokenKind.END:
            self._pos += 1
        return token

    def _at(self, operator: str) -> bool:
        token = self._tokens[self._pos]
        return token.kind is TokenKind.OPERATOR and token.text == operator

    def _expect(self, operator: str, context: str) -> Token:
        if not self._at(operator):
            token = self._peek()
            raise self._error(f"expected '{operator}' {context}, found {_describe(token)}", token)
        return self._advance()

    def _error(self, message: str, token: Token) -> ExpressionSyntaxError:
        return ExpressionSyntaxError(message, token.column)

    def _build(self, node: Node, token: Token) -> Node:
        """Record ``node``'s height; ``token`` is where to point if it is too deep."""
        height = 1 + max((self._heights[id(child)] for child in children(node)), default=0)
        if height > MAX_NESTING:
            raise self._too_deep(token)
        self._heights[id(node)] = height
        return node

    def _too_deep(self, token: Token) -> ExpressionSyntaxError:
        return self._error(f"the expression is nested more than {MAX_NESTING} levels deep", token)

    def _enter(self, token: Token) -> None:
        self._nesting += 1
        if self._nesting > MAX_NESTING:
            raise self._too_deep(token)

    def _leave(self) -> None:
        self._nesting -= 1

    # -- grammar ------------------------------------------------------------------------

    def _expression(self, min_precedence: int) -> Node:
        left = self._unary()
        while True:
            token = self._peek()
            if token.kind is not TokenKind.OPERATOR:
                return left
            precedence = BINARY_PRECEDENCE.get(token.text)
            if precedence is None or precedence < min_precedence:
                return left
            self._advance()
            # Parsing the right side one level tighter makes equal operators associate left.
            right = self._expression(precedence + 1)
            left = self._build(Binary(token.text, left, right), token)

    def _unary(self) -> Node:
        # Prefix operators are collected in a loop rather than by recursion, so that a
        # chain of 10,000 '!' fails cleanly on the depth limit.
        operators: list[Token] = []
        while self._peek().kind is TokenKind.OPERATOR and self._peek().text in UNARY_OPERATORS:
            operators.append(self._advance())
            if len(operators) > MAX_NESTING:
                raise self._too_deep(operators[-1])
        node = self._postfix(self._primary())
        for token in reversed(operators):
            node = self._build(Unary(token.text, node), token)
        return node

    def _postfix(self, node: Node) -> Node:
        while True:
            if self._at("."):
                dot = self._advance()
                name = self._advance()
                if name.kind is not TokenKind.NAME:
                    raise self._error(
                        f"expected a field name after '.', found {_describe(name)}"
                        ' (use brackets for other keys, e.g. [0] or ["my-key"])',
                        name,
                    )
                node = self._build(Field(node, name.text), dot)
            elif self._at("["):
                bracket = self._advance()
                self._enter(bracket)
                index = self._expression(1)
                self._expect("]", "to close the index")
                self._leave()
                if isinstance(index, StringLiteral):
                    node = self._build(Field(node, index.value), bracket)
                else:
                    node = self._build(Index(node, index), bracket)
            else:
                return node

    def _primary(self) -> Node:
        token = self._peek()
        match token.kind:
            case TokenKind.VARIABLE:
                self._advance()
                return self._build(Variable(token.text), token)
            case TokenKind.NUMBER:
                self._advance()
                assert isinstance(token.value, int | float)
                return self._build(NumberLiteral(token.value), token)
            case TokenKind.STRING:
                self._advance()
                assert isinstance(token.value, str)
                return self._build(StringLiteral(token.value), token)
            case TokenKind.NAME:
                return self._name()
            case TokenKind.OPERATOR if token.text == "(":
                self._advance()
                self._enter(token)
                node = self._expression(1)
                self._expect(")", "to close the parenthesis")
                self._leave()
                return node
            case TokenKind.OPERATOR if token.text == "[":
                return self._array()
            case TokenKind.OPERATOR if token.text == "{":
                return self._object()
            case _:
                raise self._missing_operand(token)

    def _missing_operand(self, token: Token) -> ExpressionSyntaxError:
        previous = self._tokens[self._pos - 1] if self._pos > 0 else None
        if token.kind is TokenKind.END:
            assert previous is not None  # run() rejects an empty expression first
            return self._error(f"unexpected end of expression after '{previous.text}'", token)
        if previous is None:
            return self._error(f"expected a value, found {_describe(token)}", token)
        return self._error(
            f"expected a value after '{previous.text}', found {_describe(token)}", token
        )

    def _name(self) -> Node:
        token = self._advance()
        name = token.text
        if self._at("("):
            return self._call(token)
        if name == "null":
            return self._build(NullLiteral(), token)
        if name in ("true", "false"):
            return self._build(BooleanLiteral(name == "true"), token)
        hint = ""
        if name.lower() in KEYWORDS:
            hint = f"; did you mean '{name.lower()}'?"
        elif name in FUNCTIONS:
            hint = f"; to call the function write {name}(...)"
        else:
            hint = "; variables start with '$' (e.g. $Input) and strings need quotes"
        raise self._error(f"unexpected name '{name}'{hint}", token)

    def _call(self, name_token: Token) -> Node:
        name = name_token.text
        function = FUNCTIONS.get(name)
        if function is None:
            raise self._error(_unknown_function_message(name), name_token)
        self._calls += 1
        if self._calls > MAX_CALL_NESTING:
            raise self._error(
                f"function calls are nested more than {MAX_CALL_NESTING} levels deep (at '{name}')",
                name_token,
            )
        arguments = self._sequence("(", ")", "in the arguments of " + name)
        self._calls -= 1
        count = len(arguments)
        if count < function.min_arity or (
            function.max_arity is not None and count > function.max_arity
        ):
            raise self._error(
                f"function '{name}' expects {function.arity_text()}, got {count}", name_token
            )
        return self._build(Call(name, tuple(arguments)), name_token)

    def _sequence(self, opening: str, closing: str, context: str) -> list[Node]:
        """Comma-separated expressions between ``opening`` (the next token) and ``closing``."""
        open_token = self._expect(opening, context)
        self._enter(open_token)
        items: list[Node] = []
        if not self._at(closing):
            while True:
                items.append(self._expression(1))
                if not self._at(","):
                    break
                self._advance()
        self._expect(closing, f"or ',' {context}")
        self._leave()
        return items

    def _array(self) -> Node:
        bracket = self._peek()
        items = self._sequence("[", "]", "in the array")
        return self._build(ArrayLiteral(tuple(items)), bracket)

    def _object(self) -> Node:
        brace = self._advance()
        self._enter(brace)
        entries: list[tuple[str, Node]] = []
        seen: set[str] = set()
        if not self._at("}"):
            while True:
                key = self._advance()
                if key.kind is not TokenKind.STRING:
                    raise self._error(
                        f"expected a quoted key in the object, found {_describe(key)}", key
                    )
                assert isinstance(key.value, str)
                if key.value in seen:
                    raise self._error(f"duplicate key {key.text} in the object", key)
                seen.add(key.value)
                self._expect(":", "after the object key")
                entries.append((key.value, self._expression(1)))
                if not self._at(","):
                    break
                self._advance()
        self._expect("}", "or ',' in the object")
        self._leave()
        return self._build(ObjectLiteral(tuple(entries)), brace)


def _describe(token: Token) -> str:
    match token.kind:
        case TokenKind.END:
            return "the end of the expression"
        case TokenKind.NUMBER:
            return f"number {token.text}"
        case TokenKind.STRING:
            return f"string {_shorten(token.text)}"
        case TokenKind.NAME:
            return f"name '{token.text}'"
        case TokenKind.VARIABLE | TokenKind.OPERATOR:
            return f"'{token.text}'"


def _shorten(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


def _unknown_function_message(name: str) -> str:
    message = f"unknown function '{name}'"
    close = difflib.get_close_matches(name, list(FUNCTIONS), n=1)
    if close:
        message += f"; did you mean '{close[0]}'?"
    return message
