"""A run's series as its run file spells it, each point encoded once for every checkpoint.

A checkpoint rewrites the whole run file every few seconds (run/checkpoint.py), and the file is
indented JSON, which Python encodes in pure Python: ~30 µs of the parent's CPU a point, so a
checkpoint took 11 ms at 5 minutes of run, 0.2 s at 2 hours — ~4 % of the core the parent shares
with a worker, growing with the run — and built a list of every point's fragments first (some
15 MB at 2 hours, freed after each write). The series only grows and its points are frozen, so
``SeriesText`` keeps the text of the points already written and encodes only the new ones; the
file is byte for byte the one ``json.dumps`` of the whole run gives (``save_run`` without it),
which tests/unit/test_series_text.py checks.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from loadtui.model.record import SeriesPoint
from loadtui.storage.record_out import point_to_json

__all__ = ["SeriesText"]

_INDENT = "\n    "
"""A point's lines in the file: inside the top-level object and the ``series`` list."""
_BETWEEN = "," + _INDENT
"""Between two points of the list."""


class SeriesText:
    """The text of a growing series, kept between writes (one writer at a time)."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        """The points encoded so far, a run of them per write, each run joined."""
        self._count = 0
        self._last: SeriesPoint | None = None
        """The last point encoded: a series handed in later must hold this very object at
        the same place (the same run's series, grown), else it is encoded afresh."""

    def document(self, head: str, series: Sequence[SeriesPoint]) -> str:
        """``head`` (the run without its series, as ``json.dumps(indent=2)`` writes it) with
        ``"series"`` added as its last key, as ``json.dumps`` of the whole would write it."""
        if not series:
            return head[:-2] + ',\n  "series": []\n}'
        return head[:-2] + ',\n  "series": [' + _INDENT + self._text(series) + "\n  ]\n}"

    def _text(self, series: Sequence[SeriesPoint]) -> str:
        n = self._count
        if n > len(series) or (n and series[n - 1] is not self._last):
            self._parts, n = [], 0  # not the series written last: start over
        if len(series) > n:
            self._parts.append(_BETWEEN.join(point_text(p) for p in series[n:]))
            self._count, self._last = len(series), series[-1]
        return _BETWEEN.join(self._parts)


def point_text(p: SeriesPoint, default: Callable[[Any], Any] | None = None) -> str:
    """One point as it stands in the file (indent 2, four spaces in)."""
    return json.dumps(point_to_json(p), indent=2, default=default).replace("\n", _INDENT)
