"""Soak memory: histograms the coordinator drops every second must be freed at once.

HdrHistogram objects point at their encoders and back; dropped ones used to wait for the
cyclic GC, which a quiet coordinator runs rarely, and the parent grew ~0.6 MB/s whatever the
rate. These run with the cyclic GC off, so only reference counting can free anything.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable, Iterator

import pytest

from loadtui.metrics.histogram import Histogram
from loadtui.metrics.series import Series
from loadtui.metrics.stats import Aggregate, Recorder, decode_histograms
from loadtui.metrics.window import RollingWindow


@pytest.fixture()
def no_cyclic_gc() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def growth_mb(step: Callable[[int], None], rounds: int) -> float:
    """Traced memory kept after ``rounds`` steps, beyond what the first 10 steps settled at."""
    tracemalloc.start()
    try:
        for i in range(10):
            step(i)
        before = tracemalloc.get_traced_memory()[0]
        for i in range(10, 10 + rounds):
            step(i)
        return (tracemalloc.get_traced_memory()[0] - before) / 1e6
    finally:
        tracemalloc.stop()


def test_dropped_histograms_are_freed_without_the_cyclic_gc(no_cyclic_gc):
    source = Histogram()
    source.record_ms(42.0)
    data = source.encode()

    def step(_: int) -> None:
        Histogram().record_ms(1.0)
        Histogram.decode(data).merge(source)

    # 100 rounds would keep ~18 MB of counts arrays if they waited for the cyclic GC
    assert growth_mb(step, 100) < 2.0


@pytest.mark.slow
def test_the_coordinator_s_per_second_merging_stays_flat(no_cyclic_gc):
    """What the coordinator does each second: decode, merge into the run, the series and the
    recent window; close the second. Only the series' small points may accumulate."""
    rec = Recorder()
    totals, series, recent = Aggregate(), Series(), RollingWindow(10)

    def second(s: int) -> None:
        for k in range(1, 5):
            rec.hist["latency_ms"].record_ms(50.0 + k)
            rec.hist["ttft_ms"].record_ms(20.0 + k)
            rec.requests += 1
            snap = rec.drain(0, s + k * 0.25)
            decoded = decode_histograms(snap)
            totals.add_decoded(snap, decoded)
            series.add(snap, decoded)
            recent.add(snap, decoded)
        series.finalize_through(s)
        recent.aggregate().summary(10)

    # 30 seconds (12 s of tracemalloc at 60 on a quiet machine): the leak this pins, ~0.6 MB a
    # second, would keep ~18 MB, 9 times the bound; 30 points of the series are ~0.1 MB
    assert growth_mb(second, 30) < 2.0


def test_a_reset_histogram_is_empty_and_records_afresh():
    h = Histogram()
    for ms in (1000.0, 2000.0):
        h.record_ms(ms)
    h.reset()
    assert h.count == 0 and h.summary().max == 0.0
    h.record_ms(5.0)
    s = h.summary()
    assert s.count == 1
    assert s.min == pytest.approx(5.0, rel=0.01) and s.max == pytest.approx(5.0, rel=0.01)
