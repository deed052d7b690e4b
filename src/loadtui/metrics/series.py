"""Per-second series: one point per second of the run, built from interval snapshots.

Snapshots carry the offset at the end of their interval; a snapshot ending in (s, s+1] belongs
to second ``s``. The coordinator finalizes a second once every worker has reported past it, so
each point is complete and its cost is fixed whatever the run's length.

Users and in-flight are gauges, not counts: a worker whose only snapshot for a while ended in a
later second (starved for a second, or reporting every 0.5 s or more) still had its users in the
seconds between, so a second without a gauge from a live worker carries that worker's last one.
A worker's final snapshot ends its carry (it drained), and so does its loss (its users moved to
the survivors, whose own gauges count them).
"""

from __future__ import annotations

import math

from loadtui.metrics.histogram import Histogram
from loadtui.metrics.stats import Aggregate
from loadtui.model.record import Percentiles, SeriesPoint
from loadtui.model.snapshot import WorkerSnapshot

__all__ = ["Series", "second_of"]

_POINT_PERCENTILES = (50.0, 95.0, 99.0)
_POINT_HISTOGRAMS = ("latency_ms", "ttft_ms", "itl_ms", "tpot_ms")
"""The histograms a point reads: an open second merges only these (each merge walks a 188 KB
counts array, and each one merged into makes one)."""


def second_of(t: float) -> int:
    """The whole second an interval ending at offset ``t`` belongs to."""
    return max(0, math.ceil(t - 1e-6) - 1)


class Series:
    def __init__(self) -> None:
        self.points: list[SeriesPoint] = []
        self._open: dict[int, Aggregate] = {}
        self._gauges: dict[int, dict[int, tuple[int, int]]] = {}
        self._targets: dict[int, tuple[int, float | None]] = {}
        self._carry: dict[int, tuple[int, int]] = {}
        """Each reporting worker's last gauge (users, in flight), as of the last second closed."""
        self._ends: dict[int, set[int]] = {}
        """The workers whose final snapshot fell in each open second."""
        self._gone: set[int] = set()
        """Workers lost mid-run: their gauge is carried no further."""

    def add(self, snap: WorkerSnapshot, decoded: dict[str, Histogram]) -> None:
        s = second_of(snap.t)
        agg = self._open.get(s)
        if agg is None:
            agg = self._open[s] = Aggregate()
        used = {name: decoded[name] for name in _POINT_HISTOGRAMS if name in decoded}
        agg.add_decoded(snap, used, labels=False)
        if not snap.final:  # a worker's last word is "0 users" after draining: not a gauge
            self._gauges.setdefault(s, {})[snap.worker] = (snap.users, snap.in_flight)
        else:
            self._ends.setdefault(s, set()).add(snap.worker)

    def forget(self, worker: int) -> None:
        """A worker was lost: carry its gauge into no later second."""
        self._gone.add(worker)
        self._carry.pop(worker, None)

    def set_target(self, second: int, users: int, rate: float | None) -> None:
        self._targets[second] = (users, rate)

    def finalize_through(self, second: int) -> list[SeriesPoint]:
        """Close every open second ≤ ``second``; returns the new points."""
        new: list[SeriesPoint] = []
        for s in sorted(k for k in self._open if k <= second):
            agg = self._open.pop(s)
            gauges = self._gauges_of(s)
            target_users, target_rate = self._targets.pop(s, (None, None))
            new.append(_point(s, agg, gauges, target_users, target_rate))
        for s in [k for k in self._targets if k <= second]:
            del self._targets[s]
        self.points.extend(new)
        return new

    def _gauges_of(self, s: int) -> dict[int, tuple[int, int]]:
        """Second ``s``'s gauges: each worker's last in it, else its last before (carried)."""
        ended = self._ends.pop(s, set()) | self._gone
        gauges = {w: g for w, g in self._carry.items() if w not in ended}
        gauges.update(self._gauges.pop(s, {}))
        self._carry = {w: g for w, g in gauges.items() if w not in ended}
        return gauges


def _pcts(h: Histogram) -> Percentiles:
    if not h.count:
        return Percentiles()
    # one scan of the counts for all three (``percentile`` walks them in Python once per call:
    # ~4 ms each for a busy second's latency; benchmarks/series_bench.py)
    p50, p95, p99 = h.percentiles(_POINT_PERCENTILES)
    return Percentiles(p50=p50, p95=p95, p99=p99)


def _opt_pcts(h: Histogram) -> Percentiles | None:
    """ITL and TPOT: None for a second without a sample (a point of a run that streams
    nothing then carries, and its run file stores, nothing for them)."""
    return _pcts(h) if h.count else None


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
        itl_ms=_opt_pcts(agg.hist["itl_ms"]),
        tpot_ms=_opt_pcts(agg.hist["tpot_ms"]),
        slo_ok=agg.counters["slo_ok"] if "slo_judged" in agg.counters else None,
        slo_judged=agg.counters.get("slo_judged"),
    )
