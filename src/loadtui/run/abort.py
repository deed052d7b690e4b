"""``abort_on_fail``: stop a run as soon as one of its marked thresholds fails (k6's abortOnFail).

The drive loop asks ``AbortWatch.check`` after every tick; it judges the marked thresholds on
the live merged figures at most once a second, and only for a run that has such thresholds —
a summary of the merged histograms costs milliseconds of the coordinator's process, which may
share a core with a worker. A threshold with no sample yet (or past its ``delay_abort_eval``
not yet) never aborts: nothing has been proven.
"""

from __future__ import annotations

from loadtui.engine.coordinator import Coordinator
from loadtui.model.plan import RunConfig
from loadtui.model.thresholds import Abort, judge_all, parsed, run_labels

__all__ = ["EVERY", "AbortWatch"]

EVERY = 1.0
"""Seconds of run time between two judgements."""


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
        due = [t for t in self._watched if elapsed >= t.delay_abort_eval]
        if not due:
            return None
        summary = coord.totals.summary(elapsed)
        for t, r in zip(due, judge_all(due, summary, self._streamed, self._labels), strict=True):
            if r.actual is not None and not r.passed and not r.skipped:
                return Abort(t.metric, t.expression, r.actual, round(elapsed, 1))
        return None
