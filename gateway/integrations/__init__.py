"""Task integrations: what runs when a Task state's ``Action`` is invoked (DESIGN.md §5).

Engines call them through one :class:`shared.ports.TaskInvoker`, the
:class:`IntegrationRouter`, which hands each request to the integration of its action.
"""

from __future__ import annotations

from typing import Any

from gateway.integrations.functions import (
    FC_INVOKE_FUNCTION,
    Function,
    FunctionError,
    FunctionInvoker,
    FunctionRegistry,
)
from gateway.integrations.http import HTTP_HOST_NOT_ALLOWED, HTTP_REQUEST, HttpInvoker
from shared.errors import TASK_FAILED, FlowFailure
from shared.ports import TaskInvoker, TaskRequest

FNF_START_EXECUTION = "FNF:StartExecution"

__all__ = [
    "FC_INVOKE_FUNCTION",
    "FNF_START_EXECUTION",
    "HTTP_HOST_NOT_ALLOWED",
    "HTTP_REQUEST",
    "Function",
    "FunctionError",
    "FunctionInvoker",
    "FunctionRegistry",
    "HttpInvoker",
    "IntegrationRouter",
]


class IntegrationRouter:
    """A :class:`shared.ports.TaskInvoker` that dispatches on ``request.action``.

    An integration left as ``None`` is disabled: its Tasks fail with ``FnF.TaskFailed``.
    """

    def __init__(
        self,
        functions: TaskInvoker | None = None,
        http: HttpInvoker | None = None,
        child_flows: TaskInvoker | None = None,
    ) -> None:
        self._http = http
        routes: dict[str, TaskInvoker] = {}
        if functions is not None:
            routes[FC_INVOKE_FUNCTION] = functions
        if http is not None:
            routes[HTTP_REQUEST] = http
        if child_flows is not None:
            routes[FNF_START_EXECUTION] = child_flows
        self._routes = routes

    @property
    def actions(self) -> frozenset[str]:
        """The actions this router can run."""
        return frozenset(self._routes)

    async def invoke(self, request: TaskRequest) -> Any:
        """Run ``request`` with the integration of its action."""
        invoker = self._routes.get(request.action)
        if invoker is None:
            configured = ", ".join(sorted(self._routes)) or "none"
            raise FlowFailure.of(
                TASK_FAILED,
                f"no integration is configured for action {request.action!r} "
                f"(configured: {configured})",
            )
        return await invoker.invoke(request)

    async def aclose(self) -> None:
        """Release the integrations' resources (the HTTP connection pool)."""
        if self._http is not None:
            await self._http.aclose()
