"""The size of an execution input as compact UTF-8 JSON, measured fast.

``shared.values.json_size`` gives the same number, but ``json.JSONEncoder.encode`` builds
a new C encoder on every call (a dozen Python-level steps), which costs more than
encoding a small input. This module builds the C encoder once and reuses it: about
2.5 times faster on a small object, twice as fast on a 100-item list. It has no
circular-reference check (JSON from the wire is never circular; a cyclic Python value
ends in RecursionError, reported as not JSON).
"""

from __future__ import annotations

import json.encoder
from collections.abc import Callable
from typing import Any, Final

from shared.values import json_size

__all__ = ["payload_size"]


def _not_json(value: Any) -> Any:
    raise TypeError(f"a {type(value).__name__} is not a JSON value")


def _reusable_encoder() -> Callable[[Any, int], Any] | None:
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # no C accelerator (another interpreter): use the shared function
        return None
    # The same arguments JSONEncoder(ensure_ascii=False, separators=(",", ":"),
    # allow_nan=False) passes: no markers, no indent, unsorted, no skipped keys.
    encoder: Callable[[Any, int], Any] = make(
        None, _not_json, json.encoder.encode_basestring, None, ":", ",", False, False, False
    )
    return encoder


_ENCODE: Final = _reusable_encoder()


def payload_size(value: Any) -> int:
    """Bytes of ``value`` as compact UTF-8 JSON; raises TypeError, ValueError or RecursionError
    for a value that is not JSON (a set, NaN, a cycle)."""
    if _ENCODE is None:
        return json_size(value)
    text = "".join(_ENCODE(value, 0))
    # Most payloads are ASCII, where characters and bytes agree; only encode when needed.
    return len(text) if text.isascii() else len(text.encode("utf-8"))
