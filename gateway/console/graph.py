"""A flow drawn as a graph: every state a box, every transition an arrow, nested scopes as groups.

:func:`flow_layout` turns a compiled :class:`~shared.plan.FlowPlan` into absolute coordinates
the console's page only has to paint. Each scope (the flow, a Parallel branch, a Map
processor) is laid out on its own with :func:`~gateway.console.layered.layered_layout`,
innermost first; a Parallel or Map state then becomes one big box holding its scopes side by
side, and its scope's layout treats it like any other box. Transitions never cross a scope's
border (the validator forbids it), so nothing is lost by laying scopes out separately.

Node ids are stable strings: ``state:<name>`` (names are unique across a whole flow),
``scope:<path>`` for a branch or processor box, and ``start`` / ``end`` for the flow's markers.

Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from gateway.console.layered import Spacing, layered_layout
from shared.plan import FlowPlan, ScopePlan, State
from shared.states.choice import ChoiceState
from shared.states.fail import FailState
from shared.states.map import MapState
from shared.states.parallel import ParallelState
from shared.states.rules import CatchRule, RulesState

__all__ = ["EdgeKind", "GraphLayout", "LayoutEdge", "LayoutNode", "flow_layout", "state_parents"]

STATE_HEIGHT: Final = 48.0
MIN_STATE_WIDTH: Final = 132.0
MAX_STATE_WIDTH: Final = 240.0
CHAR_WIDTH: Final = 7.4
"""Roughly one character of the page's 13px UI font; the box fits the name up to the maximum
width, and the page shortens longer names with an ellipsis (the full name is its tooltip)."""
TERMINAL_SIZE: Final = 36.0
GROUP_HEADER: Final = 34.0
SCOPE_HEADER: Final = 24.0
PADDING: Final = 14.0
SCOPE_GAP: Final = 18.0
MIN_SCOPE_WIDTH: Final = 120.0
MARGIN: Final = 16.0
GROUP_COUNTS_WIDTH: Final = 110.0

EdgeKind = str
"""``start``, ``next``, ``choice``, ``default``, ``catch`` or ``end``."""


@dataclass(frozen=True, slots=True)
class LayoutNode:
    """A box on the page, in absolute page coordinates (top-left corner and size)."""

    id: str
    kind: str
    """``state``, ``group`` (a Parallel or Map state), ``scope`` (a branch or processor),
    ``start`` or ``end``."""
    label: str
    type: str
    """The state's type (``Task``, ``Choice``...), ``Branch`` or ``Processor`` for scopes."""
    state: str | None
    """The state's name for ``state`` and ``group`` nodes (what history events name)."""
    parent: str | None
    """The id of the box it is drawn in; None at the top."""
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True, slots=True)
class LayoutEdge:
    """An arrow from one box to another, as a polyline in page coordinates."""

    source: str
    target: str
    kind: EdgeKind
    label: str
    """A Choice branch's condition, ``Default``, a Catch's error names, or empty."""
    points: tuple[tuple[float, float], ...]
    back: bool
    """True when it points upwards, closing a loop."""


@dataclass(frozen=True, slots=True)
class GraphLayout:
    """Everything needed to paint a flow."""

    width: float
    height: float
    nodes: tuple[LayoutNode, ...]
    """Parents come before their children, so painting in order stacks boxes correctly."""
    edges: tuple[LayoutEdge, ...]

    def to_json(self) -> dict[str, Any]:
        """The layout as JSON-ready values (coordinates rounded to a tenth of a pixel)."""
        return {
            "width": _round(self.width),
            "height": _round(self.height),
            "nodes": [
                {
                    "id": n.id,
                    "kind": n.kind,
                    "label": n.label,
                    "type": n.type,
                    "state": n.state,
                    "parent": n.parent,
                    "x": _round(n.x),
                    "y": _round(n.y),
                    "width": _round(n.width),
                    "height": _round(n.height),
                }
                for n in self.nodes
            ],
            "edges": [
                {
                    "source": e.source,
                    "target": e.target,
                    "kind": e.kind,
                    "label": e.label,
                    "back": e.back,
                    "points": [[_round(x), _round(y)] for x, y in e.points],
                }
                for e in self.edges
            ],
        }


