"""The console's HTTP side: a JSON API under ``/api``, the page's static files, ``/metrics``.

Each handler reads its parameters, makes one :class:`~gateway.console.backend.ConsoleBackend`
call and answers JSON. Errors are turned into HTTP statuses in one place
(:func:`_errors`), with the same stable codes the gRPC API sends (``FlowNotFound``...).

With a token configured, every ``/api`` and ``/metrics`` request needs
``Authorization: Bearer <token>`` (the page asks for it once and keeps it for the browser
session); the static files load without it, as they hold no data.
"""

from __future__ import annotations

import hmac
import json
import logging
import math
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from aiohttp import web

from gateway.console.backend import ConsoleBackend, DefinitionProblems
from gateway.console.history import EVENT_FILTERS
from gateway.metrics import PrometheusReader
from shared.errors import (
    ExecutionAlreadyExists,
    ExecutionNotFound,
    FlowAlreadyExists,
    FlowNotFound,
    InvalidArgument,
    InvalidDefinition,
    Overloaded,
    PayloadTooLarge,
    ServiceError,
    TaskNotWaiting,
    WrongMode,
)
from shared.plan import ExecutionMode

__all__ = ["ConsoleSite", "build_app", "start_console"]

log = logging.getLogger("cloudflow.console")

STATIC_DIR: Final = Path(__file__).parent / "static"
PROMETHEUS_CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"
MAX_BODY_BYTES: Final = 2 * 1024 * 1024
"""A flow definition or an execution input, with room to spare (the engines check the limits)."""
SHUTDOWN_SECONDS: Final = 5.0

