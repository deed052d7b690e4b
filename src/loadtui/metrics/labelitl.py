"""ITL gaps of a labelled stream, booked for the whole run and for its label at once.

``read_stream`` (engine/client.py) records each gap into one object as it reads; a run with
several labels hands it a ``BothItl`` instead of the run's histogram, so each label keeps its
own ITL histogram without a change to the reading loop — one more call per gap, and only in
runs with more than one label (a one-label run keeps no per-label figures).
"""

from __future__ import annotations

from typing import Protocol

from loadtui.metrics.histogram import Histogram

__all__ = ["BothItl", "RecordsMs"]


class RecordsMs(Protocol):
    """What ``read_stream`` records ITL gaps into: a ``Histogram`` or a ``BothItl``."""

    def record_ms(self, ms: float) -> None: ...


class BothItl:
    """Records each gap into the run's ITL histogram and a label's. Both are reset in place
    at each drain, so one ``BothItl`` per label serves the whole run."""

    __slots__ = ("label", "run")

    def __init__(self, run: Histogram, label: Histogram) -> None:
        self.run = run
        self.label = label

    def record_ms(self, ms: float) -> None:
        self.run.record_ms(ms)
        self.label.record_ms(ms)
