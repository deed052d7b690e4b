"""How often workers report is the pool's call, and the seconds still close right.

A pool across hosts reports less often (each push costs more there: 1 s for Ray) than one on a
single host (0.25 s). The coordinator hands the pool's interval to every worker; the series must
still have one point per second, each holding the requests of that second, summing to the
summary — whatever the interval.
"""

from __future__ import annotations

import pytest

from helpers import drive
from loadtui.engine.inprocess import InProcessPool
from loadtui.engine.messages import Up
from loadtui.metrics.series import second_of
from loadtui.model.plan import RunConfig
from loadtui.model.snapshot import WorkerSnapshot


class RecordingPool(InProcessPool):
    """Threads, keeping every snapshot that came up."""

    def __init__(self, snapshot_interval: float) -> None:
        super().__init__(snapshot_interval=snapshot_interval)
        self.snapshots: list[WorkerSnapshot] = []

    def receive(self, timeout: float) -> list[Up]:
        got = super().receive(timeout)
        self.snapshots += [m for m in got if isinstance(m, WorkerSnapshot)]
        return got


@pytest.mark.parametrize("interval", [0.5, 1.0])
def test_seconds_close_right_whatever_the_pool_s_snapshot_interval(mock, interval: float):
    pool = RecordingPool(interval)
    config = RunConfig(load={"mode": "closed", "users": 4, "duration": 3}, workers=2)
    coord = drive(config, mock.url, pool=pool)
    result = coord.result()
    for w in (0, 1):  # each worker reported on the pool's interval
        times = [s.t for s in pool.snapshots if s.worker == w and not s.final]
        assert times == pytest.approx([interval * k for k in range(1, len(times) + 1)])
        assert len(times) >= int(3 / interval) - 1
    seconds = [p.t for p in result.series]
    assert seconds == list(range(len(seconds))) and len(seconds) >= 3  # one point a second
    assert all(p.rps > 0 for p in result.series[:3])  # each full second has its requests
    assert sum(p.rps for p in result.series) == result.summary.requests
    assert result.summary.requests == mock.stats()["served"] > 0
    # a point holds the requests of the snapshots that ended in it, not a neighbour's
    by_second: dict[int, int] = {}
    for s in pool.snapshots:
        second = second_of(s.t)
        by_second[second] = by_second.get(second, 0) + s.counters["requests"]
    assert {p.t: p.rps for p in result.series} == by_second
