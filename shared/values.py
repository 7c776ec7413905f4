"""JSON values as the engines handle them: plain dicts, lists, strings, numbers, booleans, None.

Values are never mutated in place once they exist, so states can share them without copying.
"""

from __future__ import annotations

import json
import json.encoder
from typing import Any

__all__ = ["JSON", "dumps", "json_size", "json_type_name", "parse_json", "parse_json_object"]

JSON = Any
"""A JSON-shaped Python value."""

_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _not_json(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _make_fast_encoder() -> Any:
    """The C encoder, built once. ``JSONEncoder.encode`` builds a new one on every call, which
    is half the cost of encoding a small payload, and engines encode on every transition.
    Same output as ``_encoder``; no cycle check (JSON values from parsing cannot have cycles)."""
    make = getattr(json.encoder, "c_make_encoder", None)
    escape = getattr(json.encoder, "c_encode_basestring", None)
    if make is None or escape is None:  # pragma: no cover - CPython always has them
        return None
    return make(None, _not_json, escape, None, ":", ",", False, False, False)


_fast = _make_fast_encoder()


def dumps(value: JSON) -> str:
    """Compact JSON text, as stored and sent over the wire."""
    if _fast is None:  # pragma: no cover
        return _encoder.encode(value)
    return "".join(_fast(value, 0))


def json_size(value: JSON) -> int:
    """Size in bytes of the value as compact UTF-8 JSON: what the payload limits measure."""
    text = dumps(value)
    # Most payloads are ASCII, where characters and bytes agree; only encode when needed.
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def _reject_constant(name: str) -> Any:
    # json.loads accepts NaN and Infinity, which JSON does not have and dumps() refuses.
    raise ValueError(f"{name} is not a JSON value")


def parse_json(text: str, what: str) -> Any:
    """Parse any JSON value, or raise ValueError with a message naming ``what``."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"{what} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise ValueError(f"{what} is nested too deeply") from None


def parse_json_object(text: str, what: str) -> dict[str, Any]:
    """Parse ``text`` as a JSON object or raise ValueError with a message naming ``what``."""
    if not text.strip():
        return {}
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"{what} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise ValueError(f"{what} is nested too deeply") from None
    if not isinstance(value, dict):
        raise ValueError(f"{what} must be a JSON object, not {json_type_name(value)}")
    return value


def json_type_name(value: JSON) -> str:
    """The JSON name of a value's type, with its article, for messages ("an array")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
