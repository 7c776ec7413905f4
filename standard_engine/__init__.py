"""The standard engine: durable Standard executions on SQLite that survive crashes."""

from standard_engine.clock import EngineClock, ManualClock, SystemClock
from standard_engine.engine import StandardEngine

__all__ = ["EngineClock", "ManualClock", "StandardEngine", "SystemClock"]
