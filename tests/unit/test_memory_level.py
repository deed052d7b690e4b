"""Memory level of the coordinator's merging (issue 15): an aggregate makes only the histograms
that get samples, the series merges only those its points read, the recent window merges
nothing until it is read — and none of it changes a figure (benchmarks/memory_bench.py
measures the level itself)."""

from __future__ import annotations

import random
import tracemalloc

from loadtui.metrics.series import Series, _point
from loadtui.metrics.stats import HISTOGRAMS, Aggregate, Recorder, decode_histograms
from loadtui.metrics.window import RollingWindow
from loadtui.model.snapshot import WorkerSnapshot


def snapshots(seconds: int, stream: bool, seed: int = 3) -> list[WorkerSnapshot]:
    """Four snapshots a second from one worker, like a non-streaming (or streaming) run's."""
    rng = random.Random(seed)
    rec = Recorder()
    out = []
    for s in range(seconds):
        for k in range(1, 5):
            for _ in range(20):
                latency = rng.uniform(5, 400)
                rec.hist["latency_ms"].record_ms(latency)
                rec.hist["latency_actual_ms"].record_ms(latency)
                rec.hist["headers_ms"].record_ms(latency / 2)
                rec.hist["ttft_ms"].record_ms(latency / 3)
                if stream:
                    rec.hist["itl_ms"].record_ms(rng.uniform(1, 20))
                    rec.hist["tpot_ms"].record_ms(rng.uniform(1, 20))
                rec.requests += 1
            out.append(rec.drain(0, s + k * 0.25))
    return out


def test_an_aggregate_makes_only_the_histograms_that_get_samples():
    agg = Aggregate()
    for snap in snapshots(2, stream=False):
        agg.add_decoded(snap, decode_histograms(snap))
    made = set(agg.hist)
    assert made == {"latency_ms", "latency_actual_ms", "headers_ms", "ttft_ms"}
    # reading an empty one still works (an empty summary), and the run file leaves it out
    assert agg.hist["itl_ms"].count == 0
    assert set(agg.histograms().whole) == made
    assert list(agg.histograms().whole) == [n for n in HISTOGRAMS if n in made]  # file order
    assert Aggregate().hist.keys() == set()


def test_the_series_points_are_those_of_every_histogram_merged():
    snaps = snapshots(6, stream=True)
    series = Series()
    for snap in snaps:
        series.add(snap, decode_histograms(snap))
    points = series.finalize_through(10)
    # the reference: each second merged whole, as before the series merged only what it reads
    whole: dict[int, Aggregate] = {}
    for snap in snaps:
        whole.setdefault(int(snap.t - 1e-6), Aggregate()).add_decoded(
            snap, decode_histograms(snap), labels=False
        )
    gauges = {0: (0, 0)}
    expected = [_point(s, agg, gauges, None, None) for s, agg in sorted(whole.items())]
    assert points == expected
    assert len(points) == 6 and points[3].rps == 80 and points[3].itl_ms is not None


def test_the_window_read_late_gives_what_it_gives_read_all_along():
    snaps = snapshots(25, stream=True)
    eager, late = RollingWindow(10), RollingWindow(10)
    eager.aggregate()  # read from the start: merges every snapshot as it comes
    for i, snap in enumerate(snaps):
        decoded = decode_histograms(snap)
        eager.add(snap, decoded)
        late.add(snap, decoded)
        if i == 60:  # both read mid-run: the late one merges what it kept
            assert late.aggregate().summary(10) == eager.aggregate().summary(10)
    assert late.aggregate().summary(10) == eager.aggregate().summary(10)
    assert eager.aggregate().requests == 10 * 80


def test_a_window_never_read_holds_no_merged_buckets():
    """The console never reads the window: 10 seconds of it kept ~7-13 MB of counts arrays."""
    snaps = snapshots(30, stream=False)
    window = RollingWindow(10)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for snap in snaps:
            window.add(snap, decode_histograms(snap))
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert kept < 1e6  # the last 10 s of snapshots, encoded; merged it would be ~7.5 MB
    assert window.aggregate().requests == 10 * 80