def flow_layout(plan: FlowPlan) -> GraphLayout:
    """Lay out ``plan``: the flow's scope with Start and End markers, groups nested inside."""
    block = _scope_block(plan.scope, terminals=True)
    nodes = tuple(_moved(n, MARGIN, MARGIN, None) for n in block.nodes)
    edges = tuple(_moved_edge(e, MARGIN, MARGIN) for e in block.edges)
    return GraphLayout(block.width + 2 * MARGIN, block.height + 2 * MARGIN, nodes, edges)


def state_parents(plan: FlowPlan) -> dict[str, str | None]:
    """Each state's enclosing Parallel or Map state (None at the top): the nesting that
    history events do not carry but the console needs to colour states."""
    parents: dict[str, str | None] = {}

    def visit(scope: ScopePlan, parent: str | None) -> None:
        for state in scope.states:
            parents[state.name] = parent
            for inner in _inner_scopes(state):
                visit(inner, state.name)

    visit(plan.scope, None)
    return parents


# -- one scope ---------------------------------------------------------------------------


@dataclass(slots=True)
class _Block:
    """A laid-out scope in its own coordinates (top-left at 0, 0)."""

    width: float
    height: float
    nodes: list[LayoutNode] = field(default_factory=list)
    edges: list[LayoutEdge] = field(default_factory=list)


@dataclass(slots=True)
class _Item:
    id: str
    kind: str
    label: str
    type: str
    state: str | None
    width: float
    height: float
    inner: list[tuple[str, str, _Block]] = field(default_factory=list)
    """For a group: each inner scope's (id, label, block)."""


def _scope_block(scope: ScopePlan, *, terminals: bool) -> _Block:
    items = [_item(state) for state in scope.states]
    wires = _wires(scope)
    roots = [scope.start]
    if terminals:
        start, end = len(items), len(items) + 1
        items += [
            _Item("start", "start", "Start", "", None, TERMINAL_SIZE, TERMINAL_SIZE),
            _Item("end", "end", "End", "", None, TERMINAL_SIZE, TERMINAL_SIZE),
        ]
        wires.insert(0, (start, scope.start, "start", ""))
        wires += [(i, end, "end", "") for i, s in enumerate(scope.states) if _ends(s)]
        roots = [start]
    placement = layered_layout(
        [(item.width, item.height) for item in items],
        [(u, v) for u, v, _, _ in wires],
        roots=roots,
        spacing=Spacing(),
    )
    block = _Block(placement.width, placement.height)
    for item, (x, y) in zip(items, placement.positions, strict=True):
        _place_item(block, item, x, y)
    for (u, v, kind, label), points, back in zip(
        wires, placement.routes, placement.back, strict=True
    ):
        block.edges.append(LayoutEdge(items[u].id, items[v].id, kind, label, points, back))
    return block


def _wires(scope: ScopePlan) -> list[tuple[int, int, EdgeKind, str]]:
    """Every transition of the scope as (source, target, kind, label); parallel arrows between
    the same two states are merged into one, their labels joined."""
    merged: dict[tuple[int, int], tuple[EdgeKind, list[str]]] = {}
    for state in scope.states:
        for target, kind, label in _transitions(state):
            entry = merged.setdefault((state.index, target), (kind, []))
            if label and label not in entry[1]:
                entry[1].append(label)
    return [(u, v, kind, " | ".join(labels)) for (u, v), (kind, labels) in merged.items()]


def _transitions(state: State) -> list[tuple[int, EdgeKind, str]]:
    found: list[tuple[int, EdgeKind, str]] = []
    if isinstance(state, ChoiceState):
        found += [(b.next, "choice", b.condition.source) for b in state.branches]
        found.append((state.default, "default", "Default"))
    elif state.next is not None:
        found.append((state.next, "next", ""))
    if isinstance(state, RulesState):
        for rule in state.catch:
            if rule.next is not None:
                found.append((rule.next, "catch", "Catch " + _error_names(rule)))
    return found


def _error_names(rule: CatchRule) -> str:
    names = sorted(rule.errors)
    if rule.matches_all and "FnF.ALL" not in names:
        names.append("FnF.ALL")
    return ", ".join(names)


