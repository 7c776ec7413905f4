"""The web console: flows as graphs, executions step by step, served beside the gRPC API.

Start it with :func:`start_console` over a :class:`ConsoleBackend` built from the same flow
store, express host and standard engine the gRPC service uses.
"""

from gateway.console.app import ConsoleSite, build_app, start_console
from gateway.console.backend import ConsoleBackend

__all__ = ["ConsoleBackend", "ConsoleSite", "build_app", "start_console"]
