"""The flow graph's layout: every state drawn, every transition an arrow, nothing overlapping."""

from __future__ import annotations

import json
import time
from itertools import combinations

import pytest

from gateway.console.graph import GraphLayout, LayoutNode, flow_layout, state_parents
from gateway.console.layered import layered_layout
from shared.compiler import compile_flow
from tests.console.stack import BATCH, COUNTER, SHOP


def layout_of(text: str) -> GraphLayout:
    return flow_layout(compile_flow(text))


def nodes_by_id(layout: GraphLayout) -> dict[str, LayoutNode]:
    return {n.id: n for n in layout.nodes}


def overlap(a: LayoutNode, b: LayoutNode) -> bool:
    return (
        a.x < b.x + b.width
        and b.x < a.x + a.width
        and a.y < b.y + b.height
        and b.y < a.y + a.height
    )


def contains(outer: LayoutNode, inner: LayoutNode) -> bool:
    return (
        outer.x <= inner.x
        and outer.y <= inner.y
        and inner.x + inner.width <= outer.x + outer.width
        and inner.y + inner.height <= outer.y + outer.height
    )


def assert_no_overlaps(layout: GraphLayout) -> None:
    """Boxes that share a parent never overlap; each box lies inside its parent."""
    by_id = nodes_by_id(layout)
    for a, b in combinations(layout.nodes, 2):
        if a.parent == b.parent:
            assert not overlap(a, b), f"{a.id} overlaps {b.id}"
    for node in layout.nodes:
        if node.parent is not None:
            assert contains(by_id[node.parent], node), f"{node.id} sticks out of {node.parent}"
        assert node.x >= 0 and node.x + node.width <= layout.width
        assert node.y >= 0 and node.y + node.height <= layout.height


def generated_flow(count: int) -> str:
    """``count`` states: mostly a chain, with a Choice every 10 and a Task with Catch every 10."""
    lines = ["Type: StateMachine", "SpecVersion: v1", "Name: big", "StartAt: S0", "States:"]
    for i in range(count):
        last = i == count - 1
        if i % 10 == 5 and i + 3 < count:
            lines += [
                "  - Type: Choice",
                f"    Name: S{i}",
                "    Branches:",
                f"      - Condition: $Input.a == {i}",
                f"        Next: S{i + 1}",
                f"      - Condition: $Input.b == {i}",
                f"        Next: S{i + 3}",
                f"    Default: S{i + 2}",
            ]
        elif i % 10 == 7 and not last:
            lines += [
                "  - Type: Task",
                f"    Name: S{i}",
                "    Action: FC:InvokeFunction",
                "    Parameters:",
                "      functionName: f",
                "    Catch:",
                "      - Errors: [FnF.ALL]",
                f"        Next: Failed{i}",
                f"    Next: S{i + 1}",
                "  - Type: Fail",
                f"    Name: Failed{i}",
            ]
        else:
            lines += [
                "  - Type: Pass",
                f"    Name: S{i}",
                "    End: true" if last else f"    Next: S{i + 1}",
            ]
    return "\n".join(lines) + "\n"


def test_every_state_is_a_node_and_every_transition_an_edge() -> None:
    layout = layout_of(SHOP)
    states = {n.state for n in layout.nodes if n.state}
    assert states == {"Validate", "Route", "Prepare", "Reserve", "Quote", "Charge", "Ship"}
    edges = {(e.source, e.target, e.kind) for e in layout.edges}
    assert ("start", "state:Validate", "start") in edges
    assert ("state:Validate", "state:Route", "next") in edges
    assert ("state:Prepare", "state:Charge", "next") in edges
    assert ("state:Ship", "end", "end") in edges
    # A Fail state is an end of its own: no arrow across the whole graph to the End marker.
    big = layout_of(generated_flow(20))
    assert {e.source for e in big.edges if e.target == "end"} == {"state:S19"}
    # A Choice branch and its Default to the same state are one arrow with both labels.
    (route,) = [e for e in layout.edges if e.source == "state:Route"]
    assert route.kind == "choice" and route.label == "$Input.express == true | Default"


def test_catch_and_default_edges_are_labelled() -> None:
    layout = layout_of(BATCH)
    (catch,) = [e for e in layout.edges if e.kind == "catch"]
    assert (catch.source, catch.target, catch.label) == (
        "state:Inspect",
        "state:Report",
        "Catch Item.Invalid",
    )
    counter = layout_of(COUNTER)
    (default,) = [e for e in counter.edges if e.kind == "default"]
    assert (default.source, default.target, default.label) == (
        "state:Check",
        "state:Done",
        "Default",
    )


def test_parallel_branches_and_map_processors_are_nested_groups() -> None:
    layout = layout_of(SHOP)
    by_id = nodes_by_id(layout)
    prepare = by_id["state:Prepare"]
    assert prepare.kind == "group" and prepare.type == "Parallel"
    branches = [n for n in layout.nodes if n.parent == "state:Prepare"]
    assert [b.label for b in branches] == ["Branch 0", "Branch 1"]
    assert by_id["state:Reserve"].parent == branches[0].id
    assert by_id["state:Quote"].parent == branches[1].id
    # Branches sit side by side inside their group.
    assert branches[0].x + branches[0].width <= branches[1].x
    assert_no_overlaps(layout)
    batch = layout_of(BATCH)
    (processor,) = [n for n in batch.nodes if n.parent == "state:Inspect"]
    assert processor.kind == "scope" and processor.label == "Processor"
    assert nodes_by_id(batch)["state:Check item"].parent == processor.id


