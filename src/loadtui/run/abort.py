"""``abort_on_fail``: stop a run as soon as one of its marked thresholds fails (k6's abortOnFail).

The drive loop asks ``AbortWatch.check`` after every tick; it judges the marked thresholds on
the live merged figures at most once a second, and only for a run that has such thresholds.
It summarises only the histograms those thresholds read (``figures``): a histogram's summary
scans its buckets, tens of milliseconds for a long run's latency (benchmarks/abort_check.py),
on the coordinator's thread. A threshold with no sample yet (or before its
``delay_abort_eval``) never aborts: nothing has been proven.
"""

from __future__ import annotations

from loadtui.engine.coordinator import Coordinator
from loadtui.metrics.stats import Aggregate, LabelStats
from loadtui.model.plan import RunConfig
from loadtui.model.record import LabelSummary, Metrics, MetricSummary, RunSummary
from loadtui.model.thresholds import METRICS, Abort, Threshold, judge_all, parsed, run_labels

__all__ = ["EVERY", "AbortWatch", "figures"]

EVERY = 1.0
"""Seconds of run time between two judgements."""

_HISTOGRAMS = {"latency", "latency_actual", "ttft", "itl", "tpot"}
"""Metrics read from one whole-run histogram; the rates need only counters."""
_COUNTED = {"error_rate", "success_rate"}


class AbortWatch:
    """The ``abort_on_fail`` thresholds of one run, judged once a second while it runs."""

    def __init__(self, config: RunConfig) -> None:
        self._watched = [t for t in parsed(config.thresholds) if t.abort_on_fail]
        self._streamed = any(r.streamed for r in config.requests)
        self._labels = run_labels(config)
        self._next = EVERY

    def __bool__(self) -> bool:
        return bool(self._watched)

    def check(self, coord: Coordinator) -> Abort | None:
        """The first watched threshold failing now, or None (also when not due yet)."""
        elapsed = coord.elapsed
        if not self._watched or elapsed < self._next:
            return None
        self._next = elapsed + EVERY
        # the warm-up is not judged: its figures are not the run's (docs/workflows.md)
        warmup = coord.config.load.warmup
        due = [t for t in self._watched if elapsed >= max(t.delay_abort_eval, warmup)]
        if not due:
            return None
        summary = figures(coord.totals, due, coord.measured(elapsed))
        for t, r in zip(due, judge_all(due, summary, self._streamed, self._labels), strict=True):
            if r.actual is not None and not r.passed and not r.skipped:
                return Abort(t.metric, t.expression, r.actual, round(elapsed, 1))
        return None


def figures(agg: Aggregate, thresholds: list[Threshold], elapsed: float) -> RunSummary:
    """A summary holding what ``thresholds`` read and no more (counts, and the histograms
    they name); the whole summary for the rarer ones (checks, overhead, Batch)."""
    if any(t.name not in _HISTOGRAMS | _COUNTED for t in thresholds):
        return agg.summary(elapsed)
    whole = {t.name for t in thresholds if t.label is None or not agg.labels}
    # (a run of one label keeps no per-label figures: its label is judged on the totals)
    wanted: dict[str, set[str]] = {}
    for t in thresholds:
        if t.label is not None and t.label in agg.labels:
            wanted.setdefault(t.label, set()).add(t.name)
    names = [METRICS[n] for n in whole & _HISTOGRAMS]
    return RunSummary(
        requests=agg.requests,
        ok=agg.counters["ok"],
        errors_total=agg.errors_total,
        metrics=Metrics(**{name: agg.hist[name].summary() for name in names}),
        by_label={label: _label(agg.labels[label], n) for label, n in wanted.items()},
    )


def _label(stats: LabelStats, names: set[str]) -> LabelSummary:
    """A label's counts, and the histograms among ``names`` summarised."""
    empty = MetricSummary()
    return LabelSummary(
        stats.requests,
        stats.errors,
        stats.latency.summary() if "latency" in names else empty,
        stats.ttft.summary() if "ttft" in names else empty,
        stats.itl.summary() if "itl" in names else empty,
        stats.tpot.summary() if "tpot" in names else empty,
    )
