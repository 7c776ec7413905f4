"""Collecting validation problems, each with a readable location and a line number.

A location reads like ``States[2] (Name: Charge).Retry[0].MaxAttempts``: the path a user
follows in their document, with each state's name beside its index so it can be found
without counting.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from shared.fdl.loader import Document, PathKey

__all__ = ["Loc", "Problem", "Problems", "describe_type", "printable"]


@dataclass(frozen=True, slots=True)
class Loc:
    """Where a node sits: its raw path (for line look-ups) and the path shown to users."""

    path: PathKey = ()
    display: str = ""

    def key(self, name: str) -> Loc:
        return Loc((*self.path, name), f"{self.display}.{name}" if self.display else name)

    def index(self, position: int, state_name: str | None = None) -> Loc:
        label = f"{self.display}[{position}]"
        if state_name:
            label += f" (Name: {state_name})"
        return Loc((*self.path, position), label)

    def __str__(self) -> str:
        return self.display or "the definition"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a definition."""

    location: str
    line: int | None
    message: str

    def __str__(self) -> str:
        prefix = f"line {self.line}: " if self.line else ""
        where = f"{self.location}: " if self.location else ""
        return f"{prefix}{where}{self.message}"


def describe_type(value: Any) -> str:
    """The JSON name of a value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list" if value else "an empty list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


class Problems:
    """Collects every problem of a document in one pass, with typed field readers.

    The readers report a problem and return ``None`` when a field is missing or of the
    wrong type, so compilation carries on and finds the next problem too.
    """

    def __init__(self, document: Document) -> None:
        self._document = document
        self.found: list[Problem] = []

    def add(self, loc: Loc, message: str) -> None:
        # Names and values quoted in a problem come from the user's text: escape line
        # breaks and control characters so that each problem stays on one line.
        self.found.append(
            Problem(printable(str(loc)), self._document.line_of(loc.path), printable(message))
        )

    def sorted(self) -> list[Problem]:
        return sorted(self.found, key=lambda p: p.line or 0)

    # -- the shape of a mapping ------------------------------------------------------

    def mapping(self, value: Any, loc: Loc, what: str = "a mapping") -> dict[str, Any] | None:
        if isinstance(value, dict):
            return value
        self.add(loc, f"must be {what}, not {describe_type(value)}")
        return None

    def fields(
        self,
        node: Mapping[str, Any],
        loc: Loc,
        allowed: Collection[str],
        required: Collection[str] = (),
        owner: str = "",
    ) -> None:
        """Report unknown fields (typos surface) and missing required ones."""
        for name in node:
            if name not in allowed:
                hint = _closest(name, allowed)
                suffix = f"; did you mean '{hint}'?" if hint else ""
                where = f" on {owner}" if owner else ""
                self.add(loc.key(name), f"unknown field '{name}'{where}{suffix}")
        for name in required:
            if name not in node:
                where = f" {owner}" if owner else ""
                self.add(
                    loc.key(name), f"required field '{name}' is missing{where and ' on' + where}"
                )

    # -- typed readers -------------------------------------------------------------------

    def string(
        self, node: Mapping[str, Any], name: str, loc: Loc, *, non_empty: bool = True
    ) -> str | None:
        if name not in node:
            return None
        value = node[name]
        if not isinstance(value, str):
            self.add(loc.key(name), f"must be a string, not {describe_type(value)}")
            return None
        if non_empty and not value.strip():
            self.add(loc.key(name), "must not be empty")
            return None
        return value

    def boolean(self, node: Mapping[str, Any], name: str, loc: Loc) -> bool | None:
        if name not in node:
            return None
        value = node[name]
        if not isinstance(value, bool):
            self.add(loc.key(name), f"must be true or false, not {describe_type(value)}")
            return None
        return value

    def integer(
        self,
        node: Mapping[str, Any],
        name: str,
        loc: Loc,
        *,
        minimum: int | None = None,
        maximum: int | None = None,
    ) -> int | None:
        if name not in node:
            return None
        value = node[name]
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            self.add(
                loc.key(name),
                f"must be an integer{_range_text(minimum, maximum)}, not {describe_type(value)}",
            )
            return None
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            self.add(
                loc.key(name),
                f"must be an integer{_range_text(minimum, maximum)}, not {_show_number(value)}",
            )
            return None
        return value

    def number(
        self,
        node: Mapping[str, Any],
        name: str,
        loc: Loc,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
    ) -> float | None:
        if name not in node:
            return None
        value = node[name]
        if not isinstance(value, int | float) or isinstance(value, bool):
            self.add(
                loc.key(name),
                f"must be a number{_range_text(minimum, maximum)}, not {describe_type(value)}",
            )
            return None
        try:
            number = float(value)
        except OverflowError:  # an integer too large for a float
            number = math.inf if value > 0 else -math.inf
        if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            self.add(
                loc.key(name),
                f"must be a number{_range_text(minimum, maximum)}, not {_show_number(value)}",
            )
            return None
        if not math.isfinite(number):
            self.add(
                loc.key(name),
                f"must be a number{_range_text(minimum, maximum)}, not {_show_number(value)}",
            )
            return None
        return number

    def string_list(self, node: Mapping[str, Any], name: str, loc: Loc) -> list[str] | None:
        if name not in node:
            return None
        value = node[name]
        if not isinstance(value, list) or not value:
            self.add(
                loc.key(name), f"must be a non-empty list of strings, not {describe_type(value)}"
            )
            return None
        result: list[str] = []
        for position, item in enumerate(value):
            if isinstance(item, str) and item:
                result.append(item)
            else:
                self.add(
                    loc.key(name).index(position),
                    f"must be a non-empty string, not {describe_type(item)}",
                )
        return result


def _range_text(minimum: float | None, maximum: float | None) -> str:
    if minimum is not None and maximum is not None:
        return f" from {_num(minimum)} to {_num(maximum)}"
    if minimum is not None:
        return f" >= {_num(minimum)}"
    if maximum is not None:
        return f" <= {_num(maximum)}"
    return ""


def _show_number(value: float) -> str:
    """A number as written, or a description when it is absurdly long."""
    if isinstance(value, int) and value.bit_length() > 200:
        return "an integer of more than 60 digits"
    return str(value)


def printable(text: str) -> str:
    """``text`` with line breaks, control characters and the like written as escapes."""
    if text.isprintable():
        return text
    return "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text
    )


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _closest(name: str, options: Collection[str]) -> str | None:
    """A known field a typo most likely meant (case-insensitive match or edit distance 2)."""
    lowered = name.lower()
    best: tuple[int, str] | None = None
    for option in options:
        if option.lower() == lowered:
            return option
        distance = _edit_distance(lowered, option.lower())
        if distance <= 2 and (best is None or distance < best[0]):
            best = (distance, option)
    return best[1] if best else None


def _edit_distance(a: str, b: str) -> int:
    if abs(len(a) - len(b)) > 2:
        return 3
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]
