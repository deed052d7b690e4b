"""Two runs side by side: the same figures with absolute and relative deltas.

Written once for every place that compares runs (the app's compare screen today, a
``loadtui compare`` command and the HTML report later). Plain data in, plain rows out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["ComparisonRow", "compare_runs"]


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


def _metric(summary: dict[str, Any], name: str, key: str) -> float | None:
    m = summary.get("metrics", {}).get(name) or {}
    return m.get(key) if m.get("count") else None


def compare_runs(a: dict[str, Any], b: dict[str, Any]) -> list[ComparisonRow]:
    sa, sb = a.get("summary", {}), b.get("summary", {})
    rows = [
        ComparisonRow("requests", sa.get("requests"), sb.get("requests"), "", None),
        ComparisonRow("req/s", sa.get("rps"), sb.get("rps"), "/s", False),
        ComparisonRow("error rate", sa.get("error_rate"), sb.get("error_rate"), "", True),
        ComparisonRow(
            "output tokens/s",
            sa.get("output_tokens_per_s"),
            sb.get("output_tokens_per_s"),
            "/s",
            False,
        ),
    ]
    for name, label in (
        ("latency_ms", "latency"),
        ("ttft_ms", "TTFT"),
        ("itl_ms", "ITL"),
        ("tpot_ms", "TPOT"),
    ):
        for key in ("p50", "p95", "p99"):
            rows.append(
                ComparisonRow(
                    f"{label} {key}", _metric(sa, name, key), _metric(sb, name, key), "ms", True
                )
            )
    return rows
