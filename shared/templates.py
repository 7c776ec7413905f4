"""Constructors and Parameters: mappings whose ``.$`` keys hold expressions.

A key ending in ``.$`` takes the value of its expression, under the key without ``.$``;
every other key is literal, whatever its value looks like (cloudflow-reference.md §1.4).
Templates are compiled once: constant subtrees are kept as they are and shared, and only
the parts holding expressions are rebuilt per evaluation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from shared.expressions import (
    Expression,
    ExpressionRuntimeError,
    ExpressionSyntaxError,
    compile_expression,
)
from shared.fdl.problems import Loc, Problems, describe_type
from shared.ports import Entropy

__all__ = [
    "EvaluationError",
    "Template",
    "compile_expression_field",
    "compile_template",
    "variable_rule",
]

Builder = Callable[[Mapping[str, Any], Entropy], Any]

_WHERE_OUTPUT = "only in OutputConstructor and GlobalConstructor"
_WHERE_ITEM = "only in a Map's ItemConstructor"


class EvaluationError(Exception):
    """An expression failed at run time; says which key and expression."""

    def __init__(self, message: str, expression: str, key: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.expression = expression
        self.key = key

    def describe(self) -> str:
        where = f"{self.key}: " if self.key else ""
        return f"{where}expression '{self.expression}' failed: {self.message}"


@dataclass(frozen=True, slots=True)
class Template:
    """A compiled constructor or Parameters mapping."""

    build_value: Builder
    variables: frozenset[str]
    """The root variables that its expressions read (``$Input``, ``$Context``, ...)."""

    @property
    def uses_context(self) -> bool:
        return "$Context" in self.variables

    def build(self, variables: Mapping[str, Any], entropy: Entropy) -> Any:
        """Evaluate every expression; raises :class:`EvaluationError`."""
        return self.build_value(variables, entropy)


def variable_rule(allowed: frozenset[str], field: str) -> Callable[[Expression], str | None]:
    """A check that an expression reads only the variables available in ``field``."""

    def check(expression: Expression) -> str | None:
        for name in sorted(expression.variables - allowed):
            where = (
                _WHERE_OUTPUT
                if name == "$Output"
                else _WHERE_ITEM
                if name in ("$Item", "$Index")
                else ""
            )
            hint = f" ({name} is available {where})" if where else ""
            return f"{name} cannot be used in {field}{hint}"
        return None

    return check


def compile_expression_field(
    text: Any, loc: Loc, problems: Problems, allowed: frozenset[str], field: str
) -> Expression | None:
    """Compile one expression-valued field (``Condition``, ``ItemsPath``, ``Seconds.$``)."""
    if not isinstance(text, str):
        problems.add(loc, f"must be an expression string, not {describe_type(text)}")
        return None
    try:
        expression = compile_expression(text)
    except ExpressionSyntaxError as exc:
        problems.add(loc, f"expression '{_clip(text)}' is not valid: {exc}")
        return None
    complaint = variable_rule(allowed, field)(expression)
    if complaint:
        problems.add(loc, complaint)
        return None
    return expression


def compile_template(
    value: Any, loc: Loc, problems: Problems, allowed: frozenset[str], field: str
) -> Template | None:
    """Compile a constructor mapping; report every problem; ``None`` if any was found."""
    if not isinstance(value, dict):
        problems.add(loc, f"must be a mapping of keys to values, not {describe_type(value)}")
        return None
    before = len(problems.found)
    used: set[str] = set()
    builder = _compile_node(value, loc, problems, allowed, field, "", used)
    if len(problems.found) > before:
        return None
    return Template(builder, frozenset(used))


def _compile_node(
    value: Any,
    loc: Loc,
    problems: Problems,
    allowed: frozenset[str],
    field: str,
    key_path: str,
    used: set[str],
) -> Builder:
    if isinstance(value, dict):
        return _compile_mapping(value, loc, problems, allowed, field, key_path, used)
    if isinstance(value, list):
        parts = [
            _compile_node(item, loc.index(i), problems, allowed, field, f"{key_path}[{i}]", used)
            for i, item in enumerate(value)
        ]
        if all(getattr(part, "constant", False) for part in parts):
            return _constant(value)

        def build_list(variables: Mapping[str, Any], entropy: Entropy) -> Any:
            return [part(variables, entropy) for part in parts]

        return build_list
    return _constant(value)


def _compile_mapping(
    node: dict[str, Any],
    loc: Loc,
    problems: Problems,
    allowed: frozenset[str],
    field: str,
    key_path: str,
    used: set[str],
) -> Builder:
    check = variable_rule(allowed, field)
    entries: list[tuple[str, Builder | None, Any]] = []
    seen: dict[str, str] = {}
    dynamic = False
    for raw_key, item in node.items():
        key_loc = loc.key(raw_key)
        if raw_key.endswith(".$"):
            out_key = raw_key[:-2]
            if not out_key:
                problems.add(key_loc, "a '.$' key needs a name before '.$'")
                continue
            expression = _compile_dollar(item, key_loc, problems, check, out_key)
            if expression is None:
                continue
            used.update(expression.variables)
            entries.append(
                (out_key, _expression_builder(expression, _join(key_path, out_key)), None)
            )
            dynamic = True
        else:
            out_key = raw_key
            part = _compile_node(
                item, key_loc, problems, allowed, field, _join(key_path, out_key), used
            )
            if getattr(part, "constant", False):
                entries.append((out_key, None, item))
            else:
                entries.append((out_key, part, None))
                dynamic = True
        if out_key in seen:
            problems.add(key_loc, f"'{raw_key}' and '{seen[out_key]}' both set the key '{out_key}'")
        seen[out_key] = raw_key
    if not dynamic:
        return _constant(node)
    frozen_entries = tuple(entries)

    def build_mapping(variables: Mapping[str, Any], entropy: Entropy) -> Any:
        result: dict[str, Any] = {}
        for key, part, literal in frozen_entries:
            result[key] = literal if part is None else part(variables, entropy)
        return result

    return build_mapping


def _compile_dollar(
    item: Any, loc: Loc, problems: Problems, check: Callable[[Expression], str | None], out_key: str
) -> Expression | None:
    if not isinstance(item, str):
        problems.add(
            loc,
            f"the value of '{out_key}.$' must be an expression string, not {describe_type(item)} "
            f"(drop '.$' from the key to use a literal value)",
        )
        return None
    try:
        expression = compile_expression(item)
    except ExpressionSyntaxError as exc:
        problems.add(
            loc,
            f"the value of '{out_key}.$' is not a valid expression ('{_clip(item)}': {exc}); "
            f"drop '.$' from the key to use a literal value",
        )
        return None
    complaint = check(expression)
    if complaint:
        problems.add(loc, complaint)
        return None
    return expression


def _expression_builder(expression: Expression, key: str) -> Builder:
    evaluate = expression.evaluate
    source = expression.source

    def build(variables: Mapping[str, Any], entropy: Entropy) -> Any:
        try:
            return evaluate(variables, entropy)
        except ExpressionRuntimeError as exc:
            raise EvaluationError(str(exc), source, key) from None

    return build


def _constant(value: Any) -> Builder:
    def build(variables: Mapping[str, Any], entropy: Entropy) -> Any:
        return value

    build.constant = True  # type: ignore[attr-defined]
    return build


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
