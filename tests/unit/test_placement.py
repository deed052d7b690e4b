"""``placement``: where Ray actors ran, node by node, as the console and the app show it."""

from __future__ import annotations

from loadtui.metrics.health import placement
from loadtui.model.record import GeneratorHealth, LostWorker


def test_actors_are_grouped_by_node_in_order_with_the_lost_marked():
    health = GeneratorHealth(
        workers=3,
        nodes=("a 10.0.0.1", "b 10.0.0.2", "a 10.0.0.1"),
        lost_workers=(LostWorker(worker=2, at_s=1.0, reason="exited unexpectedly"),),
    )
    assert placement(health) == ["a 10.0.0.1: actors 0, 2 lost", "b 10.0.0.2: actor 1"]


def test_processes_have_no_placement():
    assert placement(GeneratorHealth(workers=4)) == []


def test_many_nodes_and_many_actors_stay_a_few_short_lines():
    nodes = tuple(f"n{i % 6} 10.0.0.{i % 6}" for i in range(60))
    lines = placement(GeneratorHealth(workers=60, nodes=nodes), most=3)
    assert lines == [
        "n0 10.0.0.0: actors 0, 6, 12, 18, 24, 30, 36, 42 … (10 in all)",
        "n1 10.0.0.1: actors 1, 7, 13, 19, 25, 31, 37, 43 … (10 in all)",
        "… and 4 more nodes",
    ]
