"""A layered (Sugiyama-style) layout of one directed graph: boxes in rows, edges downwards.

The console draws every scope of a flow (the flow itself, each Parallel branch, each Map
processor) with this one function; :mod:`gateway.console.graph` nests the results. The steps
are the classic ones, each kept simple and deterministic (same graph in, same picture out):

1. **Break cycles**: a depth-first search from the roots reverses the edges that close a cycle
   (a Choice looping back, a Catch into an earlier state), so the rest works on a DAG.
2. **Layers**: longest path from the roots, so every edge points down at least one row.
3. **Dummies**: an edge spanning several rows gets an invisible point in each row it crosses,
   so long edges are routed around boxes instead of through them.
4. **Order within rows**: barycentre sweeps, keeping the order with the fewest crossings.
5. **x coordinates**: each node is pulled towards its neighbours' centres; the nearest
   positions that keep the row's order and spacing are found by isotonic regression
   (pool-adjacent-violators), which is exact and linear in the row's size.
6. **Routes**: each edge leaves its source at a bottom port and enters its target at a top
   port (ports spread along the side in the order of where the edges go), through its dummies.

Pure: no I/O, no clock, no randomness.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

__all__ = ["Placement", "Spacing", "layered_layout"]

Point = tuple[float, float]

MAX_ORDER_SWEEPS: Final = 12
COORDINATE_SWEEPS: Final = 6
# Edge weights when pulling a node towards its neighbours: a chain of dummies (a long edge)
# pulls hard so long edges run straight, as Brandes-Köpf's priorities do.
_WEIGHT_REAL: Final = 1.0
_WEIGHT_MIXED: Final = 2.0
_WEIGHT_DUMMY: Final = 8.0


@dataclass(frozen=True, slots=True)
class Spacing:
    """Distances of the layout, in pixels."""

    node_gap: float = 28.0
    """Horizontal space between neighbouring boxes in a row."""
    layer_gap: float = 56.0
    """Vertical space between rows (room for an edge label)."""
    dummy_width: float = 14.0
    """Horizontal room reserved for a long edge passing through a row."""
    loop_reach: float = 22.0
    """How far a self-loop bulges out of the right side of its box."""


@dataclass(frozen=True, slots=True)
class Placement:
    """Where everything went: boxes' top-left corners and each edge's polyline."""

    positions: tuple[Point, ...]
    """Top-left corner of each node, in input order."""
    routes: tuple[tuple[Point, ...], ...]
    """Each edge's points from its source to its target, in input order."""
    back: tuple[bool, ...]
    """Per edge: True when it points upwards (it closes a cycle)."""
    width: float
    height: float


@dataclass(slots=True)
class _Node:
    width: float
    height: float
    dummy: bool
    layer: int = 0
    order: int = 0
    center: float = 0.0


def layered_layout(
    sizes: Sequence[tuple[float, float]],
    edges: Sequence[tuple[int, int]],
    *,
    roots: Sequence[int] = (0,),
    spacing: Spacing = Spacing(),
) -> Placement:
    """Lay out nodes of the given ``(width, height)`` with ``edges`` as ``(source, target)``.

    ``roots`` are explored first, so they end up in the top row (the start of a scope).
    """
    if not sizes:
        return Placement((), tuple(() for _ in edges), tuple(False for _ in edges), 0.0, 0.0)
    nodes = [_Node(w, h, dummy=False) for w, h in sizes]
    # Self-loops take no part in layering: they are drawn as a bulge beside their box.
    real_edges = [(u, v) for u, v in edges if u != v]
    reversed_edges, preorder = _break_cycles(len(nodes), real_edges, roots)
    dag = [
        (v, u) if rev else (u, v) for (u, v), rev in zip(real_edges, reversed_edges, strict=True)
    ]
    _assign_layers(nodes, dag, preorder)
    chains = _insert_dummies(nodes, dag, spacing)
    layers = _initial_order(nodes, preorder)
    links = [(chain[i], chain[i + 1]) for chain in chains for i in range(len(chain) - 1)]
    layers = _reduce_crossings(nodes, layers, links)
    _assign_x(nodes, layers, links, spacing)
    tops = _assign_y(nodes, layers, spacing)
    routes, back = _route(nodes, edges, chains, reversed_edges, tops, spacing)
    width = max((n.center + n.width / 2 for n in nodes), default=0.0)
    if any(u == v for u, v in edges):
        width += spacing.loop_reach
    height = tops[-1][1] if tops else 0.0
    positions = tuple((n.center - n.width / 2, _box_top(n, tops)) for n in nodes[: len(sizes)])
    return Placement(positions, routes, back, width, height)


