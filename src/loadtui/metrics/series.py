"""Per-second series: one point per second of the run, built from interval snapshots.

Snapshots carry the offset at the end of their interval; a snapshot ending in (s, s+1] belongs
to second ``s``. The coordinator finalizes a second once every worker has reported past it, so
each point is complete and its cost is fixed whatever the run's length.
"""

from __future__ import annotations

import math

from loadtui.metrics.histogram import Histogram
from loadtui.metrics.stats import Aggregate
from loadtui.model.record import Percentiles, SeriesPoint
from loadtui.model.snapshot import WorkerSnapshot

__all__ = ["Series", "second_of"]


def second_of(t: float) -> int:
    """The whole second an interval ending at offset ``t`` belongs to."""
    return max(0, math.ceil(t - 1e-6) - 1)


class Series:
    def __init__(self) -> None:
        self.points: list[SeriesPoint] = []
        self._open: dict[int, Aggregate] = {}
        self._gauges: dict[int, dict[int, tuple[int, int]]] = {}
        self._targets: dict[int, tuple[int, float | None]] = {}

    def add(self, snap: WorkerSnapshot, decoded: dict[str, Histogram]) -> None:
        s = second_of(snap.t)
        agg = self._open.get(s)
        if agg is None:
            agg = self._open[s] = Aggregate()
        agg.add_decoded(snap, decoded, labels=False)
        if not snap.final:  # a worker's last word is "0 users" after draining: not a gauge
            self._gauges.setdefault(s, {})[snap.worker] = (snap.users, snap.in_flight)

    def set_target(self, second: int, users: int, rate: float | None) -> None:
        self._targets[second] = (users, rate)

    def finalize_through(self, second: int) -> list[SeriesPoint]:
        """Close every open second ≤ ``second``; returns the new points."""
        new: list[SeriesPoint] = []
        for s in sorted(k for k in self._open if k <= second):
            agg = self._open.pop(s)
            gauges = self._gauges.pop(s, {})
            target_users, target_rate = self._targets.pop(s, (None, None))
            new.append(_point(s, agg, gauges, target_users, target_rate))
        for s in [k for k in self._targets if k <= second]:
            del self._targets[s]
        self.points.extend(new)
        return new


def _pcts(h: Histogram) -> Percentiles:
    if not h.count:
        return Percentiles()
    return Percentiles(p50=h.percentile(50), p95=h.percentile(95), p99=h.percentile(99))


def _point(
    s: int,
    agg: Aggregate,
    gauges: dict[int, tuple[int, int]],
    target_users: int | None,
    target_rate: float | None,
) -> SeriesPoint:
    return SeriesPoint(
        t=s,
        users=sum(u for u, _ in gauges.values()),
        target_users=target_users,
        target_rate=target_rate,
        in_flight=sum(f for _, f in gauges.values()),
        rps=agg.requests,
        arrivals=agg.counters["arrivals"],
        dropped=agg.counters["dropped"],
        late=agg.counters["late"],
        errors=agg.errors_total,
        output_tokens=agg.counters["output_tokens"],
        latency_ms=_pcts(agg.hist["latency_ms"]),
        ttft_ms=_pcts(agg.hist["ttft_ms"]),
    )