# Ordered so that subclasses come before their bases (InvalidDefinition is an InvalidArgument).
_STATUS_BY_ERROR: Final[tuple[tuple[type[ServiceError], int], ...]] = (
    (InvalidArgument, 400),
    (PayloadTooLarge, 413),
    (FlowNotFound, 404),
    (ExecutionNotFound, 404),
    (FlowAlreadyExists, 409),
    (ExecutionAlreadyExists, 409),
    (WrongMode, 409),
    (TaskNotWaiting, 409),
    (Overloaded, 503),
)
_SECURITY_HEADERS: Final = {
    # Everything the page needs comes from this server: no inline script, no CDN.
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

_HTTP_CODES: Final = {
    404: "NotFound",
    405: "MethodNotAllowed",
    413: "PayloadTooLarge",
    415: "UnsupportedMediaType",
}

_BACKEND: Final = web.AppKey("backend", ConsoleBackend)
_TOKEN: Final = web.AppKey("token", str)
_METRICS: Final = web.AppKey("metrics", PrometheusReader)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(slots=True)
class ConsoleSite:
    """A running console: its port, and :meth:`stop` to close it."""

    runner: web.AppRunner
    host: str
    port: int

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    async def stop(self) -> None:
        """Stop listening and finish the requests in flight (a few seconds at most)."""
        await self.runner.cleanup()


async def start_console(
    host: str,
    port: int,
    backend: ConsoleBackend,
    token: str | None = None,
    *,
    metrics: PrometheusReader | None = None,
) -> ConsoleSite:
    """Serve the console on ``host:port`` (0: a free port, see ``.port``) until ``stop()``.

    ``token``: require ``Authorization: Bearer <token>`` on the API and ``/metrics``.
    ``metrics``: the reader whose metrics ``/metrics`` shows (without one it answers 404).
    """
    runner = web.AppRunner(
        build_app(backend, token=token, metrics=metrics),
        access_log=None,
        shutdown_timeout=SHUTDOWN_SECONDS,
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise OSError(
            f"the console cannot listen on {host}:{port}: {exc.strerror or exc}"
        ) from None
    bound = runner.addresses[0][1]
    log.info("console on http://%s:%d/", host, bound)
    return ConsoleSite(runner, host, bound)


def build_app(
    backend: ConsoleBackend, *, token: str | None = None, metrics: PrometheusReader | None = None
) -> web.Application:
    """The console as an aiohttp application (for embedding, or aiohttp's test client)."""
    app = web.Application(
        middlewares=[_security_headers, _authenticate, _errors], client_max_size=MAX_BODY_BYTES
    )
    app[_BACKEND] = backend
    if token is not None:
        app[_TOKEN] = token
    if metrics is not None:
        app[_METRICS] = metrics
    app.router.add_get("/", _index)
    app.router.add_static("/static/", STATIC_DIR, append_version=False)
    app.router.add_get("/metrics", _metrics)
    api = [
        web.get("/api/info", _info),
        web.get("/api/flows", _list_flows),
        web.post("/api/flows", _create_flow),
        web.post("/api/validate", _validate),
        web.get("/api/flows/{flow}", _get_flow),
        web.put("/api/flows/{flow}", _update_flow),
        web.delete("/api/flows/{flow}", _delete_flow),
        web.get("/api/flows/{flow}/graph", _graph),
        web.post("/api/flows/{flow}/executions", _start),
        web.get("/api/flows/{flow}/executions", _list_executions),
        web.get("/api/flows/{flow}/executions/{execution}", _execution),
        web.get("/api/flows/{flow}/executions/{execution}/state", _state),
        web.get("/api/flows/{flow}/executions/{execution}/events", _events),
        web.post("/api/flows/{flow}/executions/{execution}/stop", _stop),
    ]
    app.router.add_routes(api)
    return app


# -- middlewares -------------------------------------------------------------------------


@web.middleware
async def _security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    for name, value in _SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    # Data is never cached; the page's files are, but checked again on each load (an upgraded
    # server serves its new files at once).
    data = request.path.startswith("/api/") or request.path == "/metrics"
    response.headers.setdefault("Cache-Control", "no-store" if data else "no-cache")
    return response


@web.middleware
async def _authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    expected = request.app.get(_TOKEN)
    protected = request.path.startswith("/api/") or request.path == "/metrics"
    if expected is None or not protected:
        return await handler(request)
    presented = request.headers.get("Authorization", "")
    # Constant-time: the time taken must not tell how much of a guess was right.
    if hmac.compare_digest(presented.encode(), f"Bearer {expected}".encode()):
        return await handler(request)
    message = (
        "this console requires a bearer token: send 'Authorization: Bearer <token>'"
        if not presented
        else "the bearer token is not valid for this server"
    )
    return _error_response(401, "Unauthenticated", message, headers={"WWW-Authenticate": "Bearer"})


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except DefinitionProblems as error:
        problems = [
            {"line": p.line, "location": p.location, "message": p.message} for p in error.items
        ]
        return _error_response(400, error.code, error.message, problems=problems)
    except InvalidDefinition as error:
        problems = [{"line": None, "location": "", "message": p} for p in error.problems]
        return _error_response(400, error.code, error.message, problems=problems)
    except ServiceError as error:
        status = next((s for cls, s in _STATUS_BY_ERROR if isinstance(error, cls)), 500)
        return _error_response(status, error.code, error.message)
    except web.HTTPException as exc:
        # aiohttp's own refusals (no such route, body too large...) in the API's JSON shape.
        if exc.status < 400 or not request.path.startswith("/api/"):
            raise
        code = _HTTP_CODES.get(exc.status, "InvalidRequest")
        return _error_response(exc.status, code, exc.text or exc.reason)
    except Exception:
        incident = uuid.uuid4().hex[:12]
        log.exception(
            "incident %s: %s %s failed unexpectedly", incident, request.method, request.path
        )
        return _error_response(
            500,
            "InternalError",
            f"the server failed unexpectedly (incident {incident}; its log has the details)",
        )


def _error_response(
    status: int, code: str, message: str, *, problems: Any = None, headers: Any = None
) -> web.Response:
    error: dict[str, Any] = {"code": code, "message": message}
    if problems is not None:
        error["problems"] = problems
    return web.json_response({"error": error}, status=status, headers=headers)


# -- pages and metrics -------------------------------------------------------------------


async def _index(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC_DIR / "index.html")


async def _metrics(request: web.Request) -> web.Response:
    reader = request.app.get(_METRICS)
    if reader is None:
        return _error_response(404, "NotFound", "metrics are not enabled on this server")
    return web.Response(
        body=reader.render().encode(), headers={"Content-Type": PROMETHEUS_CONTENT_TYPE}
    )


# -- the API -----------------------------------------------------------------------------


async def _info(request: web.Request) -> web.Response:
    backend = request.app[_BACKEND]
    return web.json_response(
        {"standard": backend.has_standard, "eventFilters": list(EVENT_FILTERS)}
    )


async def _list_flows(request: web.Request) -> web.Response:
    backend = request.app[_BACKEND]
    return web.json_response(
        await backend.list_flows(_int(request, "page_size", 0), request.query.get("page_token", ""))
    )


async def _create_flow(request: web.Request) -> web.Response:
    body = await _body(request)
    flow = await request.app[_BACKEND].create_flow(
        _text(body, "name", required=True),
        _text(body, "definition", required=True),
        _text(body, "description"),
        _mode(_text(body, "mode") or "Standard"),
    )
    return web.json_response(flow, status=201)


async def _validate(request: web.Request) -> web.Response:
    body = await _body(request)
    problems = request.app[_BACKEND].validate(
        _text(body, "definition"), _mode(_text(body, "mode") or "Standard")
    )
    return web.json_response({"problems": problems})


async def _get_flow(request: web.Request) -> web.Response:
    return web.json_response(await request.app[_BACKEND].get_flow(request.match_info["flow"]))


async def _update_flow(request: web.Request) -> web.Response:
    body = await _body(request)
    definition = _text(body, "definition") if "definition" in body else None
    description = _text(body, "description") if "description" in body else None
    flow = await request.app[_BACKEND].update_flow(
        request.match_info["flow"], definition, description
    )
    return web.json_response(flow)


async def _delete_flow(request: web.Request) -> web.Response:
    await request.app[_BACKEND].delete_flow(request.match_info["flow"])
    return web.json_response({})


async def _graph(request: web.Request) -> web.Response:
    return web.json_response(await request.app[_BACKEND].graph(request.match_info["flow"]))


async def _start(request: web.Request) -> web.Response:
    body = await _body(request)
    value = body.get("input", {})
    # The input may come as JSON text (as typed) or as a value; the engines take text.
    input_text = value if isinstance(value, str) else json.dumps(value)
    started = await request.app[_BACKEND].start(
        request.match_info["flow"], _text(body, "name"), input_text
    )
    return web.json_response(started, status=201)


async def _list_executions(request: web.Request) -> web.Response:
    query = request.query
    result = await request.app[_BACKEND].list_executions(
        request.match_info["flow"],
        status=query.get("status", ""),
        name_prefix=query.get("name_prefix", ""),
        started_after=_seconds(request, "started_after"),
        started_before=_seconds(request, "started_before"),
        page_size=_int(request, "page_size", 0),
        page_token=query.get("page_token", ""),
    )
    return web.json_response(result)


async def _execution(request: web.Request) -> web.Response:
    info = request.match_info
    return web.json_response(await request.app[_BACKEND].execution(info["flow"], info["execution"]))


async def _state(request: web.Request) -> web.Response:
    info = request.match_info
    name = request.query.get("name", "")
    if not name:
        raise InvalidArgument("name (the state's name) is required")
    return web.json_response(
        await request.app[_BACKEND].state(info["flow"], info["execution"], name)
    )


async def _events(request: web.Request) -> web.Response:
    info, query = request.match_info, request.query
    page = await request.app[_BACKEND].events(
        info["flow"],
        info["execution"],
        page_size=_int(request, "page_size", 100),
        page_token=query.get("page_token", ""),
        category=query.get("type", "all") or "all",
        state=query.get("state", ""),
    )
    return web.json_response(page)


async def _stop(request: web.Request) -> web.Response:
    await _body(request)  # a POST must be JSON, so no other site can send it from a form
    info = request.match_info
    return web.json_response(await request.app[_BACKEND].stop(info["flow"], info["execution"]))


# -- request parsing ---------------------------------------------------------------------


async def _body(request: web.Request) -> dict[str, Any]:
    """The JSON object a request carries.

    Requiring the JSON content type is what keeps other sites out: a page elsewhere can post
    a form to this server without asking, but not a JSON request (the browser asks first).
    """
    if request.content_type != "application/json":
        raise web.HTTPUnsupportedMediaType(
            text=json.dumps(
                {
                    "error": {
                        "code": "InvalidArgument",
                        "message": "send JSON (Content-Type: application/json)",
                    }
                }
            ),
            content_type="application/json",
        )
    if not request.can_read_body:
        return {}
    try:
        value = await request.json()
    except ValueError:
        raise InvalidArgument("the request body is not valid JSON") from None
    if not isinstance(value, dict):
        raise InvalidArgument("the request body must be a JSON object")
    return value


def _text(body: dict[str, Any], field: str, *, required: bool = False) -> str:
    value = body.get(field, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidArgument(f"{field} must be a string")
    if required and not value:
        raise InvalidArgument(f"{field} is required")
    return value


def _mode(text: str) -> ExecutionMode:
    try:
        return ExecutionMode(text)
    except ValueError:
        raise InvalidArgument(f"mode must be Standard or Express, not {text!r}") from None


def _int(request: web.Request, name: str, default: int) -> int:
    text = request.query.get(name, "")
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        raise InvalidArgument(f"{name} must be an integer, not {text!r}") from None


def _seconds(request: web.Request, name: str) -> float | None:
    """A time as Unix seconds (the page converts the user's local time)."""
    text = request.query.get(name, "")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise InvalidArgument(f"{name} must be a time in Unix seconds, not {text!r}")
    return value
