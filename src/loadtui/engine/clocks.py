"""Each worker's clock against the coordinator's, so workers on many hosts begin together.

A ``perf_counter`` value means nothing on another host, and two hosts' wall clocks may disagree
by seconds. When a worker is ready the coordinator measures its offset the way NTP does: it
sends its wall clock (``ClockProbe``), the worker answers with its own (``ClockReply``), and
the worker's clock read at the round trip's midpoint — offset = worker − midpoint, wrong by at
most half the round trip. The best of ``PROBES`` round trips is kept. ``Start`` then carries the
start as an epoch on the coordinator's clock with the worker's offset, and the worker's
``Began`` says how on time it really began (its start skew, kept in the run file).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from loadtui.engine.messages import Began, ClockProbe, ClockReply
from loadtui.model.record import WorkerClock

__all__ = ["PROBES", "Clocks"]

PROBES = 3
"""Round trips per worker; the shortest is kept (its midpoint is the least uncertain)."""


@dataclass(frozen=True, slots=True)
class _Reading:
    offset: float
    rtt: float


class Clocks:
    """The coordinator's measurements of its workers' clocks, and their start skews."""

    def __init__(self, wall_clock: Callable[[], float] = time.time) -> None:
        self.wall_clock = wall_clock
        self._best: dict[int, _Reading] = {}
        self._answers: dict[int, int] = {}
        self._skew: dict[int, float] = {}
        self.start_at: float | None = None
        """The intended start, an epoch on the coordinator's clock (set by ``start_in``)."""

    def probe(self) -> ClockProbe:
        """A probe to send ``worker`` (one at a time: the next when it has answered)."""
        return ClockProbe(self.wall_clock())

    def reply(self, msg: ClockReply) -> bool:
        """Take an answer in; True when that worker should be probed again."""
        now = self.wall_clock()
        reading = _Reading(offset=msg.clock - (msg.sent + now) / 2, rtt=max(0.0, now - msg.sent))
        best = self._best.get(msg.worker)
        if best is None or reading.rtt < best.rtt:
            self._best[msg.worker] = reading
        self._answers[msg.worker] = answers = self._answers.get(msg.worker, 0) + 1
        return answers < PROBES

    def measured(self, workers: Iterable[int]) -> bool:
        """Every one of ``workers`` has answered all its probes."""
        return all(self._answers.get(w, 0) >= PROBES for w in workers)

    def offset(self, worker: int) -> float:
        """Seconds ``worker``'s wall clock reads ahead of the coordinator's (0 if unmeasured)."""
        reading = self._best.get(worker)
        return reading.offset if reading is not None else 0.0

    def worst_rtt(self) -> float:
        return max((r.rtt for r in self._best.values()), default=0.0)

    def start_in(self, delay: float) -> float:
        """Fix the start ``delay`` seconds from now on the coordinator's clock; its epoch."""
        self.start_at = self.wall_clock() + delay
        return self.start_at

    def began(self, msg: Began) -> None:
        """A worker's load began: its skew, on the coordinator's clock."""
        if self.start_at is not None:
            self._skew[msg.worker] = msg.clock - self.offset(msg.worker) - self.start_at

    def table(self, workers: int) -> tuple[WorkerClock, ...]:
        """One row per worker for the run file."""
        rows = []
        for w in range(workers):
            reading = self._best.get(w, _Reading(0.0, 0.0))
            skew = self._skew.get(w)
            rows.append(
                WorkerClock(
                    worker=w,
                    clock_offset_ms=round(reading.offset * 1000.0, 3),
                    rtt_ms=round(reading.rtt * 1000.0, 3),
                    start_skew_ms=None if skew is None else round(skew * 1000.0, 3),
                )
            )
        return tuple(rows)
