"""How numbers look on screen: counts, clocks, rates. Plain functions, no Textual.

Milliseconds are ``loadtui.run.units.fmt_ms`` (re-exported as ``ms``), the one formatter the
console uses too.
"""

from __future__ import annotations

from loadtui.run.units import fmt_ms as ms

__all__ = ["clock", "count", "ms", "rate"]


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
