"""The CloudFlow gRPC server: build it, start it, drain it on SIGTERM.

One process hosts everything (DESIGN.md §1): the CloudFlow service, the flow store on SQLite,
the express engine in process, and, when given one, the standard engine. Around the service:
grpc.health.v1 health checking, server reflection (so grpcurl works without .proto files),
optional bearer-token auth, optional TLS, and an OpenTelemetry interceptor when tracing is on.

``serve`` is the ``cloudflow serve`` entry point. Its contract with whoever starts it: the first
line on stdout is ``listening on HOST:PORT`` (the real port, also when 0 was asked for); SIGTERM
or SIGINT drains (health turns NOT_SERVING, new calls are refused, calls in flight get
``grace_seconds`` to finish, then the rest are cancelled) and the process exits 0.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any, Final, TextIO

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from express_engine import ExpressEngine, PlanCache
from gateway.api import cloudflow_pb2, cloudflow_pb2_grpc
from gateway.auth import BearerTokenInterceptor
from gateway.config import ServerConfig
from gateway.express import ExpressHost
from gateway.flows import FlowStore
from gateway.integrations import FunctionInvoker, FunctionRegistry, HttpInvoker, IntegrationRouter
from gateway.servicer import CloudFlowServicer
from gateway.standard import StandardBackend
from gateway.telemetry import TracingInterceptor, configure_tracing, tracing_enabled
from shared.ports import ExecutionObserver, TaskInvoker

__all__ = ["SERVICE_NAME", "CloudFlowServer", "serve"]

log = logging.getLogger("cloudflow.server")

SERVICE_NAME: Final = cloudflow_pb2.DESCRIPTOR.services_by_name["CloudFlow"].full_name

ServiceRegistration = Callable[[Any], str]
"""Adds a servicer to a grpc.aio server and returns its full service name (e.g. the TaskWorker
service): it is then served, listed by reflection and reported by health checks."""


class CloudFlowServer:
    """A started server; :meth:`start` builds one, :meth:`stop` drains and closes it."""

    def __init__(
        self,
        server: Any,
        port: int,
        flows: FlowStore,
        health_servicer: HealthService,
        owned_router: IntegrationRouter | None,
        express: ExpressHost,
    ) -> None:
        self._server = server
        self._flows = flows
        self.flows = flows
        """The flow store (the console reads and writes flows through it too)."""
        self.express = express
        """The Express executions hosted here."""
        self._health = health_servicer
        self._owned_router = owned_router
        self._stopped = False
        self.port = port
        """The TCP port the server listens on."""

    @classmethod
    async def start(
        cls,
        config: ServerConfig,
        *,
        standard: StandardBackend | None = None,
        invoker: TaskInvoker | None = None,
        services: Sequence[ServiceRegistration] = (),
        observer: ExecutionObserver | None = None,
    ) -> CloudFlowServer:
        """Open the flow store, bind the port and start serving.

        ``standard`` runs Standard flows (without it their operations answer
        FAILED_PRECONDITION). ``invoker`` runs Express flows' Tasks; by default the in-process
        functions of ``config.functions_modules`` and HTTP calls to ``allowed_http_hosts``.
        ``services`` adds further gRPC services to the same server.
        """
        flows = await FlowStore.open(config.db_path, config.limits)
        owned_router: IntegrationRouter | None = None
        try:
            if invoker is None:
                owned_router = invoker = _router(config)
            engine = ExpressEngine(
                invoker,
                limits=config.limits,
                max_running=config.max_running_express,
                observer=observer,
            )
            express = ExpressHost(engine, PlanCache(config.plan_cache_size, config.limits))
            server = grpc.aio.server(
                interceptors=_interceptors(config),
                options=_options(config),
                maximum_concurrent_rpcs=config.max_concurrent_rpcs,
            )
            cloudflow_pb2_grpc.add_CloudFlowServicer_to_server(  # type: ignore[no-untyped-call]
                CloudFlowServicer(flows, express, standard), server
            )
            names = [SERVICE_NAME, *(register(server) for register in services)]
            health_servicer = HealthService(names)
            health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
            reflection.enable_server_reflection(
                (*names, health.SERVICE_NAME, reflection.SERVICE_NAME), server
            )
            port = _bind(server, config)
            await server.start()
        except BaseException:
            await flows.close()
            if owned_router is not None:
                await owned_router.aclose()
            raise
        log.info("serving %s on %s:%d", SERVICE_NAME, config.host, port)
        return cls(server, port, flows, health_servicer, owned_router, express)

    async def stop(self, grace: float | None) -> None:
        """Drain: report NOT_SERVING, refuse new calls, give calls in flight ``grace`` seconds
        (None: cancel them at once), then release the store and the integrations."""
        if self._stopped:
            return
        self._stopped = True
        await self._health.drain()
        await self._server.stop(grace)
        await self._flows.close()
        if self._owned_router is not None:
            await self._owned_router.aclose()

    async def wait_for_termination(self) -> None:
        await self._server.wait_for_termination()


class HealthService(health_pb2_grpc.HealthServicer):  # type: ignore[misc]
    """grpc.health.v1: SERVING for the server and each of its services until the drain.

    Unlike grpcio's own servicer, a Watch stream *ends* once it has sent NOT_SERVING at the
    drain: the drain waits for every call in flight, so a load balancer's Watch stream, which
    never ends by itself, would otherwise hold every shutdown for the whole grace period.
    """

    def __init__(self, service_names: Sequence[str]) -> None:
        self._serving = {"", *service_names}
        self._draining = False
        self._changed = asyncio.Event()

    async def drain(self) -> None:
        """Report NOT_SERVING from now on and end the Watch streams once they have said so."""
        self._draining = True
        self._changed.set()

    def _status(self, service: str) -> Any:
        if service not in self._serving:
            return None
        if self._draining:
            return health_pb2.HealthCheckResponse.NOT_SERVING
        return health_pb2.HealthCheckResponse.SERVING

    async def Check(self, request: Any, context: Any) -> Any:
        status = self._status(request.service)
        if status is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"unknown service {request.service!r}")
        return health_pb2.HealthCheckResponse(status=status)

    async def Watch(self, request: Any, context: Any) -> None:
        status = self._status(request.service)
        if status is None:  # the protocol: unknown services are watched, not refused
            status = health_pb2.HealthCheckResponse.SERVICE_UNKNOWN
        await context.write(health_pb2.HealthCheckResponse(status=status))
        if not self._draining:
            await self._changed.wait()  # the only change there is: the drain
            await context.write(
                health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.NOT_SERVING)
            )


def _router(config: ServerConfig) -> IntegrationRouter:
    registry = FunctionRegistry()
    for module in config.functions_modules:
        try:
            registry.load_module(module)
        except ImportError as exc:
            raise ImportError(f"cannot import the functions module {module!r}: {exc}") from exc
    http = HttpInvoker(allowed_hosts=config.allowed_http_hosts)
    return IntegrationRouter(functions=FunctionInvoker(registry), http=http)


def _interceptors(config: ServerConfig) -> list[Any]:
    interceptors: list[Any] = []
    # Tracing outermost, so that calls refused by auth are traced too.
    if tracing_enabled():
        interceptors.append(TracingInterceptor())
    if config.token is not None:
        interceptors.append(BearerTokenInterceptor(config.token))
    return interceptors


def _options(config: ServerConfig) -> list[tuple[str, int]]:
    return [
        # gRPC refuses larger messages itself, with RESOURCE_EXHAUSTED (DESIGN.md §3 limits).
        ("grpc.max_receive_message_length", config.limits.max_request_bytes),
        # grpc enables SO_REUSEPORT by default on Linux, which would let a second server start
        # on a port that is in use and silently share it; sharing must be asked for.
        ("grpc.so_reuseport", 1 if config.reuse_port else 0),
    ]


def _bind(server: Any, config: ServerConfig) -> int:
    try:
        if config.tls_cert is not None and config.tls_key is not None:
            credentials = grpc.ssl_server_credentials(
                [(config.tls_key.read_bytes(), config.tls_cert.read_bytes())]
            )
            port: int = server.add_secure_port(config.address, credentials)
        else:
            port = server.add_insecure_port(config.address)
    except RuntimeError as exc:
        raise OSError(
            f"cannot listen on {config.address}: {exc} (is another server using the port?)"
        ) from None
    return port


# -- cloudflow serve ---------------------------------------------------------------------------


def serve(config: ServerConfig, *, out: TextIO | None = None) -> int:
    """Run a server on uvloop until SIGTERM or SIGINT, then drain; returns the exit status."""
    import uvloop

    from gateway.metrics import configure_metrics

    configure_tracing(config.telemetry)
    metrics = configure_metrics(config.metrics_exporter, prometheus=True)
    try:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(_serve(config, out or sys.stdout, metrics.prometheus if metrics else None))
    finally:
        if metrics is not None:
            metrics.shutdown()
    return 0


async def _serve(config: ServerConfig, out: TextIO, prometheus: Any) -> None:
    from gateway.app import Application
    from gateway.console import ConsoleBackend, start_console
    from gateway.metrics import MetricsObserver, observe_queue_depth, observe_running_executions

    observer = MetricsObserver()
    app = await Application.open(config, observer=observer)
    console = None
    try:
        server = await CloudFlowServer.start(
            config,
            standard=app.standard,
            invoker=app.express_invoker,
            services=[app.register_worker_service],
            observer=observer,
        )
        standard = app.standard
        if standard is not None:
            observe_running_executions("Standard", lambda: standard.running_count)
        observe_running_executions("Express", lambda: server.express.running)
        observe_queue_depth("workers", lambda: app.hub.queue_depth)
        if config.console_port is not None:
            backend = ConsoleBackend(
                server.flows, server.express, app.standard, limits=config.limits
            )
            console = await start_console(
                config.host, config.console_port, backend, token=config.token, metrics=prometheus
            )
    except BaseException:
        await app.close()
        raise
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    print(f"listening on {config.host}:{server.port}", file=out, flush=True)
    if console is not None:
        print(f"console on http://{config.host}:{console.port}/", file=out, flush=True)
    await stopping.wait()
    log.info("draining: in-flight calls have %g s to finish", config.grace_seconds)
    if console is not None:
        await console.stop()
    app.hub.disconnect_all()  # worker streams would otherwise hold the drain for its whole grace
    await server.stop(config.grace_seconds)
    await app.close()
    log.info("stopped")
