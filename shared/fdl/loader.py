"""Load FDL text (YAML or JSON) into plain values, remembering the line of every node.

The validator reports each problem with the line it sits on, so the loader keeps a map
from a node's path (a tuple of mapping keys and list indexes) to its 1-based line.

Hostile input must never crash the loader: the text size, the number of nodes after
alias expansion (the "billion laughs" YAML bomb) and the nesting depth are bounded, and
every failure is reported as :class:`DefinitionSyntaxError`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Final

import yaml

__all__ = ["MAX_DEFINITION_BYTES", "DefinitionSyntaxError", "Document", "PathKey", "load_document"]

MAX_DEFINITION_BYTES: Final = 1024 * 1024
"""A definition travels in one request, whose limit is 1 MiB (DESIGN.md §3)."""
MAX_NODES: Final = 200_000
MAX_DEPTH: Final = 64

PathKey = tuple[str | int, ...]

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_BOOL_TAG: Final = "tag:yaml.org,2002:bool"
_INT_TAG: Final = "tag:yaml.org,2002:int"
_FLOAT_TAG: Final = "tag:yaml.org,2002:float"
_NULL_TAG: Final = "tag:yaml.org,2002:null"
_MAX_INT_BITS: Final = 14_000
"""About 4,200 decimal digits: Python cannot print or serialise integers much larger."""


class _FdlLoader(_Loader):  # type: ignore[misc]
    """The safe loader, also reading plain YAML 1.2 and JSON exponents as numbers.

    YAML 1.1 wants a dot and a signed exponent, so ``1e3`` or ``1.5E3`` would load as
    strings and JSON text such as ``{"Seconds": 1e3}`` would not mean what it says.
    """


_FdlLoader.add_implicit_resolver(
    _FLOAT_TAG,
    re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


class DefinitionSyntaxError(Exception):
    """The text is not a readable YAML or JSON document."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


@dataclass(frozen=True, slots=True)
class Document:
    """A loaded definition: its value and the 1-based line of each node by path."""

    value: Any
    lines: dict[PathKey, int]

    def line_of(self, path: PathKey) -> int | None:
        """The line of the node at ``path``, or of its nearest ancestor that has one."""
        while True:
            line = self.lines.get(path)
            if line is not None or not path:
                return line
            path = path[:-1]


def load_document(text: str | bytes) -> Document:
    """Parse ``text`` as YAML (JSON is a subset) into plain JSON-shaped values."""
    if isinstance(text, bytes):
        if len(text) > MAX_DEFINITION_BYTES:
            raise DefinitionSyntaxError(_too_large(len(text)))
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DefinitionSyntaxError(
                f"the definition is not UTF-8 text ({exc.reason} at byte {exc.start})"
            ) from None
    if len(text.encode("utf-8", "surrogatepass")) > MAX_DEFINITION_BYTES:
        raise DefinitionSyntaxError(_too_large(len(text.encode("utf-8", "surrogatepass"))))
    if "\x00" in text:
        raise DefinitionSyntaxError(
            "the definition contains a NUL character: it is not a text document"
        )
    if not text.strip():
        raise DefinitionSyntaxError("the definition is empty")
    try:
        node = yaml.compose(text, Loader=_FdlLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "malformed document"
        raise DefinitionSyntaxError(f"not valid YAML or JSON: {problem}", line) from None
    except (
        yaml.reader.ReaderError
    ) as exc:  # a character YAML does not allow, e.g. a control character
        line = text.count("\n", 0, exc.position) + 1 if isinstance(exc.position, int) else None
        character = (
            f"#x{exc.character:04x}" if isinstance(exc.character, int) else repr(exc.character)
        )
        raise DefinitionSyntaxError(
            f"not valid YAML or JSON: character {character} is not allowed ({exc.reason})", line
        ) from None
    except yaml.YAMLError as exc:
        raise DefinitionSyntaxError(f"not valid YAML or JSON: {exc}") from None
    except RecursionError:
        raise DefinitionSyntaxError(
            f"the document is nested too deeply (more than {MAX_DEPTH} levels)"
        ) from None
    if node is None:
        raise DefinitionSyntaxError("the definition is empty")
    builder = _Builder()
    value = builder.build(node, ())
    return Document(value, builder.lines)


def _too_large(size: int) -> str:
    return f"the definition is {size} bytes, over the limit of {MAX_DEFINITION_BYTES} bytes"


class _Builder:
    """Turns a composed YAML node graph into values, counting nodes to stop alias bombs."""

    def __init__(self) -> None:
        self.lines: dict[PathKey, int] = {}
        self.count = 0

    def build(self, node: yaml.Node, path: PathKey) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise DefinitionSyntaxError(
                f"the document has more than {MAX_NODES} nodes (after expanding aliases)",
                node.start_mark.line + 1,
            )
        if len(path) > MAX_DEPTH:
            raise DefinitionSyntaxError(
                f"the document is nested too deeply (more than {MAX_DEPTH} levels)",
                node.start_mark.line + 1,
            )
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, index)) for index, item in enumerate(node.value)]
        assert isinstance(node, yaml.ScalarNode)
        return _scalar(node)

    def _mapping(self, node: yaml.MappingNode, path: PathKey) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise DefinitionSyntaxError(
                    "YAML merge keys ('<<') are not supported in FDL", key_node.start_mark.line + 1
                )
            if not isinstance(key_node, yaml.ScalarNode):
                raise DefinitionSyntaxError(
                    "a mapping key must be a plain string", key_node.start_mark.line + 1
                )
            key = key_node.value
            if key in result:
                raise DefinitionSyntaxError(
                    f"the key '{key}' appears twice in the same mapping",
                    key_node.start_mark.line + 1,
                )
            result[key] = self.build(value_node, (*path, key))
            # A problem about a field (unknown, wrong type) points at its key, not at the
            # first line of a block value below it.
            self.lines[(*path, key)] = key_node.start_mark.line + 1
        return result


def _scalar(node: yaml.ScalarNode) -> Any:
    """Resolve a scalar to a JSON value; YAML-only types (timestamps, binary) stay strings."""
    tag = node.tag
    if tag == _NULL_TAG:
        return None
    if tag == _BOOL_TAG:
        # YAML 1.2, like the CloudFlow service: only true/false are booleans, so a state
        # named "Yes" or "On" stays a string.
        lowered = node.value.lower()
        return lowered == "true" if lowered in ("true", "false") else node.value
    if tag == _INT_TAG:
        digits = node.value.replace("_", "")
        try:
            number = int(digits, 0)
        except ValueError:
            try:
                number = int(digits, 10)  # "010" is ten, as in YAML 1.2, not octal
            except ValueError:
                return node.value
        return number if number.bit_length() <= _MAX_INT_BITS else node.value
    if tag == _FLOAT_TAG:
        lowered = node.value.lower().replace("_", "")
        if lowered in (".nan", ".inf", "+.inf", "-.inf"):
            return node.value  # JSON has no NaN or infinity: keep the text
        try:
            real = float(lowered)
        except ValueError:
            return node.value
        return real if math.isfinite(real) else node.value  # 1e400 overflows to inf
    return node.value
