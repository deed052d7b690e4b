"""Parsing of human durations ("30s", "1m30s", "250ms") and ranges ("0.5-2s").

Every option and preset key that takes a time goes through here, so the accepted syntax is the
same on the command line, in presets and in control files.
"""

from __future__ import annotations

import re

__all__ = ["MAX_DURATION", "format_duration", "parse_duration", "parse_range"]

MAX_DURATION = 30 * 86400.0
"""The longest time any option takes (30 days): beyond it a value is a typo or an overflow, and
a run that long would never end in practice."""

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")


def parse_duration(text: object, *, most: float = MAX_DURATION) -> float:
    """Seconds from ``"30s"``, ``"1m30s"``, ``"250ms"``, ``"2h"`` or a bare number of seconds.

    Raises ValueError with a message fit for a user — also for a list, table or null (a preset,
    run file or control file can hold any of them) and for anything beyond ``most`` (a run's
    times: ``MAX_DURATION``; an age, as ``runs prune --older-than`` takes, can be longer).
    """
    if isinstance(text, bool) or not isinstance(text, str | int | float):
        raise ValueError(f"expected a duration like 30s, got {_shown(text)}")
    if isinstance(text, int | float):
        value = _finite(text)
    else:
        s = text.strip().lower()
        if not s:
            raise ValueError("expected a duration like 30s, got an empty value")
        try:
            value = float(s)
        except ValueError:
            pos = 0
            value = 0.0
            if len(s) > 100:
                raise ValueError(f"expected a duration like 30s, got {_shown(text)}") from None
            for m in _PART.finditer(s):
                if m.start() != pos:
                    break
                value += float(m.group(1)) * _UNITS[m.group(2)]
                pos = m.end()
            if pos != len(s) or pos == 0:
                raise ValueError(
                    f"expected a duration like 30s, 1m30s or 250ms, got {_shown(text)}"
                ) from None
    if value != value or value == float("inf"):
        raise ValueError(f"a duration must be a finite number, got {_shown(text)}")
    if value < 0:
        raise ValueError(f"a duration cannot be negative, got {_shown(text)}")
    if value > most:
        raise ValueError(f"a duration can be at most {most / 86400:g} days, got {_shown(text)}")
    return value


def _finite(number: int | float) -> float:
    """``float(number)``; an integer too large for a float is simply too long a duration."""
    try:
        return float(number)
    except OverflowError:
        return float("inf")


def _shown(value: object) -> str:
    """A value as a message shows it: its type for a list or table, at most 40 characters."""
    if isinstance(value, list | tuple | dict) or value is None:
        return "an empty value" if value is None else f"a {type(value).__name__}"
    if isinstance(value, int) and abs(value) > 10**40:
        return "a huge number"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def parse_range(text: object) -> tuple[float, float]:
    """``(low, high)`` seconds from ``"0.5-2s"``, ``"1s"``, ``0`` or ``[0.5, 2]``.

    A unit written once at the end applies to both ends (``0.5-2s``).
    """
    if isinstance(text, list | tuple):
        if len(text) != 2:
            raise ValueError(f"expected a range like 0.5-2s, got {_shown(text)}")
        lo, hi = parse_duration(text[0]), parse_duration(text[1])
    elif isinstance(text, str) and "-" in text.strip().lstrip("-"):
        left, _, right = text.strip().partition("-")
        unit = re.sub(r"^[\d.]+", "", right.strip())
        left = left.strip()
        if left and left[-1].isdigit() and unit:
            left += unit
        try:
            lo, hi = parse_duration(left), parse_duration(right)
        except ValueError:
            raise ValueError(f"expected a range like 0.5-2s, got {_shown(text)}") from None
    else:
        lo = hi = parse_duration(text)
    if hi < lo:
        raise ValueError(f"the range {_shown(text)} ends before it starts")
    return lo, hi


def format_duration(seconds: float) -> str:
    """Short human form: ``1m30s``, ``2.5s``, ``250ms``."""
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:g}s"
    m, s = divmod(round(seconds), 60)
    h, m = divmod(m, 60)
    out = (f"{h}h" if h else "") + (f"{m}m" if m else "") + (f"{s}s" if s else "")
    return out or "0s"
