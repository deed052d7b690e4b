"""A second of the series closes only once every live worker has reported past it.

Snapshots built by hand (what workers send, without workers): the closer must wait for the
slowest live worker, ignore a lost one, and close everything once the run has ended.
"""

from __future__ import annotations

from loadtui.engine.seconds import SecondCloser
from loadtui.metrics.health import HealthTracker
from loadtui.metrics.series import Series
from loadtui.metrics.stats import decode_histograms
from loadtui.model.plan import RunConfig
from loadtui.model.snapshot import WorkerSnapshot


def closer_and_series() -> tuple[SecondCloser, Series]:
    load = RunConfig(load={"mode": "closed", "users": 2, "duration": 10}).load
    series = Series()
    return SecondCloser(load, series, HealthTracker()), series


def report(series: Series, latest: dict[int, WorkerSnapshot], worker: int, upto: float) -> None:
    """``worker`` reports every quarter second after its last report, up to offset ``upto``."""
    k = round(latest[worker].t / 0.25) + 1 if worker in latest else 1
    while k * 0.25 <= upto + 1e-9:
        snap = WorkerSnapshot(worker=worker, t=k * 0.25, users=1)
        series.add(snap, decode_histograms(snap))
        latest[worker] = snap
        k += 1


def test_the_slowest_live_worker_decides_which_seconds_close():
    closer, series = closer_and_series()
    latest: dict[int, WorkerSnapshot] = {}
    report(series, latest, 0, 3.0)
    closer.advance(latest, [0, 1], set(), None)
    assert closer.through == -1 and series.points == []  # worker 1 has not reported at all
    report(series, latest, 1, 1.5)
    closer.advance(latest, [0, 1], set(), None)
    assert closer.through == 0 and len(series.points) == 1  # 1 is only half-way through second 1
    report(series, latest, 1, 3.0)
    closer.advance(latest, [0, 1], set(), None)
    assert closer.through == 2 and len(series.points) == 3


def test_a_lost_worker_no_longer_holds_seconds_open():
    closer, series = closer_and_series()
    latest: dict[int, WorkerSnapshot] = {}
    report(series, latest, 0, 4.0)
    report(series, latest, 1, 1.0)  # then it died
    closer.advance(latest, [0, 1], set(), None)
    assert closer.through == 0
    closer.advance(latest, [0], set(), None)  # the coordinator struck it from the live list
    assert closer.through == 3 and len(series.points) == 4


def test_the_end_of_the_run_closes_every_second():
    closer, series = closer_and_series()
    latest: dict[int, WorkerSnapshot] = {}
    report(series, latest, 0, 2.5)
    closer.advance(latest, [0], set(), load_ended_at=2.5, everything=True)
    assert len(series.points) == 3  # seconds 0, 1 and the part-second 2
    closer.advance(latest, [0], set(), load_ended_at=2.5, everything=True)
    assert len(series.points) == 3  # closing again adds nothing


def test_a_second_whose_rate_rose_is_judged_by_the_rate_before():
    """A second's target is the rate set last in it: raised from 10 to 20/s half-way through,
    its 15 arrivals are no shortfall; a whole second at 20/s with 15 is one."""
    load = RunConfig(load={"mode": "open", "rate": 10, "duration": 10}).load
    series, health = Series(), HealthTracker()
    closer = SecondCloser(load, series, health)
    latest: dict[int, WorkerSnapshot] = {}
    saturated = []
    for second, (rate, arrivals) in enumerate([(10, 10), (10, 10), (20, 15), (20, 15)]):
        series.set_target(second, 0, rate)
        snap = WorkerSnapshot(worker=0, t=second + 1.0, counters={"arrivals": arrivals})
        series.add(snap, decode_histograms(snap))
        latest[0] = snap
        closer.advance(latest, [0], set(), None)
        saturated.append(health.saturated_seconds)
    # second 2: 15 of the 10/s it held all through, no shortfall; second 3: 15 of 20/s is one
    assert closer.through == 3 and saturated == [0, 0, 0, 1]
    assert health.reasons["rate"] == 1
