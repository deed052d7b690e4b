"""Goodput and SLO attainment in words, written once for the console, the app and the report.

Every front end says the same thing about a run's SLOs (docs/metrics.md, "SLOs and goodput"):
goodput in requests/s and output tokens/s, attainment as a share of the requests judged, and
how often each SLO was missed. Plain text: the console and the app style it, the report escapes it.
"""

from __future__ import annotations

from collections.abc import Mapping

from loadtui.model.record import SloSummary

__all__ = ["attainment_text", "goodput_text", "misses_text"]


def goodput_text(slo: SloSummary) -> str:
    """``12.3 req/s (98.4 tok/s)``: requests and output tokens that met every SLO, per second."""
    return f"{slo.goodput_rps:.1f} req/s ({slo.goodput_tokens_per_s:.1f} tok/s)"


def attainment_text(slo: SloSummary) -> str:
    """``97.5% (195/200)``; ``-`` before any request was judged."""
    if not slo.judged:
        return "-"
    return f"{slo.attainment * 100:.1f}% ({slo.ok:,}/{slo.judged:,})"


def misses_text(slo: SloSummary, bounds: Mapping[str, str] | None = None) -> str:
    """Every SLO's misses: ``ttft<500ms 5 (2.5%), latency<10s 0 (0.0%)`` (``bounds``: the
    config's ``slo`` table, to name each SLO with its bound)."""
    bounds = bounds or {}
    parts = [
        f"{name}{bounds.get(name, '')} {n:,} ({slo.miss_share(name) * 100:.1f}%)"
        for name, n in slo.misses.items()
    ]
    return ", ".join(parts) or "-"
