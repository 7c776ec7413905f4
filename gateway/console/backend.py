"""What the console can do, as calls on the same objects the gRPC API uses.

:class:`ConsoleBackend` is to the web console what ``CloudFlowServicer`` is to gRPC: a thin
adapter over the :class:`~gateway.flows.FlowStore`, the :class:`~gateway.express.ExpressHost`
and the Standard engine (any :class:`~gateway.standard.StandardBackend`). It adds only what a
page needs and the API does not: validation problems as data (line, location, message), the
graph layout of a flow, the per-state progress of an execution, and filtered history pages.
Every method returns JSON-ready values and raises :class:`shared.errors.ServiceError`
subclasses, which the HTTP layer turns into statuses in one place.
"""

from __future__ import annotations

import functools
import json
from typing import Any, Final

from cachetools import LRUCache

from gateway.console.graph import flow_layout, state_parents
from gateway.console.history import ProgressCache, event_filter, page_events
from gateway.console.progress import ExecutionProgress
from gateway.express import ExpressHost, parse_input
from gateway.flows import Flow, FlowStore, check_name, page_size_of
from gateway.standard import StandardBackend, no_standard_engine
from shared.compiler import check_flow, compile_flow
from shared.errors import InvalidArgument, InvalidDefinition, WrongMode
from shared.fdl.problems import Problem
from shared.limits import DEFAULT_LIMITS, Limits
from shared.plan import ExecutionMode, FlowPlan
from shared.results import ExecutionInfo, ExecutionStatus, HistoryEvent

__all__ = ["ConsoleBackend", "DefinitionProblems"]

MAX_EXECUTIONS_PAGE: Final = 99
MAX_EVENTS_PAGE: Final = 500
STOP_CAUSE: Final = "stopped from the console"
_CACHED_PLANS: Final = 256


