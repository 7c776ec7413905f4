"""The express engine: in-memory, synchronous executions of Express flows."""

from express_engine.clock import Clock, Deadline, SystemClock, VirtualClock
from express_engine.engine import ExpressEngine
from express_engine.plans import PlanCache

__all__ = ["Clock", "Deadline", "ExpressEngine", "PlanCache", "SystemClock", "VirtualClock"]
