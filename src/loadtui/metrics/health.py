"""Generator health: is the load generator itself the bottleneck?

A load tester that silently saturates reports the generator's latency as the target's. Workers
report CPU and event-loop lag each interval; the coordinator adds the achieved vs target arrival
rate, open-loop arrivals dropped or sent late, and workers lost mid-run. The rules that raise a
warning are written here, once, and quoted in docs/metrics.md.
"""

from __future__ import annotations

from collections import Counter

from loadtui.model.record import GeneratorHealth, LostWorker
from loadtui.model.snapshot import WorkerSnapshot

__all__ = [
    "CPU_LIMIT",
    "LAG_LIMIT_MS",
    "LATE_MS",
    "RATE_SHORTFALL",
    "HealthTracker",
    "placement",
]

CPU_LIMIT = 90.0
"""A worker above this CPU % is saturated."""
LAG_LIMIT_MS = 25.0
"""Event-loop lag above this delays timestamps and sends."""
RATE_SHORTFALL = 0.95
"""Open loop: achieved arrivals below this fraction of the target rate (with room under the
in-flight cap) means the generator cannot keep up."""
LATE_MS = 100.0
"""Open loop: an arrival sent more than this after its intended time is counted ``late``."""

_REASONS = {
    "cpu": f"a worker's CPU at or above {CPU_LIMIT:.0f}%",
    "lag": f"event-loop lag at or above {LAG_LIMIT_MS:.0f} ms",
    "rate": f"achieved arrivals below {RATE_SHORTFALL:.0%} of the target rate",
}


