"""How numbers look on screen: milliseconds, counts, clocks. Plain functions, no Textual."""

from __future__ import annotations

__all__ = ["clock", "count", "ms", "rate"]


def ms(value: float | None) -> str:
    """A duration in ms with 3 significant figures; seconds from 10 s up; '—' for no data."""
    if value is None or value < 0:
        return "—"
    if value >= 10_000:
        return f"{value / 1000:.1f}s"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def count(n: float | None) -> str:
    if n is None:
        return "—"
    return f"{n:,.0f}"


def rate(r: float | None) -> str:
    """Requests per second; '—' when there is no rate (closed loop without a cap)."""
    if r is None:
        return "—"
    return f"{r:,.1f}" if r < 100 else f"{r:,.0f}"


def clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"
