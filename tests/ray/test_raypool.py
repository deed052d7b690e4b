"""Workers as Ray actors (``RayPool``) against the mock over loopback: counts, live control,
a lost actor, the API key kept out of Ray's files.

One local Ray for the whole module (``ray.init`` takes 5–12 s), in a folder of its own so its
session logs can be searched; the tests share one xdist group so a single pytest worker starts
it. Each run starts its own actors (~1 s) and lasts 2–3 s.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ray = pytest.importorskip("ray")

from helpers import drive  # noqa: E402
from loadtui.engine.coordinator import Coordinator  # noqa: E402
from loadtui.engine.raypool import RayPool  # noqa: E402
from loadtui.model.controls import ControlChange  # noqa: E402
from loadtui.model.plan import RunConfig  # noqa: E402
from loadtui.model.snapshot import WorkerSnapshot  # noqa: E402
from reorder import ShufflingPool, changes, check_last_state  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.xdist_group("heavy")]

KEY = "fake-key-for-the-ray-file-scan"
"""An API key no Ray file may hold."""


@pytest.fixture(scope="module")
def ray_dir() -> Iterator[Path]:
    """A local Ray with 2 CPUs whose files (sockets, session logs) are in a short temp path."""
    folder = Path(tempfile.mkdtemp(prefix="lt-ray-"))
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
        _temp_dir=str(folder),
    )
    try:
        yield folder
    finally:
        ray.shutdown()
        shutil.rmtree(folder, ignore_errors=True)


def closed(users: int, duration: str) -> RunConfig:
    return RunConfig(
        load={"mode": "closed", "users": users, "duration": duration, "think_time": 0.02},
        requests=[{"kind": "chat", "stream": True, "max_tokens": 8}, {"kind": "models"}],
        workers=2,
    )


def test_two_actors_count_what_the_mock_served_and_keep_the_key_out_of_ray(mock, ray_dir):
    coord = drive(closed(4, "2s"), mock.url, api_key=KEY, pool=RayPool())
    result = coord.result()
    summary = result.summary
    assert summary.requests > 20
    assert summary.errors_total == 0
    assert summary.requests == mock.stats()["served"]
    assert set(coord.latest) == {0, 1}  # both actors reported
    assert all(coord.latest[w].final for w in (0, 1))
    assert len(result.generator.nodes) == 2
    ip = ray.util.get_node_ip_address()
    assert all(node.endswith(ip) for node in result.generator.nodes), result.generator.nodes
    holding = [p for p in ray_dir.rglob("*") if p.is_file() and _holds(p, KEY.encode())]
    assert not holding, holding


def _holds(path: Path, needle: bytes) -> bool:
    try:
        return needle in path.read_bytes()
    except OSError:  # a socket, a file removed meanwhile
        return False


def test_a_live_users_change_reaches_both_actors(mock, ray_dir):
    schedule = [ControlChange("users", 6, at=1.3, source="test")]
    seen: dict[int, set[int]] = {0: set(), 1: set()}

    class Watch(RayPool):
        def receive(self, timeout: float) -> list[Any]:
            got = super().receive(timeout)
            for message in got:
                if isinstance(message, WorkerSnapshot):
                    seen[message.worker].add(message.users)
            return got

    coord = drive(closed(2, "4s"), mock.url, schedule, pool=Watch())
    assert seen[0] >= {1, 3} and seen[1] >= {1, 3}, seen  # 1 user each, then 3 each
    points = {p.t: p for p in coord.result().series}
    assert points[0].users == 2
    # a second sums each actor's last gauge in it: an actor starved for a whole second (CI's
    # busy cores) is carried at its gauge from before the change, which shows a second later
    assert any(points[t].users == 6 for t in (2, 3) if t in points), points
    assert coord.result().summary.requests == mock.stats()["served"]


def test_a_killed_actor_s_users_move_to_the_survivor(mock, ray_dir):
    coord = Coordinator(closed(6, "4s"), mock.url, pool=RayPool())
    coord.start()
    killed = False
    deadline = time.monotonic() + 60
    try:
        while not coord.done and time.monotonic() < deadline:
            coord.tick(0.05)
            if not killed and coord.elapsed >= 1.2:
                coord.pool.kill(1)  # type: ignore[attr-defined]
                killed = True
    finally:
        coord.stop()
    assert killed and time.monotonic() < deadline
    assert list(coord.lost_workers) == [1]
    assert "exited unexpectedly" in coord.lost_workers[1]
    points = {p.t: p for p in coord.series.points}
    assert set(points) >= {0, 1, 2, 3}  # the series went on after the loss
    assert points[3].users == 6  # all of them on the survivor now
    assert points[3].rps > 0
    generator = coord.result().generator
    assert generator.workers_lost == 1
    assert any("worker 1 lost" in w for w in generator.warnings)


def test_shuffled_live_changes_reach_actors_in_the_order_sent(mock, ray_dir):
    """The ordering stress test of tests/engine/test_control_order.py, over Ray actors."""
    pool = ShufflingPool(seed=11, inner=RayPool())
    schedule = list(changes())
    config = RunConfig(load={"mode": "closed", "users": 4, "duration": 3.0}, workers=2)
    coord = drive(config, mock.url, schedule, pool=pool)
    check_last_state(coord, pool, schedule, mock)
