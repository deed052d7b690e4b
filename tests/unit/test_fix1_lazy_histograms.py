"""Reading an aggregate's histogram that nothing filled makes none (review item 11): every
tick reads ITL, TPOT and the others for the frame, the series and the exposition, and each
read of a missing one used to make (and keep) a 188 KB histogram, giving back the memory the
lazy histograms saved."""

from __future__ import annotations

import pytest

from loadtui.metrics.histogram import Histogram
from loadtui.metrics.stats import Aggregate


def test_reads_of_unfilled_histograms_make_nothing_and_adds_stay_apart() -> None:
    a, b = Aggregate(), Aggregate()
    a.metrics()  # reads every histogram's summary
    assert a.hist["itl_ms"].count == 0 and dict(a.hist) == {}
    assert a.hist["itl_ms"] is b.hist["tpot_ms"]  # one shared empty, not one per read
    filled = Histogram()
    filled.record_ms(12.0)
    a.hist.add("itl_ms", filled)
    b.hist.add("itl_ms", filled)
    a.hist.add("itl_ms", filled)
    assert (a.hist["itl_ms"].count, b.hist["itl_ms"].count) == (2, 1)
    assert a.hist["tpot_ms"].count == 0 and set(a.hist) == {"itl_ms"}
    merged = Aggregate()
    merged.merge(a)
    assert merged.hist["itl_ms"].count == 2 and merged.hist["latency_ms"].count == 0


def test_writing_into_a_read_is_refused_not_shared() -> None:
    a, b = Aggregate(), Aggregate()
    with pytest.raises(TypeError, match=r"filled by Aggregate\.hist\.add"):
        a.hist["ttft_ms"].record_ms(5.0)
    with pytest.raises(TypeError):
        a.hist["ttft_ms"].merge(b.hist["itl_ms"])
    assert b.hist["ttft_ms"].count == 0