# -- 1. cycles ---------------------------------------------------------------------------


def _break_cycles(
    count: int, edges: Sequence[tuple[int, int]], roots: Sequence[int]
) -> tuple[list[bool], list[int]]:
    """Which edges close a cycle (reverse them), and the nodes in depth-first preorder."""
    outgoing: list[list[int]] = [[] for _ in range(count)]
    for index, (u, _) in enumerate(edges):
        outgoing[u].append(index)
    state = [0] * count  # 0 unseen, 1 on the stack, 2 done
    reverse = [False] * len(edges)
    preorder: list[int] = []
    for root in [*roots, *range(count)]:
        if state[root]:
            continue
        state[root] = 1
        preorder.append(root)
        stack = [(root, iter(outgoing[root]))]
        while stack:
            node, pending = stack[-1]
            following = next(pending, None)
            if following is None:
                state[node] = 2
                stack.pop()
                continue
            target = edges[following][1]
            if state[target] == 1:
                reverse[following] = True
            elif state[target] == 0:
                state[target] = 1
                preorder.append(target)
                stack.append((target, iter(outgoing[target])))
    return reverse, preorder


# -- 2. layers ---------------------------------------------------------------------------


def _assign_layers(nodes: list[_Node], dag: Sequence[tuple[int, int]], preorder: list[int]) -> None:
    """Longest path from the sources: each node one row below its lowest predecessor."""
    incoming: list[list[int]] = [[] for _ in nodes]
    outgoing: list[list[int]] = [[] for _ in nodes]
    for u, v in dag:
        incoming[v].append(u)
        outgoing[u].append(v)
    # Kahn's algorithm, taking ready nodes in preorder so ties resolve the same way every time.
    rank = {node: position for position, node in enumerate(preorder)}
    remaining = [len(incoming[n]) for n in range(len(nodes))]
    ready = [rank[n] for n in range(len(nodes)) if remaining[n] == 0]
    heapq.heapify(ready)
    while ready:
        node = preorder[heapq.heappop(ready)]
        nodes[node].layer = max((nodes[p].layer + 1 for p in incoming[node]), default=0)
        for succ in outgoing[node]:
            remaining[succ] -= 1
            if remaining[succ] == 0:
                heapq.heappush(ready, rank[succ])


def _insert_dummies(
    nodes: list[_Node], dag: Sequence[tuple[int, int]], spacing: Spacing
) -> list[list[int]]:
    """Each DAG edge as a chain of node ids, with a dummy node in every row it crosses."""
    chains: list[list[int]] = []
    for u, v in dag:
        chain = [u]
        for layer in range(nodes[u].layer + 1, nodes[v].layer):
            nodes.append(_Node(spacing.dummy_width, 0.0, dummy=True, layer=layer))
            chain.append(len(nodes) - 1)
        chain.append(v)
        chains.append(chain)
    return chains


# -- 3. order within rows ----------------------------------------------------------------


def _initial_order(nodes: list[_Node], preorder: list[int]) -> list[list[int]]:
    depth = max(n.layer for n in nodes) + 1
    layers: list[list[int]] = [[] for _ in range(depth)]
    # Real nodes in depth-first order, then dummies in creation order (which follows edges).
    for node in [*preorder, *range(len(preorder), len(nodes))]:
        layers[nodes[node].layer].append(node)
    _renumber(nodes, layers)
    return layers


def _renumber(nodes: list[_Node], layers: list[list[int]]) -> None:
    for row in layers:
        for position, node in enumerate(row):
            nodes[node].order = position


