"""In-process functions for the ``FC:InvokeFunction`` action (DESIGN.md §5).

In an embedded deployment a *function* may be a plain Python callable registered by name
instead of a worker process. It receives the Task's ``body`` parameter (the *event*) as its
only argument and returns a JSON value; the Task's ``$Output`` is ``{"Body": <that value>}``.

A function fails with a *named* error (which Retry and Catch rules match) by raising
:class:`FunctionError`, or any exception with a string ``error_code`` attribute. Any other
exception becomes ``FC.Unknown`` (cloudflow-reference.md §1.7).

Plain (``def``) functions are called directly **on the event loop**: they must be quick and
must not block. Anything slow or blocking belongs in an ``async def`` function (for
instance one that awaits ``asyncio.to_thread``) or in a worker process.
"""

from __future__ import annotations

import copy
import importlib
import inspect
import json
import re
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any, Final, TypeVar, overload

from gateway.integrations._runtime_error import runtime_error
from shared.errors import FC_FUNCTION_NOT_FOUND, FC_UNKNOWN, FlowFailure
from shared.ports import TaskRequest

__all__ = [
    "FC_INVOKE_FUNCTION",
    "Function",
    "FunctionError",
    "FunctionInvoker",
    "FunctionRegistry",
    "function_name",
]

FC_INVOKE_FUNCTION: Final = "FC:InvokeFunction"
"""The Task ``Action`` this module implements."""

Function = Callable[[Any], Any]
"""A registered function: takes the event and returns a JSON value or an awaitable of one."""

_F = TypeVar("_F", bound=Function)

# Function Compute's naming rule; it also guarantees the name fits in a resource ARN.
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,127}")

# acs:fc:{region}:{account}:functions/{name}[/{qualifier}] and the FC 2.0 form
# acs:fc:{region}:{account}:services/{service}[.{qualifier}]/functions/{name}.
_ARN = re.compile(r"acs:fc:[^:/]*:[^:/]*:(?:services/[^/]+/)?functions/(?P<name>[^/]+)(?:/[^/]+)?")

# How many registered names a FunctionNotFound cause lists, to help spot a typo.
_NAMES_IN_CAUSE = 20


class FunctionError(Exception):
    """Raised by a function to fail its Task with a named error, e.g. ``CardDeclined``.

    The name and detail reach Retry and Catch unchanged, as ``Code`` and ``Detail``.
    """

    def __init__(self, code: str, detail: str = "") -> None:
        if not code:
            raise ValueError("a FunctionError needs a non-empty error code")
        super().__init__(f"{code}: {detail}" if detail else code)
        self.error_code = code
        """The error name that Retry and Catch rules match."""
        self.detail = detail
        """The human-readable cause."""


class FunctionRegistry:
    """Python callables by function name, the functions ``FC:InvokeFunction`` can call."""

    def __init__(self) -> None:
        self._functions: dict[str, Function] = {}

    @overload
    def register(self, name: str, fn: _F) -> _F: ...

    @overload
    def register(self, name: str) -> Callable[[_F], _F]: ...

    def register(self, name: str, fn: _F | None = None) -> _F | Callable[[_F], _F]:
        """Register ``fn`` under ``name``; without ``fn``, return a decorator that does.

        Raises ``ValueError`` for a name that breaks Function Compute's naming rule (letters,
        digits, ``_`` and ``-``, starting with a letter or ``_``, at most 128 characters) or
        that is already taken by a different callable.
        """
        if fn is None:

            def decorator(function: _F) -> _F:
                return self.register(name, function)

            return decorator
        self._check_free(name, fn)
        self._functions[name] = fn
        return fn

    def register_module(self, module: ModuleType) -> list[str]:
        """Register every public top-level function of ``module`` under its own name.

        With an ``__all__``, the functions it lists; without one, the functions defined in
        the module (not imported into it) whose names do not start with ``_``. Either every
        function is registered or, on a name conflict, none is. Returns the names, sorted.
        """
        found = _public_functions(module)
        for name, fn in found.items():
            self._check_free(name, fn)
        self._functions.update(found)
        return sorted(found)

    def load_module(self, dotted_name: str) -> list[str]:
        """Import ``dotted_name`` and :meth:`register_module` it (the CLI's ``--functions``)."""
        return self.register_module(importlib.import_module(dotted_name))

    def get(self, name: str) -> Function | None:
        """The function registered under ``name``, or ``None``."""
        return self._functions.get(name)

    def names(self) -> list[str]:
        """Every registered name, sorted."""
        return sorted(self._functions)

    def __contains__(self, name: object) -> bool:
        return name in self._functions

    def __len__(self) -> int:
        return len(self._functions)

    def _check_free(self, name: str, fn: Function) -> None:
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise ValueError(
                f"invalid function name {name!r}: use letters, digits, '_' and '-', "
                "starting with a letter or '_', at most 128 characters"
            )
        if not callable(fn):
            raise ValueError(f"function {name!r} is not callable: {fn!r}")
        existing = self._functions.get(name)
        # Registering the same callable twice is harmless (e.g. a module loaded twice).
        if existing is not None and existing is not fn:
            raise ValueError(f"a different function is already registered as {name!r}")


