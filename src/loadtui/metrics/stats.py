"""Interval statistics: recorded in a worker, drained into snapshots, merged by the coordinator.

``Recorder`` is the hot-path side: plain attribute increments and histogram records, no
allocation per request beyond what HdrHistogram does. ``Aggregate`` is the merging side: it adds
snapshots (or other aggregates) exactly, and produces the summary dict run files and reports use.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from loadtui.metrics.formulas import error_rate, output_tokens_per_s
from loadtui.metrics.histogram import Histogram
from loadtui.model.snapshot import WorkerSnapshot

__all__ = ["HISTOGRAMS", "Aggregate", "Recorder"]

HISTOGRAMS = (
    "latency_ms",
    "latency_actual_ms",
    "ttft_ms",
    "itl_ms",
    "tpot_ms",
    "headers_ms",
    "send_lag_ms",
)
"""latency_ms is measured from the intended send time (equal to the actual one in closed loop);
latency_actual_ms from the actual send; send_lag_ms = actual − intended send time (open loop)."""

COUNTERS = (
    "requests",
    "ok",
    "cancelled",
    "output_tokens",
    "input_tokens",
    "tokens_from_usage",
    "tokens_counted",
    "bytes",
    "arrivals",
)


class Recorder:
    """Accumulates one interval in a worker. Not thread-safe; one per event loop."""

    __slots__ = ("errors", "hist", "status_codes", *COUNTERS)

    def __init__(self) -> None:
        self.hist: dict[str, Histogram] = {name: Histogram() for name in HISTOGRAMS}
        self.errors: dict[str, int] = {}
        self.status_codes: dict[int, int] = {}
        for name in COUNTERS:
            setattr(self, name, 0)

    def error(self, error_class: str) -> None:
        self.errors[error_class] = self.errors.get(error_class, 0) + 1

    def status(self, code: int) -> None:
        self.status_codes[code] = self.status_codes.get(code, 0) + 1

    def drain(self, worker: int, t: float) -> WorkerSnapshot:
        """Package this interval as a snapshot and start a fresh one."""
        snap = WorkerSnapshot(
            worker=worker,
            t=t,
            counters={name: getattr(self, name) for name in COUNTERS},
            errors=self.errors,
            status_codes=self.status_codes,
            histograms={name: h.encode() for name, h in self.hist.items() if h.count},
        )
        for h in self.hist.values():
            h.reset()
        self.errors = {}
        self.status_codes = {}
        for name in COUNTERS:
            setattr(self, name, 0)
        return snap


class Aggregate:
    """Exactly merged statistics over any set of intervals and workers."""

    __slots__ = ("counters", "errors", "hist", "status_codes")

    def __init__(self) -> None:
        self.counters: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.status_codes: Counter[int] = Counter()
        self.hist: dict[str, Histogram] = {name: Histogram() for name in HISTOGRAMS}

    def add_decoded(self, snap: WorkerSnapshot, decoded: dict[str, Histogram]) -> None:
        self.counters.update(snap.counters)
        self.errors.update(snap.errors)
        self.status_codes.update(snap.status_codes)
        for name, h in decoded.items():
            self.hist[name].merge(h)

    def add_snapshot(self, snap: WorkerSnapshot) -> None:
        self.add_decoded(snap, decode_histograms(snap))

    @property
    def requests(self) -> int:
        return self.counters["requests"]

    @property
    def errors_total(self) -> int:
        return sum(self.errors.values())

    def summary(self, duration_s: float) -> dict[str, Any]:
        requests = self.requests
        errors = self.errors_total
        out_tokens = self.counters["output_tokens"]
        metrics = {name: h.summary() for name, h in self.hist.items()}
        return {
            "requests": requests,
            "ok": self.counters["ok"],
            "errors_total": errors,
            "errors": dict(sorted(self.errors.items())),
            "status_codes": {str(k): v for k, v in sorted(self.status_codes.items())},
            "cancelled": self.counters["cancelled"],
            "error_rate": round(error_rate(errors, requests), 6),
            "success_rate": round(1.0 - error_rate(errors, requests), 6) if requests else 0.0,
            "duration_s": round(duration_s, 3),
            "rps": round(requests / duration_s, 3) if duration_s > 0 else 0.0,
            "output_tokens": out_tokens,
            "input_tokens": self.counters["input_tokens"],
            "output_tokens_per_s": round(output_tokens_per_s(out_tokens, duration_s), 3),
            "token_source": {
                "usage": self.counters["tokens_from_usage"],
                "counted_chunks": self.counters["tokens_counted"],
            },
            "bytes_received": self.counters["bytes"],
            "metrics": metrics,
        }


def decode_histograms(snap: WorkerSnapshot) -> dict[str, Histogram]:
    return {name: Histogram.decode(data) for name, data in snap.histograms.items()}
