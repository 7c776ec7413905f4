"""Service limits, with CloudFlow's values as defaults (DESIGN.md §3). All configurable."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["EXPRESS_MAX_SECONDS", "STANDARD_MAX_SECONDS", "Limits"]

EXPRESS_MAX_SECONDS = 5 * 60
STANDARD_MAX_SECONDS = 365 * 24 * 3600


@dataclass(frozen=True, slots=True)
class Limits:
    """The limits a flow is validated and executed against."""

    max_payload_bytes: int = 64 * 1024
    """State input/output and execution input/output, as compact JSON."""
    max_request_bytes: int = 1024 * 1024
    max_parallel_branches: int = 50
    max_map_concurrency: int = 40
    default_map_concurrency: int = 40
    """What ``MaxConcurrency`` absent or 0 means."""
    max_history_events: int = 25_000
    max_task_timeout_seconds: int = 604_800
    max_retry_interval_seconds: int = 86_400
    standard_max_seconds: int = STANDARD_MAX_SECONDS
    express_max_seconds: int = EXPRESS_MAX_SECONDS
    max_global_key_bytes: int = 128
    max_global_value_bytes: int = 256 * 1024


DEFAULT_LIMITS = Limits()