def _reduce_crossings(
    nodes: list[_Node], layers: list[list[int]], links: list[tuple[int, int]]
) -> list[list[int]]:
    """Barycentre sweeps down and up; the best order seen wins."""
    up: list[list[int]] = [[] for _ in nodes]
    down: list[list[int]] = [[] for _ in nodes]
    for u, v in links:
        down[u].append(v)
        up[v].append(u)
    best = [row[:] for row in layers]
    best_crossings = _crossings(nodes, layers, down)
    for sweep in range(MAX_ORDER_SWEEPS):
        if best_crossings == 0:
            break
        downward = sweep % 2 == 0
        rows = range(1, len(layers)) if downward else range(len(layers) - 2, -1, -1)
        for r in rows:
            neighbours = up if downward else down
            layers[r] = _sorted_by_barycentre(nodes, layers[r], neighbours)
            for position, node in enumerate(layers[r]):
                nodes[node].order = position
        crossings = _crossings(nodes, layers, down)
        if crossings < best_crossings:
            best, best_crossings = [row[:] for row in layers], crossings
    _renumber(nodes, best)
    return best


def _sorted_by_barycentre(
    nodes: list[_Node], row: list[int], neighbours: list[list[int]]
) -> list[int]:
    def key(node: int) -> tuple[float, int]:
        linked = neighbours[node]
        if not linked:
            return (float(nodes[node].order), nodes[node].order)
        return (sum(nodes[n].order for n in linked) / len(linked), nodes[node].order)

    return sorted(row, key=key)


def _crossings(nodes: list[_Node], layers: list[list[int]], down: list[list[int]]) -> int:
    """Edge crossings between every pair of adjacent rows (inversions, counted by bisection)."""
    total = 0
    for row in layers[:-1]:
        pairs = sorted((nodes[u].order, nodes[v].order) for u in row for v in down[u])
        seen: list[int] = []
        for _, target in pairs:
            total += len(seen) - bisect.bisect_right(seen, target)
            bisect.insort(seen, target)
    return total


# -- 4. x coordinates --------------------------------------------------------------------


def _assign_x(
    nodes: list[_Node], layers: list[list[int]], links: list[tuple[int, int]], spacing: Spacing
) -> None:
    up: list[list[tuple[int, float]]] = [[] for _ in nodes]
    down: list[list[tuple[int, float]]] = [[] for _ in nodes]
    for u, v in links:
        weight = _link_weight(nodes[u].dummy, nodes[v].dummy)
        down[u].append((v, weight))
        up[v].append((u, weight))
    for row in layers:
        _place_row(nodes, row, [0.0] * len(row), spacing)
    for sweep in range(COORDINATE_SWEEPS):
        downward = sweep % 2 == 0
        rows = layers[1:] if downward else layers[-2::-1]
        for row in rows:
            desired = [_pull(nodes, n, up[n] if downward else down[n]) for n in row]
            _place_row(nodes, row, desired, spacing)
    # A last pass that listens to both sides, so a node between two others sits between them.
    for row in layers:
        _place_row(nodes, row, [_pull(nodes, n, up[n] + down[n]) for n in row], spacing)
    left = min(nodes[row[0]].center - nodes[row[0]].width / 2 for row in layers if row)
    for node in nodes:
        node.center -= left


def _link_weight(a_dummy: bool, b_dummy: bool) -> float:
    if a_dummy and b_dummy:
        return _WEIGHT_DUMMY
    return _WEIGHT_MIXED if a_dummy or b_dummy else _WEIGHT_REAL


def _pull(nodes: list[_Node], node: int, linked: list[tuple[int, float]]) -> float:
    """Where ``node``'s neighbours want its centre: their weighted mean (or where it is)."""
    if not linked:
        return nodes[node].center
    total = sum(weight for _, weight in linked)
    return sum(nodes[n].center * weight for n, weight in linked) / total