class FunctionInvoker:
    """Runs ``FC:InvokeFunction`` Tasks against a :class:`FunctionRegistry`.

    Implements :class:`shared.ports.TaskInvoker` for this one action.
    """

    def __init__(self, registry: FunctionRegistry) -> None:
        self._registry = registry

    @property
    def registry(self) -> FunctionRegistry:
        return self._registry

    async def invoke(self, request: TaskRequest) -> dict[str, Any]:
        """Call the function named by the Parameters with their ``body``; return ``{"Body": …}``.

        ``invocationType`` is accepted but a RequestComplete Task always waits for the
        result, as Function Compute's ``Sync`` invocation does.
        """
        name = function_name(request)
        fn = self._registry.get(name)
        if fn is None:
            raise FlowFailure.of(FC_FUNCTION_NOT_FOUND, self._not_found_cause(name))
        # The engine keeps using its own copy of the input; the function must not alter it.
        event = copy.deepcopy(request.parameters.get("body", {}))
        result = await _call(name, fn, event)
        return {"Body": _as_json(name, result)}

    def _not_found_cause(self, name: str) -> str:
        known = self._registry.names()
        if not known:
            return f"function {name!r} is not registered (no functions are registered)"
        listed = ", ".join(known[:_NAMES_IN_CAUSE])
        more = f" and {len(known) - _NAMES_IN_CAUSE} more" if len(known) > _NAMES_IN_CAUSE else ""
        return f"function {name!r} is not registered; registered functions: {listed}{more}"


def function_name(request: TaskRequest) -> str:
    """The function a Task calls: Parameters ``functionName``, else from ``resourceArn``.

    A qualifier in the ARN (``LATEST``, a version, an alias) is accepted and ignored:
    in-process functions have no versions. Raises ``FnF.RuntimeError`` when neither
    parameter gives a name.
    """
    parameters: Mapping[str, Any] = request.parameters
    name = parameters.get("functionName")
    if name is not None:
        if not isinstance(name, str) or not name:
            raise runtime_error(
                request, f"Parameters.functionName must be a non-empty string, got {name!r}"
            )
        return name
    arn = parameters.get("resourceArn")
    if arn is None:
        raise runtime_error(
            request, "Parameters need functionName or resourceArn to name the function"
        )
    match = _ARN.fullmatch(arn) if isinstance(arn, str) else None
    if match is None:
        raise runtime_error(
            request,
            f"Parameters.resourceArn {arn!r} is not a function ARN; expected "
            "acs:fc:{region}:{account}:functions/{name}[/LATEST] or "
            "acs:fc:::services/{service}.LATEST/functions/{name}",
        )
    return match["name"]


async def _call(name: str, fn: Function, event: Any) -> Any:
    """Run ``fn(event)``, awaiting the result when it is awaitable; map its failures.

    Only ``Exception`` is caught: ``asyncio.CancelledError`` (a ``BaseException``) and
    ``KeyboardInterrupt`` propagate untouched.
    """
    try:
        result = fn(event)
        # Covers ``async def`` functions and sync wrappers (partials, lambdas) returning one.
        if inspect.isawaitable(result):
            result = await result
    except FlowFailure:
        raise  # Already a named flow error.
    except Exception as exc:
        raise _failure_from(name, exc) from exc
    return result


def _failure_from(name: str, exc: Exception) -> FlowFailure:
    code = getattr(exc, "error_code", None)
    if isinstance(code, str) and code:
        detail = getattr(exc, "detail", None)
        return FlowFailure.of(code, detail if isinstance(detail, str) else str(exc))
    return FlowFailure.of(FC_UNKNOWN, f"function {name!r} raised {_describe(exc)}")


def _as_json(name: str, result: Any) -> Any:
    """``result`` as the engine will store it: a fresh, plain JSON value.

    The round trip detaches the result from objects the function may keep and changes it
    exactly as JSON does (tuples become arrays, non-string keys become strings).
    """
    try:
        return json.loads(json.dumps(result, allow_nan=False))
    except (TypeError, ValueError, RecursionError) as exc:
        raise FlowFailure.of(
            FC_UNKNOWN,
            f"function {name!r} returned a value that is not JSON-serialisable: {_describe(exc)}",
        ) from exc


def _describe(exc: BaseException) -> str:
    message = str(exc)
    kind = type(exc).__qualname__
    return f"{kind}: {message}" if message else kind


def _public_functions(module: ModuleType) -> dict[str, Function]:
    exported = getattr(module, "__all__", None)
    if exported is not None:
        candidates = {name: getattr(module, name, None) for name in exported}
        return {name: fn for name, fn in candidates.items() if inspect.isfunction(fn)}
    return {
        name: fn
        for name, fn in vars(module).items()
        if not name.startswith("_")
        and inspect.isfunction(fn)
        # Skip functions imported from elsewhere (``from json import dumps``).
        and fn.__module__ == module.__name__
    }
