"""FDL text → validated, immutable :class:`~shared.plan.FlowPlan`.

Compilation reports *every* problem in one pass, each with its location and line, and
raises :class:`~shared.errors.InvalidDefinition` listing them; it never raises anything
else, whatever the text holds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from shared.errors import InvalidDefinition
from shared.fdl.loader import DefinitionSyntaxError, load_document
from shared.fdl.problems import Loc, Problem, Problems, describe_type, printable
from shared.limits import DEFAULT_LIMITS, Limits
from shared.plan import ExecutionMode, FlowPlan, ScopePlan, State
from shared.states.base import CompileContext
from shared.states.choice import ChoiceState, compile_choice
from shared.states.fail import compile_fail
from shared.states.map import MapState, compile_map
from shared.states.parallel import ParallelState, compile_parallel
from shared.states.pass_ import compile_pass
from shared.states.rules import RulesState
from shared.states.succeed import compile_succeed
from shared.states.task import TaskState, compile_task
from shared.states.wait import WaitState, compile_wait

__all__ = ["check_flow", "compile_flow"]

TOP_FIELDS: Final = frozenset(
    {"Type", "SpecVersion", "Name", "Description", "StartAt", "States", "Timeout"}
)
SCOPE_FIELDS: Final = frozenset({"StartAt", "States", "Description"})

StateCompiler = Callable[[Mapping[str, Any], Loc, int, CompileContext], State]

COMPILERS: Final[dict[str, StateCompiler]] = {
    "Pass": compile_pass,
    "Task": compile_task,
    "Choice": compile_choice,
    "Parallel": compile_parallel,
    "Map": compile_map,
    "Wait": compile_wait,
    "Succeed": compile_succeed,
    "Fail": compile_fail,
}


def compile_flow(
    text: str | bytes, mode: ExecutionMode = ExecutionMode.STANDARD, limits: Limits = DEFAULT_LIMITS
) -> FlowPlan:
    """Compile a definition; raises InvalidDefinition listing every problem found."""
    plan, problems = _compile(text, mode, limits)
    if problems or plan is None:
        raise InvalidDefinition(
            [str(p) for p in problems] or ["the definition could not be compiled"]
        )
    return plan


def check_flow(
    text: str | bytes, mode: ExecutionMode = ExecutionMode.STANDARD, limits: Limits = DEFAULT_LIMITS
) -> list[Problem]:
    """Every problem of a definition, in document order; empty when it is valid."""
    return _compile(text, mode, limits)[1]


def _compile(
    text: str | bytes, mode: ExecutionMode, limits: Limits
) -> tuple[FlowPlan | None, list[Problem]]:
    try:
        document = load_document(text)
    except DefinitionSyntaxError as exc:
        return None, [Problem("", exc.line, printable(exc.message))]
    problems = Problems(document)
    try:
        plan = _FlowCompiler(problems, mode, limits).compile(document.value)
    except RecursionError:
        problems.add(Loc(), "the definition is nested too deeply")
        plan = None
    found = problems.sorted()
    return (None if found else plan), found


@dataclass(frozen=True, slots=True)
class _Declared:
    """Where a state name was first declared: which scope, described for messages."""

    scope: str
    where: str


class _FlowCompiler:
    def __init__(self, problems: Problems, mode: ExecutionMode, limits: Limits) -> None:
        self.problems = problems
        self.mode = mode
        self.limits = limits
        self.declared: dict[str, _Declared] = {}
        self.state_count = 0

    def compile(self, value: Any) -> FlowPlan | None:
        problems = self.problems
        top = problems.mapping(value, Loc(), "a mapping with Type, SpecVersion, StartAt and States")
        if top is None:
            return None
        problems.fields(top, Loc(), TOP_FIELDS, ("Type", "SpecVersion", "StartAt", "States"))
        if "Type" in top and top["Type"] != "StateMachine":
            problems.add(Loc().key("Type"), f"must be 'StateMachine', not '{top['Type']}'")
        if "SpecVersion" in top and top["SpecVersion"] != "v1":
            problems.add(Loc().key("SpecVersion"), f"must be 'v1', not '{top['SpecVersion']}'")
        name = problems.string(top, "Name", Loc()) or ""
        description = problems.string(top, "Description", Loc(), non_empty=False) or ""
        express = self.mode is ExecutionMode.EXPRESS
        mode_limit = (
            self.limits.express_max_seconds if express else self.limits.standard_max_seconds
        )
        timeout = problems.integer(top, "Timeout", Loc(), minimum=1, maximum=mode_limit)
        self._declare(top, Loc(), "", "the flow")
        scope = self.compile_scope(top, Loc(), "", fields=TOP_FIELDS)
        if scope is None:
            return None
        return FlowPlan(
            name=name,
            mode=self.mode,
            scope=scope,
            timeout_seconds=float(min(timeout or mode_limit, mode_limit)),
            description=description,
            state_count=self.state_count,
        )

    # -- names -------------------------------------------------------------------------

    def _declare(self, node: Mapping[str, Any], loc: Loc, scope: str, where: str) -> None:
        """First pass: every state name in the flow, so duplicates and cross-scope jumps are found."""
        states = node.get("States")
        if not isinstance(states, list):
            return
        for position, item in enumerate(states):
            if not isinstance(item, dict):
                continue
            name = item.get("Name")
            item_loc = loc.key("States").index(position, name if isinstance(name, str) else None)
            if isinstance(name, str) and name:
                if name in self.declared:
                    self.problems.add(
                        item_loc.key("Name"),
                        f"the name '{name}' is already used by another state ({self.declared[name].where}); "
                        "state names must be unique in a flow",
                    )
                else:
                    self.declared[name] = _Declared(scope, where)
            kind = item.get("Type")
            if kind == "Parallel" and isinstance(item.get("Branches"), list):
                for b, branch in enumerate(item["Branches"]):
                    if isinstance(branch, dict):
                        self._declare(
                            branch,
                            item_loc.key("Branches").index(b),
                            f"{name}/{b}",
                            f"in branch {b} of Parallel '{name}'",
                        )
            elif kind == "Map" and isinstance(item.get("Processor"), dict):
                self._declare(
                    item["Processor"],
                    item_loc.key("Processor"),
                    f"{name}/items",
                    f"in the Processor of Map '{name}'",
                )

    # -- scopes ------------------------------------------------------------------------

    def compile_scope(
        self, value: Any, loc: Loc, path: str, fields: frozenset[str] = SCOPE_FIELDS
    ) -> ScopePlan | None:
        problems = self.problems
        node = problems.mapping(value, loc, "a mapping with StartAt and States")
        if node is None:
            return None
        before = len(problems.found)
        if fields is SCOPE_FIELDS:
            problems.fields(node, loc, SCOPE_FIELDS, ("StartAt", "States"))
        raw_states = node.get("States")
        if "States" in node and (not isinstance(raw_states, list) or not raw_states):
            problems.add(
                loc.key("States"),
                f"must be a non-empty list of states, not {describe_type(raw_states)}",
            )
            raw_states = []
        entries = self._state_entries(raw_states or [], loc)
        index_by_name: dict[str, int] = {}
        for position, (_, state_node) in enumerate(entries):
            if state_node is not None:
                index_by_name.setdefault(state_node["Name"], position)
        by_lower_name: dict[str, str] = {}

        def resolve(target: Any, target_loc: Loc) -> int | None:
            if not by_lower_name and index_by_name:
                by_lower_name.update((name.lower(), name) for name in reversed(index_by_name))
            index = self._resolve(target, target_loc, index_by_name, by_lower_name, path)
            if index is None:
                cx.broken_transitions += 1
            return index

        cx = CompileContext(
            problems, self.limits, self.mode is ExecutionMode.EXPRESS, resolve, self.compile_scope
        )
        start = None
        if "StartAt" in node and entries:
            start = resolve(node["StartAt"], loc.key("StartAt"))
        elif "StartAt" in node:  # no states: "no state named ..." would only repeat that problem
            problems.string(node, "StartAt", loc)
        states: list[State | None] = []
        for position, (state_loc, state_node) in enumerate(entries):
            states.append(
                None
                if state_node is None
                else self._compile_state(state_node, state_loc, position, cx)
            )
        if start is None or any(s is None for s in states):
            return None
        compiled = tuple(s for s in states if s is not None)
        if not cx.broken_transitions:
            # A transition that is missing or names no state (a typo, most often) would make
            # the states after it look unreachable; that transition is the problem to report.
            self._check_reachable(compiled, start, entries, index_by_name)
        self.state_count += len(compiled)
        if len(problems.found) > before:
            return None  # a node of this scope is incomplete; the problems say why
        return ScopePlan(
            path, compiled, start, all(_is_synchronous(s) for s in compiled), index_by_name
        )

    def _state_entries(
        self, raw_states: list[Any], loc: Loc
    ) -> list[tuple[Loc, dict[str, Any] | None]]:
        entries: list[tuple[Loc, dict[str, Any] | None]] = []
        for position, item in enumerate(raw_states):
            name = item.get("Name") if isinstance(item, dict) else None
            state_loc = loc.key("States").index(position, name if isinstance(name, str) else None)
            node = self.problems.mapping(item, state_loc, "a state (a mapping with Name and Type)")
            if node is not None and not (isinstance(name, str) and name.strip()):
                self.problems.add(
                    state_loc.key("Name"), "every state needs a Name (a non-empty string)"
                )
                node = None
            if node is not None and isinstance(name, str) and len(name) > 128:
                self.problems.add(
                    state_loc.key("Name"), "a state name may have at most 128 characters"
                )
            entries.append((state_loc, node))
        return entries

    def _compile_state(
        self, node: dict[str, Any], loc: Loc, position: int, cx: CompileContext
    ) -> State | None:
        kind = node.get("Type")
        compiler = COMPILERS.get(kind) if isinstance(kind, str) else None
        if compiler is None:
            if "Type" not in node:
                self.problems.add(
                    loc.key("Type"),
                    f"required field 'Type' is missing; use one of {', '.join(COMPILERS)}",
                )
            else:
                self.problems.add(
                    loc.key("Type"),
                    f"'{kind}' is not a state type; use one of {', '.join(COMPILERS)}",
                )
            return None
        return compiler(node, loc, position, cx)

    def _resolve(
        self,
        target: Any,
        loc: Loc,
        index_by_name: dict[str, int],
        by_lower_name: dict[str, str],
        path: str,
    ) -> int | None:
        if not isinstance(target, str) or not target:
            self.problems.add(
                loc, f"must name a state (a non-empty string), not {describe_type(target)}"
            )
            return None
        if target in index_by_name:
            return index_by_name[target]
        declared = self.declared.get(target)
        if declared is not None and declared.scope != path:
            self.problems.add(
                loc,
                f"'{target}' is a state in another scope ({declared.where}); a transition may only name a state of its own scope",
            )
        else:
            hint = by_lower_name.get(target.lower())
            suffix = f"; did you mean '{hint}'?" if hint else ""
            self.problems.add(loc, f"there is no state named '{target}' in this scope{suffix}")
        return None

    def _check_reachable(
        self,
        states: tuple[State, ...],
        start: int,
        entries: list[tuple[Loc, Any]],
        index_by_name: Mapping[str, int],
    ) -> None:
        seen = {start}
        pending = [start]
        while pending:
            for target in _targets(states[pending.pop()]):
                if 0 <= target < len(states) and target not in seen:
                    seen.add(target)
                    pending.append(target)
        start_name = states[start].name
        for position, state in enumerate(states):
            # A second state of the same name cannot be named by any transition; its
            # duplicate name is the problem already reported.
            if position not in seen and index_by_name[state.name] == position:
                self.problems.add(
                    entries[position][0],
                    f"state '{state.name}' can never run: no path from StartAt '{start_name}' reaches it",
                )


def _targets(state: State) -> list[int]:
    targets = [] if state.next is None else [state.next]
    if isinstance(state, ChoiceState):
        targets.extend(branch.next for branch in state.branches)
        targets.append(state.default)
    if isinstance(state, RulesState):
        targets.extend(rule.next for rule in state.catch if rule.next is not None)
    return targets


def _is_synchronous(state: State) -> bool:
    if isinstance(state, TaskState | WaitState):
        return False
    if isinstance(state, ParallelState):
        return all(branch.synchronous for branch in state.branches)
    if isinstance(state, MapState):
        return state.processor.synchronous
    return True
