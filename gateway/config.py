"""Settings of a CloudFlow server: where it listens, where it stores, what it allows.

One frozen dataclass, built by ``cloudflow serve`` from its flags and the environment, or by a
test or an embedding program directly. Nothing in it is read from the environment implicitly:
:func:`token_from_environment` is the one explicit helper, so a server started in a test never
picks up a token from the developer's shell.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from shared.limits import DEFAULT_LIMITS, Limits

__all__ = [
    "DEFAULT_DB_PATH",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "TOKEN_ENV",
    "ServerConfig",
    "token_from_environment",
]

DEFAULT_HOST: Final = "127.0.0.1"
"""Loopback: a server without a token must be exposed on purpose (``--host 0.0.0.0``)."""
DEFAULT_PORT: Final = 50051
"""The port gRPC examples and tools conventionally use."""
DEFAULT_DB_PATH: Final = Path("cloudflow.db")
TOKEN_ENV: Final = "CLOUDFLOW_TOKEN"
"""The bearer token, for the server (to require it) and the CLI (to send it)."""


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """Everything a server needs to start; the defaults are the one-process deployment."""

    host: str = DEFAULT_HOST
    """The address to listen on."""
    port: int = DEFAULT_PORT
    """The TCP port; 0 picks a free one (the started server reports which)."""
    db_path: Path = DEFAULT_DB_PATH
    """The SQLite file that holds flows (created if missing)."""
    token: str | None = None
    """When set, every call but health checks needs ``authorization: Bearer <token>``."""
    tls_cert: Path | None = None
    """PEM certificate chain; with ``tls_key``, the server speaks TLS only."""
    tls_key: Path | None = None
    """PEM private key of ``tls_cert``."""
    limits: Limits = DEFAULT_LIMITS
    """Payload and request size limits, and the limits flows are validated against."""
    max_running_express: int = 10_000
    """Express executions in progress at once; more are refused with RESOURCE_EXHAUSTED."""
    max_concurrent_rpcs: int | None = None
    """Calls in progress at once; gRPC refuses more with RESOURCE_EXHAUSTED. None: no limit."""
    grace_seconds: float = 30.0
    """On SIGTERM: how long in-flight calls may take to finish before they are cancelled."""
    reuse_port: bool = False
    """Set SO_REUSEPORT so several server processes can share one port (off by default, so that
    starting a second server on a busy port fails instead of silently sharing it)."""
    telemetry: str = "none"
    """Trace exporter: ``none``, ``console`` or ``otlp``."""
    functions_modules: tuple[str, ...] = ()
    """Python modules whose public functions serve ``FC:InvokeFunction`` in-process."""
    allowed_http_hosts: frozenset[str] | None = None
    """Hosts ``HTTP:Request`` tasks may call; None allows every host."""
    plan_cache_size: int = 4096
    """Compiled plans kept in memory (one per flow revision in use)."""
    console_port: int | None = 8080
    """The web console's HTTP port (0: a free one); None: no console."""
    metrics_exporter: str = "none"
    """Where metrics go besides the console's /metrics: ``none``, ``console`` or ``otlp``."""
    retention_seconds: float | None = None
    """Finished Standard executions older than this are purged (None: kept until deleted)."""

    def __post_init__(self) -> None:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("TLS needs both a certificate and a key (tls_cert and tls_key)")
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port must be from 0 to 65535, not {self.port}")
        if self.grace_seconds < 0:
            raise ValueError("grace_seconds must not be negative")
        if self.token is not None and not self.token.strip():
            raise ValueError("the auth token must not be empty")

    @property
    def address(self) -> str:
        """``host:port`` as gRPC expects it (IPv6 hosts in brackets)."""
        host = f"[{self.host}]" if ":" in self.host and not self.host.startswith("[") else self.host
        return f"{host}:{self.port}"

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None


def token_from_environment() -> str | None:
    """The token in ``$CLOUDFLOW_TOKEN``, or None when it is unset or empty."""
    value = os.environ.get(TOKEN_ENV, "").strip()
    return value or None