def _ends(state: State) -> bool:
    """True when the state ends the flow normally and gets an arrow to the End marker.

    A Choice always goes somewhere. A Fail state ends the execution too, but it is drawn
    as an end of its own: arrows from every Fail state (usually Catch targets spread over
    the graph) to one End marker would be long lines across the whole picture.
    """
    return not isinstance(state, ChoiceState | FailState) and state.next is None


def _inner_scopes(state: State) -> tuple[ScopePlan, ...]:
    if isinstance(state, ParallelState):
        return state.branches
    if isinstance(state, MapState):
        return (state.processor,)
    return ()


# -- boxes -------------------------------------------------------------------------------


def _item(state: State) -> _Item:
    node_id = f"state:{state.name}"
    scopes = _inner_scopes(state)
    if not scopes:
        width = min(MAX_STATE_WIDTH, max(MIN_STATE_WIDTH, 28 + CHAR_WIDTH * len(state.name)))
        return _Item(node_id, "state", state.name, state.type_name, state.name, width, STATE_HEIGHT)
    inner: list[tuple[str, str, _Block]] = []
    for position, scope in enumerate(scopes):
        label = f"Branch {position}" if isinstance(state, ParallelState) else "Processor"
        inner.append((f"scope:{scope.path}", label, _scope_block(scope, terminals=False)))
    widths = [max(MIN_SCOPE_WIDTH, b.width + 2 * PADDING) for _, _, b in inner]
    heights = [b.height + SCOPE_HEADER + 2 * PADDING for _, _, b in inner]
    # Room for the title and, at the right, the counts of branches or iterations by status.
    title = min(MAX_STATE_WIDTH, 28 + CHAR_WIDTH * (len(state.name) + len(state.type_name) + 3))
    title += GROUP_COUNTS_WIDTH
    width = max(title, sum(widths) + SCOPE_GAP * (len(widths) - 1) + 2 * PADDING)
    height = GROUP_HEADER + max(heights) + PADDING
    return _Item(node_id, "group", state.name, state.type_name, state.name, width, height, inner)


def _place_item(block: _Block, item: _Item, x: float, y: float) -> None:
    block.nodes.append(
        LayoutNode(
            item.id,
            item.kind,
            item.label,
            item.type,
            item.state,
            None,
            x,
            y,
            item.width,
            item.height,
        )
    )
    if not item.inner:
        return
    # Centre the row of scopes in the group (it may be wider than they are, for its title).
    widths = [max(MIN_SCOPE_WIDTH, b.width + 2 * PADDING) for _, _, b in item.inner]
    row = sum(widths) + SCOPE_GAP * (len(widths) - 1)
    left = x + (item.width - row) / 2
    tallest = max(b.height for _, _, b in item.inner)
    for (scope_id, label, inner), width in zip(item.inner, widths, strict=True):
        top = y + GROUP_HEADER
        height = tallest + SCOPE_HEADER + 2 * PADDING
        block.nodes.append(
            LayoutNode(
                scope_id, "scope", label, label.split()[0], None, item.id, left, top, width, height
            )
        )
        dx = left + (width - inner.width) / 2
        dy = top + SCOPE_HEADER + PADDING
        block.nodes += [_moved(n, dx, dy, scope_id) for n in inner.nodes]
        block.edges += [_moved_edge(e, dx, dy) for e in inner.edges]
        left += width + SCOPE_GAP


def _moved(node: LayoutNode, dx: float, dy: float, parent: str | None) -> LayoutNode:
    return LayoutNode(
        node.id,
        node.kind,
        node.label,
        node.type,
        node.state,
        node.parent if node.parent is not None else parent,
        node.x + dx,
        node.y + dy,
        node.width,
        node.height,
    )


def _moved_edge(edge: LayoutEdge, dx: float, dy: float) -> LayoutEdge:
    points = tuple((x + dx, y + dy) for x, y in edge.points)
    return LayoutEdge(edge.source, edge.target, edge.kind, edge.label, points, edge.back)


def _round(value: float) -> float:
    return round(value, 1)
