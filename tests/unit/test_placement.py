"""Where Ray actors ran: ``placement`` (node by node, as the console and the app show it) and
the run file's ``generator.nodes`` and ``config.engine``."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from loadtui.metrics.health import placement
from loadtui.model.record import GeneratorHealth, LostWorker
from loadtui.storage.runfile import load_record, save_run


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


def test_the_nodes_and_the_backend_survive_the_run_file(tmp_path):
    """What ``--backend ray`` adds to a run file comes back from it (``loadtui show``, History)."""
    fixture = min((Path(__file__).parents[1] / "data").glob("*.json"))  # a saved run
    record = load_record(fixture)
    health = replace(record.generator, nodes=("a 10.0.0.1", "b 10.0.0.2"))
    config = record.config.with_overrides(engine={"backend": "ray", "ray_address": "auto"})
    ray_run = replace(record, generator=health, config=config)
    back = load_record(save_run(ray_run, tmp_path / "ray.json"))
    assert back.generator.nodes == ("a 10.0.0.1", "b 10.0.0.2")
    assert back.config.engine.backend == "ray" and back.config.engine.ray_address == "auto"