def test_state_parents_give_each_states_enclosing_parallel_or_map() -> None:
    assert state_parents(compile_flow(SHOP)) == {
        "Validate": None,
        "Route": None,
        "Prepare": None,
        "Reserve": "Prepare",
        "Quote": "Prepare",
        "Charge": None,
        "Ship": None,
    }


def test_edges_run_from_their_source_box_to_their_target_box() -> None:
    layout = layout_of(SHOP)
    by_id = nodes_by_id(layout)
    for edge in layout.edges:
        (x0, y0), (x1, y1) = edge.points[0], edge.points[-1]
        source, target = by_id[edge.source], by_id[edge.target]
        assert source.x <= x0 <= source.x + source.width
        assert y0 == pytest.approx(source.y + source.height)
        assert target.x <= x1 <= target.x + target.width
        assert y1 == pytest.approx(target.y)


def test_a_loop_is_an_upward_edge() -> None:
    layout = layout_of(COUNTER)
    by_id = nodes_by_id(layout)
    (loop,) = [e for e in layout.edges if e.source == "state:Check" and e.target == "state:Count"]
    assert loop.back
    # It leaves the top of the lower box and enters the bottom of the upper one.
    assert loop.points[0][1] == pytest.approx(by_id["state:Check"].y)
    assert loop.points[-1][1] == pytest.approx(by_id["state:Count"].y + by_id["state:Count"].height)
    assert not any(e.back for e in layout.edges if e is not loop)


def test_fifty_states_read_top_to_bottom_without_overlaps() -> None:
    layout = layout_of(generated_flow(60))
    assert len([n for n in layout.nodes if n.state]) == 60 + 6  # and the six Fail states
    assert_no_overlaps(layout)
    by_id = nodes_by_id(layout)
    # The main chain goes down the page...
    chain = [by_id[f"state:S{i}"].y for i in range(60) if i % 10 not in (6, 7)]
    assert chain == sorted(chain)
    # ...and the page stays narrow enough to read: a handful of boxes side by side at most.
    assert layout.width < 5 * 240
    # No edge crosses a box it does not belong to (checked on the straight segments).
    for edge in layout.edges:
        for (xa, ya), (xb, yb) in zip(edge.points, edge.points[1:], strict=False):
            if xa != xb:
                continue
            for node in layout.nodes:
                if node.kind in ("scope", "group") or node.id in (edge.source, edge.target):
                    continue
                inside_x = node.x + 1 < xa < node.x + node.width - 1
                inside_y = min(ya, yb) < node.y + node.height - 1 and max(ya, yb) > node.y + 1
                assert not (inside_x and inside_y), (
                    f"{edge.source}->{edge.target} crosses {node.id}"
                )


def test_a_choice_fans_out_side_by_side() -> None:
    targets = "".join(f"  - Type: Pass\n    Name: T{i}\n    Next: Join\n" for i in range(5))
    branches = "".join(
        f"      - Condition: $Input.k == {i}\n        Next: T{i}\n" for i in range(4)
    )
    text = (
        "Type: StateMachine\nSpecVersion: v1\nStartAt: Pick\nStates:\n"
        "  - Type: Choice\n    Name: Pick\n    Branches:\n"
        + branches
        + "    Default: T4\n"
        + targets
        + "  - Type: Succeed\n    Name: Join\n"
    )
    layout = layout_of(text)
    by_id = nodes_by_id(layout)
    row = sorted((by_id[f"state:T{i}"] for i in range(5)), key=lambda n: n.x)
    assert len({n.y for n in row}) == 1
    assert_no_overlaps(layout)
    pick, join = by_id["state:Pick"], by_id["state:Join"]
    assert pick.y < row[0].y < join.y
    # The Choice sits over the middle of its fan-out.
    middle = (row[0].x + row[-1].x + row[-1].width) / 2
    assert abs(pick.x + pick.width / 2 - middle) < 60


def test_the_layout_is_deterministic() -> None:
    text = generated_flow(40)
    first = json.dumps(layout_of(text).to_json())
    assert all(json.dumps(layout_of(text).to_json()) == first for _ in range(3))


def test_a_large_flow_lays_out_quickly() -> None:
    plan = compile_flow(generated_flow(400))
    started = time.perf_counter()
    layout = flow_layout(plan)
    assert time.perf_counter() - started < 2.0
    assert_no_overlaps(layout)


def test_layered_layout_untangles_crossings() -> None:
    # 0 -> 3 and 1 -> 2: drawn in input order the two edges would cross.
    placement = layered_layout([(50, 20)] * 4, [(0, 3), (1, 2)], roots=[0, 1])
    (x0, _), (x1, _), (x2, _), (x3, _) = placement.positions
    assert (x0 < x1) == (x3 < x2)


def test_layered_layout_of_nothing_and_of_a_self_loop() -> None:
    empty = layered_layout([], [])
    assert (empty.width, empty.height, empty.positions) == (0.0, 0.0, ())
    loop = layered_layout([(100, 40)], [(0, 0)])
    assert loop.back == (True,)
    (route,) = loop.routes
    assert all(x >= 100 for x, _ in route)  # beside the box, not through it