def _place_row(nodes: list[_Node], row: list[int], desired: list[float], spacing: Spacing) -> None:
    """Centres as close as possible (least squares) to ``desired``, keeping order and gaps.

    With ``offset[i]`` the least distance from the row's first centre to node i's, the centres
    are ``offset[i] + y[i]`` for a non-decreasing ``y``: an isotonic regression of
    ``desired[i] - offset[i]``, solved exactly by pooling adjacent violators.
    """
    offsets = [0.0]
    for a, b in itertools.pairwise(row):
        gap = (nodes[a].width + nodes[b].width) / 2 + spacing.node_gap
        offsets.append(offsets[-1] + gap)
    targets = [d - o for d, o in zip(desired, offsets, strict=True)]
    blocks: list[tuple[float, int]] = []  # (mean, how many nodes it pools)
    for value in targets:
        mean, count = value, 1
        while blocks and blocks[-1][0] > mean:
            previous, pooled = blocks.pop()
            mean = (previous * pooled + mean * count) / (pooled + count)
            count += pooled
        blocks.append((mean, count))
    position = 0
    for mean, count in blocks:
        for _ in range(count):
            nodes[row[position]].center = mean + offsets[position]
            position += 1


# -- 5. y coordinates and routes ---------------------------------------------------------


def _assign_y(nodes: list[_Node], layers: list[list[int]], spacing: Spacing) -> list[Point]:
    """Each row's (top, bottom); a row is as tall as its tallest box."""
    tops: list[Point] = []
    y = 0.0
    for row in layers:
        height = max((nodes[n].height for n in row), default=0.0)
        tops.append((y, y + height))
        y += height + spacing.layer_gap
    return tops


def _box_top(node: _Node, tops: list[Point]) -> float:
    top, bottom = tops[node.layer]
    return top + (bottom - top - node.height) / 2


def _route(
    nodes: list[_Node],
    edges: Sequence[tuple[int, int]],
    chains: list[list[int]],
    reversed_edges: list[bool],
    tops: list[Point],
    spacing: Spacing,
) -> tuple[tuple[tuple[Point, ...], ...], tuple[bool, ...]]:
    ports = _ports(nodes, chains)
    routes: list[tuple[Point, ...]] = []
    back: list[bool] = []
    position = 0  # chains skip self-loops: the position of this edge's chain
    for u, v in edges:
        if u == v:
            routes.append(_self_loop(nodes[u], tops, spacing))
            back.append(True)
            continue
        chain, was_reversed = chains[position], reversed_edges[position]
        head, tail = chain[0], chain[-1]
        head_bottom = _box_top(nodes[head], tops) + nodes[head].height
        points: list[Point] = [(ports[(position, head)], head_bottom)]
        for dummy in chain[1:-1]:
            top, bottom = tops[nodes[dummy].layer]
            points += [(nodes[dummy].center, top), (nodes[dummy].center, bottom)]
        points.append((ports[(position, tail)], _box_top(nodes[tail], tops)))
        routes.append(tuple(reversed(points)) if was_reversed else tuple(points))
        back.append(was_reversed)
        position += 1
    return tuple(routes), tuple(back)


def _ports(nodes: list[_Node], chains: list[list[int]]) -> dict[tuple[int, int], float]:
    """The x where each chain touches each end box, spread along the side in the order the
    edges go, so that several edges leaving one box (a Choice) do not start on one point."""
    sides: dict[tuple[int, bool], list[tuple[float, int]]] = {}
    for position, chain in enumerate(chains):
        head, tail = chain[0], chain[-1]
        sides.setdefault((head, True), []).append((nodes[chain[1]].center, position))
        sides.setdefault((tail, False), []).append((nodes[chain[-2]].center, position))
    ports: dict[tuple[int, int], float] = {}
    for (node, _), touching in sides.items():
        touching.sort()
        box = nodes[node]
        count = len(touching)
        span = box.width * 0.7
        for slot, (_, position) in enumerate(touching):
            offset = 0.0 if count == 1 else span * ((slot + 0.5) / count - 0.5)
            ports[(position, node)] = box.center + offset
    return ports


def _self_loop(node: _Node, tops: list[Point], spacing: Spacing) -> tuple[Point, ...]:
    right = node.center + node.width / 2
    middle = _box_top(node, tops) + node.height / 2
    reach = right + spacing.loop_reach
    return ((right, middle - 8), (reach, middle - 8), (reach, middle + 8), (right, middle + 8))
