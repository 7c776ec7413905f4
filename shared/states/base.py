"""What every state has in common: its plan fields, its data-flow pipeline, its compilation.

The data flow of one state (DESIGN.md §3): raw input → ``InputConstructor`` (replaces the
input) → the state's work → ``GlobalConstructor`` (sees the raw ``$Output``, merges into
``$Global``) → ``OutputConstructor`` (sees ``$Input``, ``$Output``, ``$Context`` and the
``$Global`` from *before* the merge) → the next state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Final

from shared import errors
from shared.context import RunContext
from shared.errors import FlowError
from shared.fdl.problems import Loc, Problems
from shared.limits import Limits
from shared.outcomes import Advance, Failed, RetryAfter
from shared.templates import EvaluationError, Template, compile_template
from shared.values import json_size

if TYPE_CHECKING:
    from shared.plan import ScopePlan

__all__ = [
    "INPUT_VARIABLES",
    "ITEM_VARIABLES",
    "OUTPUT_VARIABLES",
    "CompileContext",
    "StateBase",
    "StateFailure",
]

INPUT_VARIABLES: Final = frozenset({"$Input", "$Context", "$Global"})
OUTPUT_VARIABLES: Final = INPUT_VARIABLES | {"$Output"}
ITEM_VARIABLES: Final = INPUT_VARIABLES | {"$Item", "$Index"}

COMMON_FIELDS: Final = frozenset({"Name", "Type", "Description", "InputConstructor"})
OUTPUT_FIELDS: Final = frozenset({"OutputConstructor", "GlobalConstructor"})
TRANSITION_FIELDS: Final = frozenset({"Next", "End"})


class StateFailure(Exception):
    """Internal: unwinds state semantics to the point that turns it into :class:`Failed`."""

    def __init__(self, error: FlowError) -> None:
        super().__init__(error.cause)
        self.error = error


@dataclass(frozen=True, slots=True, kw_only=True)
class StateBase:
    """The fields and pipeline shared by the eight state types."""

    type_name: ClassVar[str] = ""
    has_rules: ClassVar[bool] = False
    """True for the states that accept Retry and Catch (Task, Parallel, Map)."""

    name: str
    index: int
    """Position in its scope's ``states``: what ``next`` values point at."""
    next: int | None
    """The next state's index in the same scope; ``None`` when the state ends its scope."""
    input_constructor: Template | None = None
    output_constructor: Template | None = None
    global_constructor: Template | None = None

    # -- the pipeline ------------------------------------------------------------------

    def prepare_input(self, raw_input: Any, run: RunContext, retry_count: int) -> Any:
        """Apply the InputConstructor (``$Input`` is the raw input); raises StateFailure."""
        constructor = self.input_constructor
        if constructor is None:
            return raw_input
        variables: dict[str, Any] = {"$Input": raw_input, "$Global": run.globals}
        if constructor.uses_context:
            variables["$Context"] = run.context_value(self.name, raw_input, retry_count)
        value = self._build(constructor, "InputConstructor", variables, run)
        self._check_size(value, "input", run.limits)
        return value

    def finish(
        self, state_input: Any, raw_output: Any, run: RunContext, retry_count: int = 0
    ) -> Advance | Failed:
        """Apply GlobalConstructor and OutputConstructor to the raw output of the state's work."""
        try:
            return self.advance(state_input, raw_output, run, retry_count, self.next, fresh=True)
        except StateFailure as failure:
            return Failed(failure.error)

    def advance(
        self,
        state_input: Any,
        raw_output: Any,
        run: RunContext,
        retry_count: int,
        next_index: int | None,
        *,
        fresh: bool = False,
    ) -> Advance:
        """The output pipeline, going to ``next_index``; raises StateFailure.

        ``fresh`` says the raw output is new data (a task's result, branch outputs) whose
        size was never checked; an output that is the state's own input already was.
        """
        new_globals: dict[str, Any] | None = None
        if self.global_constructor is not None or self.output_constructor is not None:
            variables: dict[str, Any] = {
                "$Input": state_input,
                "$Output": raw_output,
                "$Global": run.globals,
            }
            if self._uses_context_after():
                variables["$Context"] = run.context_value(
                    self.name, state_input, retry_count, output=raw_output
                )
            if self.global_constructor is not None:
                update = self._build(self.global_constructor, "GlobalConstructor", variables, run)
                new_globals = self._merge_globals(update, run)
            if self.output_constructor is not None:
                output = self._build(self.output_constructor, "OutputConstructor", variables, run)
                self._check_size(output, "output", run.limits)
                return Advance(output, next_index, new_globals)
        if fresh:
            self._check_size(raw_output, "output", run.limits)
        return Advance(raw_output, next_index, new_globals)

    def recover(
        self, state_input: Any, error: FlowError, run: RunContext, retries: tuple[int, ...]
    ) -> RetryAfter | Advance | Failed:
        """Apply Retry then Catch to a failure; states without rules just fail."""
        return Failed(error)

    # -- helpers for the state types ---------------------------------------------------

    def runtime_error(self, message: str) -> StateFailure:
        return StateFailure(FlowError(errors.RUNTIME_ERROR, f"state '{self.name}': {message}"))

    def _build(
        self, template: Template, field: str, variables: Mapping[str, Any], run: RunContext
    ) -> Any:
        try:
            return template.build(variables, run.entropy)
        except EvaluationError as exc:
            raise self.runtime_error(f"{field}.{exc.describe()}") from None

    def _check_size(self, value: Any, what: str, limits: Limits) -> None:
        size = self._size(value, f"the {what}")
        if size > limits.max_payload_bytes:
            raise self.runtime_error(
                f"the {what} is {size} bytes, over the limit of {limits.max_payload_bytes} bytes"
            )

    def _size(self, value: Any, what: str) -> int:
        try:
            return json_size(value)
        except (TypeError, ValueError) as exc:  # NaN, or an integer too long to write out
            raise self.runtime_error(f"{what} is not valid JSON ({exc})") from None
        except RecursionError:  # data nested almost as deep as the JSON parser allows
            raise self.runtime_error(f"{what} is nested too deeply") from None

    def _merge_globals(self, update: Any, run: RunContext) -> dict[str, Any]:
        if not isinstance(update, dict):  # pragma: no cover - compile_template yields mappings
            raise self.runtime_error("GlobalConstructor must produce a mapping")
        limits = run.limits
        for key, value in update.items():
            if len(key.encode("utf-8")) > limits.max_global_key_bytes:
                raise self.runtime_error(
                    f"GlobalConstructor key '{key[:40]}' is over {limits.max_global_key_bytes} bytes"
                )
            if (
                self._size(value, f"GlobalConstructor value of '{key}'")
                > limits.max_global_value_bytes
            ):
                raise self.runtime_error(
                    f"GlobalConstructor value of '{key}' is over {limits.max_global_value_bytes} bytes"
                )
        return {**run.globals, **update}

    def _uses_context_after(self) -> bool:
        # Written out rather than any(...) over a tuple: this runs on every transition.
        g, o = self.global_constructor, self.output_constructor
        return (g is not None and "$Context" in g.variables) or (
            o is not None and "$Context" in o.variables
        )


