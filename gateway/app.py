"""The one-process deployment: every part of ``cloudflow serve``, wired together.

* Task integrations: in-process functions (``--functions``), then connected workers, for
  ``FC:InvokeFunction``; ``HTTP:Request`` (with the host allow-list); ``FNF:StartExecution``.
* The standard engine on the server's SQLite file (the flow store shares the file; their
  tables are distinct), with workers' heartbeats passed on to it.
* The TaskWorker service that workers connect to.

The express engine itself is built by :class:`~gateway.server.CloudFlowServer`, which gets
the Express side of the integrations from here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from express_engine import ExpressEngine, PlanCache
from gateway.api import worker_pb2, worker_pb2_grpc
from gateway.config import ServerConfig
from gateway.flows import Flow, FlowStore
from gateway.integrations import FunctionInvoker, FunctionRegistry, HttpInvoker, IntegrationRouter
from gateway.integrations.child_flows import ChildFlows
from gateway.integrations.functions import function_name
from gateway.workers import TaskWorkerServicer, WorkerHub
from shared.plan import ExecutionMode
from shared.ports import ExecutionObserver, TaskRequest
from shared.results import ExecutionResult
from standard_engine import StandardEngine
from standard_engine.engine import EngineLocked

__all__ = ["Application", "FunctionsThenWorkers"]

log = logging.getLogger(__name__)

WORKER_SERVICE = worker_pb2.DESCRIPTOR.services_by_name["TaskWorker"].full_name


class FunctionsThenWorkers:
    """``FC:InvokeFunction``: an in-process function of that name if there is one, else a worker."""

    def __init__(
        self, registry: FunctionRegistry, hub: WorkerHub, *, wait_for_worker: bool
    ) -> None:
        self._local = FunctionInvoker(registry)
        self._registry = registry
        self._hub = hub
        self._wait = wait_for_worker

    async def invoke(self, request: TaskRequest) -> Any:
        if function_name(request) in self._registry:
            return await self._local.invoke(request)
        return await self._hub.invoke(request, wait_for_worker=self._wait)


class _ExpressChildren:
    """Runs Express child flows for FNF:StartExecution."""

    def __init__(self, engine: ExpressEngine, plans: PlanCache) -> None:
        self._engine = engine
        self._plans = plans

    async def run_child(
        self, flow: Flow, name: str, input_value: dict[str, Any]
    ) -> ExecutionResult:
        plan = self._plans.get(flow.flow_id, flow.revision, flow.definition, ExecutionMode.EXPRESS)
        return await self._engine.run(plan, input_value, flow_name=flow.name, execution_name=name)


class Application:
    """The engines and integrations of one server process."""

    def __init__(
        self,
        config: ServerConfig,
        flows: FlowStore,
        http: HttpInvoker,
        hub: WorkerHub,
        express_invoker: IntegrationRouter,
        standard: StandardEngine | None,
    ) -> None:
        self.config = config
        self.hub = hub
        self.express_invoker = express_invoker
        self.standard = standard
        self._flows = flows
        self._http = http
        self._leases = asyncio.create_task(hub.expire_leases(), name="cloudflow-worker-leases")

    @classmethod
    async def open(
        cls, config: ServerConfig, *, observer: ExecutionObserver | None = None
    ) -> Application:
        registry = FunctionRegistry()
        for module in config.functions_modules:
            try:
                registry.load_module(module)
            except ImportError as exc:
                raise ImportError(f"cannot import the functions module {module!r}: {exc}") from exc
        http = HttpInvoker(allowed_hosts=config.allowed_http_hosts)
        hub = WorkerHub()
        flows = await FlowStore.open(config.db_path, config.limits)
        children = ChildFlows(flows)
        express_router = IntegrationRouter(
            functions=FunctionsThenWorkers(registry, hub, wait_for_worker=False),
            http=http,
            child_flows=children,
        )
        standard_router = IntegrationRouter(
            functions=FunctionsThenWorkers(registry, hub, wait_for_worker=True),
            http=http,
            child_flows=children,
        )
        standard: StandardEngine | None
        try:
            standard = await StandardEngine.open(
                config.db_path,
                standard_router,
                limits=config.limits,
                retention_seconds=config.retention_seconds,
                observer=observer,
            )
        except EngineLocked:
            if not config.reuse_port:
                await flows.close()
                await http.aclose()
                raise
            # One of several processes sharing a port and a database: another one runs the
            # standard engine; this one serves Express flows (Standard calls get a clear
            # FAILED_PRECONDITION).
            log.warning(
                "another process runs the standard engine on %s; serving Express flows only",
                config.db_path,
            )
            standard = None
        except BaseException:
            await flows.close()
            await http.aclose()
            raise
        if standard is not None:
            hub.set_heartbeat_sink(standard.report_task_heartbeat)
        children.standard = standard
        children.express = _ExpressChildren(
            ExpressEngine(express_router, limits=config.limits, observer=observer),
            PlanCache(config.plan_cache_size, config.limits),
        )
        return cls(config, flows, http, hub, express_router, standard)

    def register_worker_service(self, server: Any) -> str:
        """Adds the TaskWorker service to a gRPC server (CloudFlowServer's ``services``)."""
        worker_pb2_grpc.add_TaskWorkerServicer_to_server(  # type: ignore[no-untyped-call]
            TaskWorkerServicer(self.hub), server
        )
        return WORKER_SERVICE

    async def close(self) -> None:
        self._leases.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._leases
        if self.standard is not None:
            await self.standard.close()
        await self._flows.close()
        await self._http.aclose()
