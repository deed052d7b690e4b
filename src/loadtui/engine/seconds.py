"""Closing the run's seconds: when a second is complete, and how the generator did in it.

Workers report on a shared clock but arrive in any order, so a second of the series is complete
only once every live worker has reported past it. Each completed second is then judged for
generator health (was the target rate met, was the in-flight cap the limit, were arrivals
dropped or late) — except the drain after the load stopped, which is not a second to judge.
"""

from __future__ import annotations

import math

from loadtui.engine.spec import in_flight_cap
from loadtui.metrics.health import HealthTracker
from loadtui.metrics.series import Series
from loadtui.model.plan import LoadSpec
from loadtui.model.snapshot import WorkerSnapshot

__all__ = ["SecondCloser"]

EVERYTHING = 10**9
"""A second past any run's end: closing through it closes them all."""


class SecondCloser:
    def __init__(self, load: LoadSpec, series: Series, health: HealthTracker) -> None:
        self.load = load
        self.series = series
        self.health = health
        self.through = -1
        """The last second closed."""
        self._last_target: float | None = None
        """The target rate of the last second closed."""

    def advance(
        self,
        latest: dict[int, WorkerSnapshot],
        alive: list[int],
        finals: set[int],
        load_ended_at: float | None,
        everything: bool = False,
    ) -> None:
        """Close every second all live workers have reported past (all of them when
        ``everything``: the run has ended)."""
        through = self._complete_through(latest, alive, finals, everything)
        if through is None or through <= self.through:
            return
        workers = max(1, len(alive))
        cap = in_flight_cap(self.load.max_in_flight, workers) * workers
        end = load_ended_at if load_ended_at is not None else float("inf")
        open_loop = self.load.open_loop  # a closed-loop rate is a cap, not a promise
        for point in self.series.finalize_through(through):
            if point.t + 1 > end:
                continue  # the drain after the load stopped is not a second to judge
            target = point.target_rate if open_loop else None
            self.health.close_second(
                point.t,
                self._held(target),
                point.arrivals,
                point.in_flight,
                cap,
                point.dropped,
                point.late,
            )
        self.through = through

    def _held(self, target: float | None) -> float | None:
        """The rate the whole second was asked for: a second's target is the rate set last in
        it, so when it rose during the second (a live change, a search's next step, the end of
        its drain) part of its arrivals were due at the rate before — judge it by the lower."""
        last, self._last_target = self._last_target, target
        if target is None or last is None or self.load.mode == "trace":
            return target  # a trace's target is already the arrivals due in that very second
        return min(target, last)

    def _complete_through(
        self,
        latest: dict[int, WorkerSnapshot],
        alive: list[int],
        finals: set[int],
        everything: bool,
    ) -> int | None:
        if everything:
            return EVERYTHING
        if any(w not in latest for w in alive):
            return None  # a worker has not reported yet
        live = [latest[w] for w in alive if w not in finals]
        if not live:
            return EVERYTHING if set(alive) <= finals else self.through
        return math.floor(min(s.t for s in live) + 1e-6) - 1