@dataclass(slots=True)
class CompileContext:
    """What compiling one state needs from the compiler around it."""

    problems: Problems
    limits: Limits
    express: bool
    """True when the flow is compiled for Express mode (stricter rules)."""
    resolve: Callable[[Any, Loc], int | None]
    """Resolves a transition target name in the current scope to an index (reports problems)."""
    compile_scope: Callable[[Any, Loc, str], ScopePlan | None]
    """Compiles a nested scope (a Parallel branch or a Map processor)."""
    broken_transitions: int = 0
    """Transitions of this scope that are missing or name no state (reachability is then moot)."""

    def constructor(
        self,
        node: Mapping[str, Any],
        name: str,
        loc: Loc,
        allowed: frozenset[str] = INPUT_VARIABLES,
    ) -> Template | None:
        if name not in node:
            return None
        return compile_template(node[name], loc.key(name), self.problems, allowed, name)

    def common(self, node: Mapping[str, Any], loc: Loc, *, output: bool = True) -> dict[str, Any]:
        """The constructors every state may carry, as keyword arguments for its plan node."""
        result: dict[str, Any] = {
            "input_constructor": self.constructor(node, "InputConstructor", loc)
        }
        if output:
            result["output_constructor"] = self.constructor(
                node, "OutputConstructor", loc, OUTPUT_VARIABLES
            )
            result["global_constructor"] = self.constructor(
                node, "GlobalConstructor", loc, OUTPUT_VARIABLES
            )
        return result

    def transition(self, node: Mapping[str, Any], loc: Loc) -> int | None:
        """Resolve ``Next``/``End``: exactly one of them must be given."""
        problems = self.problems
        end = problems.boolean(node, "End", loc)
        has_next = "Next" in node
        if has_next and end:
            problems.add(
                loc.key("Next"), "a state cannot have both Next and End: true; keep one of them"
            )
            # Resolve Next all the same: an unknown target is a problem too, and the state
            # it names must not be reported as unreachable.
        if has_next:
            return self.resolve(node["Next"], loc.key("Next"))
        if not end and "End" not in node:
            problems.add(loc, "the state needs either Next (the state to go to) or End: true")
            self.broken_transitions += 1
        elif end is False:
            problems.add(
                loc.key("End"), "End: false needs a Next (the state to go to); or set End: true"
            )
            self.broken_transitions += 1
        return None
