"""The last N seconds as one exactly merged aggregate, for "how is it doing *now*" tables.

Whole-run percentiles move slowly once a run is long; a live change (more users, a higher rate)
shows in the recent window within seconds. Snapshots are bucketed by the second they belong to
and the buckets are merged on demand, so the cost is fixed by N, not by the run's length.
"""

from __future__ import annotations

from loadtui.metrics.histogram import Histogram
from loadtui.metrics.series import second_of
from loadtui.metrics.stats import Aggregate
from loadtui.model.snapshot import WorkerSnapshot

__all__ = ["RollingWindow"]


class RollingWindow:
    def __init__(self, seconds: int = 10) -> None:
        self.seconds = seconds
        self._buckets: dict[int, Aggregate] = {}
        self._newest = -1

    def add(self, snap: WorkerSnapshot, decoded: dict[str, Histogram]) -> None:
        s = second_of(snap.t)
        bucket = self._buckets.get(s)
        if bucket is None:
            bucket = self._buckets[s] = Aggregate()
        bucket.add_decoded(snap, decoded, labels=False)
        if s > self._newest:
            self._newest = s
            for old in [k for k in self._buckets if k <= s - self.seconds]:
                del self._buckets[old]

    def aggregate(self) -> Aggregate:
        """Everything in the newest ``seconds`` seconds seen so far (the newest may be partial)."""
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