class HealthTracker:
    def __init__(self) -> None:
        self.cpu_max = 0.0
        self.cpu_sum = 0.0
        self.cpu_n = 0
        self.lag_max_ms = 0.0
        self.saturated_seconds = 0
        self.cap_seconds = 0
        self.reasons: Counter[str] = Counter()
        self.dropped = 0
        self.late = 0
        self.lost: list[LostWorker] = []
        """Workers that ended mid-run."""
        self.nodes: dict[int, str] = {}
        """Where each worker runs, when its pool says (Ray actors: host and IP)."""
        self._second_bad: dict[int, tuple[str, str]] = {}
        self.current_warning: str | None = None

    def observe(self, snap: WorkerSnapshot, second: int) -> None:
        self.cpu_max = max(self.cpu_max, snap.cpu_percent)
        self.cpu_sum += snap.cpu_percent
        self.cpu_n += 1
        self.lag_max_ms = max(self.lag_max_ms, snap.loop_lag_ms)
        if snap.cpu_percent >= CPU_LIMIT:
            self._second_bad[second] = (
                "cpu",
                f"worker {snap.worker} CPU at {snap.cpu_percent:.0f}%",
            )
        elif snap.loop_lag_ms >= LAG_LIMIT_MS and second not in self._second_bad:
            self._second_bad[second] = (
                "lag",
                f"worker {snap.worker} event loop lagging {snap.loop_lag_ms:.0f} ms",
            )

    def worker_lost(self, worker: int, at_s: float, reason: str) -> None:
        """A worker ended mid-run; the warning stays up for the rest of the run."""
        self.lost.append(LostWorker(worker=worker, at_s=round(at_s, 3), reason=reason))
        self.current_warning = self._lost_warning()

    def _lost_warning(self) -> str | None:
        if not self.lost:
            return None
        last = self.lost[-1]
        return (
            f"{len(self.lost)} worker(s) lost (worker {last.worker}: {last.reason}): "
            "their load moved to the others"
        )

    def close_second(
        self,
        second: int,
        target_rate: float | None,
        arrivals: int,
        in_flight: int,
        cap: int,
        dropped: int = 0,
        late: int = 0,
    ) -> str | None:
        """Judge one finished second (``arrivals`` sent, ``dropped`` never sent); returns the
        warning for it, if any."""
        bad = self._second_bad.pop(second, None)
        for s in [k for k in self._second_bad if k < second]:
            del self._second_bad[s]
        self.dropped += dropped
        self.late += late
        at_cap = target_rate is not None and in_flight >= cap
        if at_cap:
            self.cap_seconds += 1
        short = target_rate and not at_cap and arrivals < RATE_SHORTFALL * target_rate
        if bad is None and short and second > 0:  # the first second is partial
            bad = ("rate", f"sent {arrivals} arrivals/s of a target {target_rate:g}/s")
        behind = f": {dropped} arrivals dropped, {late} sent late" if dropped or late else ""
        if bad is not None:
            self.saturated_seconds += 1
            self.reasons[bad[0]] += 1
            self.current_warning = f"generator saturated: {bad[1]}{behind}"
        elif at_cap:
            self.current_warning = (
                f"in-flight cap reached: the target is slower than the rate{behind}"
            )
        elif behind:
            self.current_warning = f"open loop behind schedule{behind}"
        else:
            self.current_warning = None
        lost = self._lost_warning()  # stays up for the rest of the run, first
        if lost is not None:
            self.current_warning = lost + (
                f" · {self.current_warning}" if self.current_warning else ""
            )
        return self.current_warning

    @property
    def warnings(self) -> list[str]:
        out = [
            f"generator saturated for {n}s ({_REASONS[reason]}): numbers may reflect the generator"
            for reason, n in self.reasons.most_common()
        ]
        if self.cap_seconds:
            out.append(
                f"max_in_flight reached for {self.cap_seconds}s: the target is slower than the arrival rate"
            )
        if self.dropped:
            out.append(
                f"{self.dropped} arrivals dropped: more were waiting to be sent than the backlog holds"
            )
        if self.late:
            out.append(
                f"{self.late} arrivals sent more than {LATE_MS:g} ms after their intended time"
            )
        out.extend(
            f"worker {w.worker} lost at {w.at_s:g}s ({w.reason}): its load moved to the others"
            for w in self.lost
        )
        return out

    def summary(
        self,
        workers: int = 0,
        target_rate_mean: float | None = None,
        achieved_rate: float | None = None,
    ) -> GeneratorHealth:
        """The run's generator health; the coordinator knows ``workers`` and, in open loop,
        the target and achieved arrival rates."""
        return GeneratorHealth(
            workers=workers,
            cpu_percent_max=round(self.cpu_max, 1),
            cpu_percent_mean=round(self.cpu_sum / self.cpu_n, 1) if self.cpu_n else 0.0,
            loop_lag_ms_max=round(self.lag_max_ms, 2),
            saturated_seconds=self.saturated_seconds,
            in_flight_cap_seconds=self.cap_seconds,
            workers_lost=len(self.lost),
            lost_workers=tuple(self.lost),
            warnings=tuple(self.warnings),
            target_rate_mean=target_rate_mean,
            achieved_rate=achieved_rate,
            nodes=tuple(self.nodes.get(w, "") for w in range(workers)) if self.nodes else (),
        )


_IDS_SHOWN = 8
"""Actor numbers listed per node before the rest are only counted."""


def placement(health: GeneratorHealth, most: int = 4) -> list[str]:
    """Where the workers ran, one line per node (``vm-a 10.0.0.5: actors 0, 2``), a lost one
    marked, at most ``most`` lines; empty when they ran here as processes. The console's
    end-of-run lines and the app's health panel both show these."""
    if not health.nodes:
        return []
    lost = {w.worker for w in health.lost_workers}
    by_node: dict[str, list[str]] = {}
    for index, node in enumerate(health.nodes):
        by_node.setdefault(node or "unknown node", []).append(
            f"{index} lost" if index in lost else str(index)
        )
    lines = []
    for node, ids in by_node.items():
        shown = ", ".join(ids[:_IDS_SHOWN]) + (
            f" … ({len(ids)} in all)" if len(ids) > _IDS_SHOWN else ""
        )
        lines.append(f"{node}: actor{'s' if len(ids) > 1 else ''} {shown}")
    if len(lines) > most:
        lines[most - 1 :] = [f"… and {len(lines) - most + 1} more nodes"]
    return lines
