"""How a millisecond figure is written, for both front ends.

The console, its end-of-run tables and the app used to format the same number three ways
(``83.2``, ``83.21``, ``83``); this is the one function they all call, so a figure reads the
same in a log line, a summary table and the app. The app's precision won: three significant
figures, seconds from 10 s up (``12.3s``).
"""

from __future__ import annotations

__all__ = ["fmt_ms"]


def fmt_ms(value: float | None, missing: str = "—") -> str:
    """A duration in ms with 3 significant figures; seconds from 10 s up; ``missing`` for no data.

    The console passes ``missing="-"`` (plain ASCII in logs); the app keeps the dash ``—``.
    """
    if value is None or value < 0:
        return missing
    if value >= 10_000:
        return f"{value / 1000:.1f}s"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"