class DefinitionProblems(InvalidDefinition):
    """An invalid definition, with its problems as data (the page marks their lines)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__([str(p) for p in problems])
        self.items = problems


class ConsoleBackend:
    """Flows, executions and their history, as the console's JSON API needs them."""

    def __init__(
        self,
        flows: FlowStore,
        express: ExpressHost,
        standard: StandardBackend | None = None,
        *,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        self._flows = flows
        self._express = express
        self._standard = standard
        self._limits = limits
        self._plans: LRUCache[tuple[str, int], FlowPlan] = LRUCache(maxsize=_CACHED_PLANS)
        self._layouts: LRUCache[tuple[str, int], dict[str, Any]] = LRUCache(maxsize=_CACHED_PLANS)
        self._progress = ProgressCache()

    @property
    def has_standard(self) -> bool:
        """True when Standard executions can be started and inspected."""
        return self._standard is not None

    # -- flows -----------------------------------------------------------------------------

    async def list_flows(self, page_size: int, page_token: str) -> dict[str, Any]:
        flows, token = await self._flows.list(page_size, page_token)
        return {"flows": [_flow_json(f, definition=False) for f in flows], "nextPageToken": token}

    async def get_flow(self, name: str) -> dict[str, Any]:
        return _flow_json(await self._flows.get(name), definition=True)

    def validate(self, definition: str, mode: ExecutionMode) -> list[dict[str, Any]]:
        """Every problem of ``definition``, each with its line, location and message."""
        return [_problem_json(p) for p in check_flow(definition, mode, self._limits)]

    async def create_flow(
        self, name: str, definition: str, description: str, mode: ExecutionMode
    ) -> dict[str, Any]:
        check_name(name, "flow name")
        self._check(definition, mode)
        return _flow_json(await self._flows.create(name, definition, description, mode), True)

    async def update_flow(
        self, name: str, definition: str | None, description: str | None
    ) -> dict[str, Any]:
        if definition is not None:
            self._check(definition, (await self._flows.get(name)).mode)
        return _flow_json(await self._flows.update(name, definition, description), True)

    async def delete_flow(self, name: str) -> None:
        await self._flows.delete(name)

    async def graph(self, name: str) -> dict[str, Any]:
        """The layout of the flow's current revision (see :mod:`gateway.console.graph`)."""
        flow = await self._flows.get(name)
        key = (flow.flow_id, flow.revision)
        layout = self._layouts.get(key)
        if layout is None:
            layout = flow_layout(self._plan(flow)).to_json()
            layout["revision"] = flow.revision
            self._layouts[key] = layout
        return layout

    # -- executions ------------------------------------------------------------------------

    async def start(self, flow_name: str, execution_name: str, input_text: str) -> dict[str, Any]:
        """Start an execution. A Standard one is returned running; an Express one runs to its
        end first (as StartSyncExecution does), and its result is returned."""
        flow = await self._flows.get(flow_name)
        parse_input(input_text)
        if flow.mode is ExecutionMode.EXPRESS:
            result = await self._express.start_sync(flow, execution_name, input_text, None)
            return {"mode": "Express", "result": result.summary()}
        name = check_name(execution_name, "execution name") if execution_name else None
        info = await self._standard_backend().start_execution(
            flow.name, flow.revision, flow.definition, name, input_text or "{}"
        )
        return {"mode": "Standard", "execution": _execution_json(info)}

    async def list_executions(
        self,
        flow_name: str,
        *,
        status: str,
        name_prefix: str,
        started_after: float | None,
        started_before: float | None,
        page_size: int,
        page_token: str,
    ) -> dict[str, Any]:
        flow, backend = await self._standard_flow(flow_name)
        executions, token = await backend.list_executions(
            flow.name,
            status=_status(status),
            name_prefix=name_prefix,
            started_after=started_after,
            started_before=started_before,
            page_size=page_size_of(page_size, MAX_EXECUTIONS_PAGE, "ListExecutions"),
            page_token=page_token,
        )
        return {"executions": [_execution_json(e) for e in executions], "nextPageToken": token}

    async def execution(self, flow_name: str, execution_name: str) -> dict[str, Any]:
        """The execution and what happened to each of its states so far."""
        flow, info, progress = await self._progress_of(flow_name, execution_name)
        return {
            "execution": _execution_json(info),
            "flowRevision": flow.revision,
            "progress": progress.to_json(),
        }

    async def state(self, flow_name: str, execution_name: str, state_name: str) -> dict[str, Any]:
        """One state's detail: its counts, last input and output, error and failed attempts."""
        _, _, progress = await self._progress_of(flow_name, execution_name)
        state = progress.states.get(state_name)
        if state is None:
            raise InvalidArgument(f"flow {flow_name!r} has no state named {state_name!r}")
        return state.detail()

    async def events(
        self,
        flow_name: str,
        execution_name: str,
        *,
        page_size: int,
        page_token: str,
        category: str,
        state: str,
    ) -> dict[str, Any]:
        """One page of the execution's history, optionally only one kind or one state's."""
        flow, backend = await self._standard_flow(flow_name)
        if not 1 <= page_size <= MAX_EVENTS_PAGE:
            raise InvalidArgument(f"page_size must be from 1 to {MAX_EVENTS_PAGE}, not {page_size}")
        fetch = functools.partial(backend.get_execution_history, flow.name, execution_name)
        events, token = await page_events(
            fetch, page_size, page_token, event_filter(category, state)
        )
        return {"events": [_event_json(e) for e in events], "nextPageToken": token}

    async def stop(self, flow_name: str, execution_name: str) -> dict[str, Any]:
        flow, backend = await self._standard_flow(flow_name)
        info = await backend.stop_execution(flow.name, execution_name, "", STOP_CAUSE)
        return {"execution": _execution_json(info)}

    # -- internals -------------------------------------------------------------------------

    def _check(self, definition: str, mode: ExecutionMode) -> None:
        problems = check_flow(definition, mode, self._limits)
        if problems:
            raise DefinitionProblems(problems)

    def _plan(self, flow: Flow) -> FlowPlan:
        key = (flow.flow_id, flow.revision)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = compile_flow(flow.definition, flow.mode, self._limits)
        return plan

    async def _progress_of(
        self, flow_name: str, execution_name: str
    ) -> tuple[Flow, ExecutionInfo, ExecutionProgress]:
        flow, backend = await self._standard_flow(flow_name)
        # Described first: if it has finished, its last event is written before we read.
        info = await backend.describe_execution(flow.name, execution_name)
        fetch = functools.partial(backend.get_execution_history, flow.name, execution_name)
        progress = await self._progress.progress(
            (flow.name, execution_name),
            info.started_at,
            info.status.finished,
            # The current revision's nesting; an execution of an older one is shown on it too.
            state_parents(self._plan(flow)),
            fetch,
        )
        return flow, info, progress

    async def _standard_flow(self, flow_name: str) -> tuple[Flow, StandardBackend]:
        flow = await self._flows.get(flow_name)
        if flow.mode is not ExecutionMode.STANDARD:
            raise WrongMode(
                f"flow {flow.name!r} is an Express flow: its executions run to their end when "
                "started and keep no history to list or inspect"
            )
        return flow, self._standard_backend()

    def _standard_backend(self) -> StandardBackend:
        if self._standard is None:
            raise no_standard_engine()
        return self._standard


def _status(text: str) -> ExecutionStatus | None:
    if not text:
        return None
    try:
        return ExecutionStatus(text)
    except ValueError:
        names = ", ".join(s.value for s in ExecutionStatus)
        raise InvalidArgument(f"status must be one of {names}, not {text!r}") from None


def _flow_json(flow: Flow, definition: bool) -> dict[str, Any]:
    value: dict[str, Any] = {
        "name": flow.name,
        "mode": flow.mode.value,
        "revision": flow.revision,
        "description": flow.description,
        "createdAt": flow.created_at,
        "modifiedAt": flow.modified_at,
    }
    if definition:
        value["definition"] = flow.definition
    return value


def _problem_json(problem: Problem) -> dict[str, Any]:
    return {"line": problem.line, "location": problem.location, "message": problem.message}


def _execution_json(info: ExecutionInfo) -> dict[str, Any]:
    return {
        "name": info.name,
        "flowName": info.flow_name,
        "flowRevision": info.flow_revision,
        "status": info.status.value,
        "input": _json_value(info.input),
        "output": _json_value(info.output),
        "errorCode": info.error_code,
        "errorMessage": info.error_message,
        "startedAt": info.started_at,
        "stoppedAt": info.stopped_at,
    }


def _event_json(event: HistoryEvent) -> dict[str, Any]:
    return {
        "id": event.event_id,
        "type": event.type,
        "state": event.step_name,
        "time": event.time,
        "detail": _json_value(event.detail),
        "scheduleEventId": event.schedule_event_id,
    }


def _json_value(text: str | None) -> Any:
    if text is None or text == "":
        return None
    try:
        return json.loads(text)
    except ValueError:  # not JSON after all: show it as it is
        return text
