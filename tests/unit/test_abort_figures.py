"""``run/abort.py figures``: the partial summary ``abort_on_fail`` judges on says what the whole
summary would, for every threshold it covers (it only leaves out histograms nobody reads)."""

from __future__ import annotations

import random

import pytest

from loadtui.metrics.histogram import Histogram
from loadtui.metrics.stats import Aggregate, LabelStats
from loadtui.model.thresholds import judge_all, parse_threshold
from loadtui.run.abort import figures

THRESHOLDS = [
    ("latency", "p(95)<100"),
    ("latency_actual", "avg<50"),
    ("ttft", "p(99)<40"),
    ("itl", "max<30"),
    ("error_rate", "rate<0.2"),
    ("success_rate", "rate>0.9"),
    ("latency{label:chat}", "p(95)<100"),
    ("ttft{label:chat stream}", "med<30"),
    ("itl{label:chat stream}", "p(95)<40"),
    ("tpot{label:chat stream}", "avg<20"),
    ("itl{label:chat}", "p(95)<40"),
    ("error_rate{label:chat}", "rate<0.2"),
    ("latency{label:gone}", "p(95)<100"),
    ("checks", "rate>0.5"),
]


def _aggregate(labels: bool) -> Aggregate:
    rng = random.Random(7)
    agg = Aggregate()
    for name in ("latency_ms", "latency_actual_ms", "ttft_ms", "itl_ms"):
        h = Histogram()
        for _ in range(500):
            h.record_ms(rng.uniform(5, 150))
        agg.hist.add(name, h)
    if labels:
        for label in ("chat", "chat stream"):
            stats = agg.labels[label] = LabelStats()
            for i in range(200):
                stats.record(rng.uniform(5, 150), i % 7 != 0, rng.uniform(5, 60))
                if label == "chat stream":
                    stats.itl.record_ms(rng.uniform(5, 60))
                    stats.tpot.record_ms(rng.uniform(5, 30))
    agg.counters.update(requests=500, ok=450)
    agg.errors.update(http_500=50)
    agg.checks["status"] = [40, 10]
    return agg


@pytest.mark.parametrize("labels", [True, False])
@pytest.mark.parametrize("n", range(len(THRESHOLDS)))
def test_the_partial_summary_judges_as_the_whole_one(labels: bool, n: int) -> None:
    agg = _aggregate(labels)
    ts = [parse_threshold(*THRESHOLDS[n])]
    run_labels = {"chat": False, "chat stream": True} if labels else {"chat": False}
    whole = judge_all(ts, agg.summary(10.0), True, run_labels)
    partial = judge_all(ts, figures(agg, ts, 10.0), True, run_labels)
    assert partial == whole
