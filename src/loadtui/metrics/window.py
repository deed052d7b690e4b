"""The last N seconds as one exactly merged aggregate, for "how is it doing *now*" tables.

Whole-run percentiles move slowly once a run is long; a live change (more users, a higher rate)
shows in the recent window within seconds. Snapshots are bucketed by the second they belong to
and the buckets are merged on demand, so the cost is fixed by N, not by the run's length.

Only the app shows the window; the console never reads it. Until the first ``aggregate()``
the window keeps the last N seconds' snapshots as they came (their histograms still encoded,
a few KB each) instead of merged buckets (an aggregate per second, up to seven 188 KB counts
arrays each: ~7–13 MB for 10 seconds); the first read merges them, and from then on snapshots
are merged as they come, as the app reads the window several times a second.
"""

from __future__ import annotations

from dataclasses import replace

from loadtui.metrics.histogram import Histogram
from loadtui.metrics.series import second_of
from loadtui.metrics.stats import Aggregate, decode_histograms
from loadtui.model.snapshot import WorkerSnapshot

__all__ = ["RollingWindow"]


class RollingWindow:
    def __init__(self, seconds: int = 10) -> None:
        self.seconds = seconds
        self._buckets: dict[int, Aggregate] = {}
        self._pending: dict[int, list[WorkerSnapshot]] = {}
        """Snapshots not merged yet, by second: all of them until the window is first read."""
        self._read = False
        self._newest = -1

    def add(self, snap: WorkerSnapshot, decoded: dict[str, Histogram]) -> None:
        s = second_of(snap.t)
        if self._read:
            bucket = self._buckets.get(s)
            if bucket is None:
                bucket = self._buckets[s] = Aggregate()
            bucket.add_decoded(snap, decoded, labels=False)
        else:
            # without what a window never reads: up to 200 user rows, per-label histograms
            bare = replace(snap, users_rows=[], labels={}, error_samples=[])
            self._pending.setdefault(s, []).append(bare)
        if s > self._newest:
            self._newest = s
            for by_second in (self._buckets, self._pending):
                for old in [k for k in by_second if k <= s - self.seconds]:
                    del by_second[old]

    def aggregate(self) -> Aggregate:
        """Everything in the newest ``seconds`` seconds seen so far (the newest may be partial)."""
        self._read = True
        for s, snaps in self._pending.items():
            bucket = self._buckets.setdefault(s, Aggregate())
            for snap in snaps:
                bucket.add_decoded(snap, decode_histograms(snap), labels=False)
        self._pending.clear()
        out = Aggregate()
        for s, bucket in self._buckets.items():
            if s > self._newest - self.seconds:
                out.merge(bucket)
        return out

    @property
    def span(self) -> int:
        """Seconds the window covers now (fewer than ``seconds`` early in a run)."""
        if self._newest < 0:
            return 0
        return min(self.seconds, self._newest + 1)
