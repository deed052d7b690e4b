"""Two runs side by side: the same figures with absolute and relative deltas.

Written once for every place that compares runs (the app's compare screen today, a
``loadtui compare`` command and the HTML report later). Two run records in, plain rows out.
"""

from __future__ import annotations

from dataclasses import dataclass

from loadtui.model.record import PercentileName, RunRecord, RunSummary

__all__ = ["ComparisonRow", "compare_runs"]


_PERCENTILES: tuple[PercentileName, ...] = ("p50", "p95", "p99")


@dataclass(frozen=True)
class ComparisonRow:
    label: str
    a: float | None
    b: float | None
    unit: str
    lower_is_better: bool | None
    """None: neither direction is better (a count of requests depends on the run's length)."""

    @property
    def delta(self) -> float | None:
        if self.a is None or self.b is None:
            return None
        return self.b - self.a

    @property
    def ratio(self) -> float | None:
        """(b − a) / a; None when a is 0 or missing."""
        if self.delta is None or not self.a:
            return None
        return self.delta / self.a

    @property
    def verdict(self) -> str:
        """'better', 'worse' or '' (equal, or no data) for run B against run A."""
        d = self.delta
        if not d or self.lower_is_better is None:
            return ""
        return "better" if (d < 0) == self.lower_is_better else "worse"


def _metric(summary: RunSummary, name: str, key: PercentileName) -> float | None:
    """A percentile of a metric, None when the run had no sample of it."""
    m = summary.metrics.get(name)
    return m.percentile(key) if m.count else None


def compare_runs(a: RunRecord, b: RunRecord) -> list[ComparisonRow]:
    sa, sb = a.summary, b.summary
    rows = [
        ComparisonRow("requests", sa.requests, sb.requests, "", None),
        ComparisonRow("req/s", sa.rps, sb.rps, "/s", False),
        ComparisonRow("error rate", sa.error_rate, sb.error_rate, "", True),
        ComparisonRow(
            "output tokens/s", sa.output_tokens_per_s, sb.output_tokens_per_s, "/s", False
        ),
    ]
    for name, label in (
        ("latency_ms", "latency"),
        ("ttft_ms", "TTFT"),
        ("itl_ms", "ITL"),
        ("tpot_ms", "TPOT"),
    ):
        for key in _PERCENTILES:
            rows.append(
                ComparisonRow(
                    f"{label} {key}", _metric(sa, name, key), _metric(sb, name, key), "ms", True
                )
            )
    return rows
