"""A pool that delivers controls in the worst order, for the stress tests of ``WorkerPool``'s
contract (each control once, in any order): tests/engine/test_control_order.py over processes,
tests/ray/test_raypool.py over Ray actors."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from typing import Any

from loadtui.engine.channel import ProcessPool
from loadtui.engine.messages import Control, Up
from loadtui.engine.worker import WorkerSpec
from loadtui.model.controls import ControlChange
from loadtui.model.snapshot import WorkerSnapshot


class ShufflingPool:
    """A pool (a ``ProcessPool`` unless told) whose controls leave in shuffled bursts: held over one or more of the
    coordinator's ticks (at random), then sent last first — the worst order, so a worker that
    applied them as they came would end in the state of the first change, not the last."""

    def __init__(self, seed: int, inner: Any = None) -> None:
        self.inner = ProcessPool() if inner is None else inner
        self.snapshot_interval = self.inner.snapshot_interval
        self.rng = random.Random(seed)
        self.held: list[tuple[int, Control]] = []
        self.delivered: list[tuple[int, int]] = []
        """(worker, seq) in the order they left."""
        self.snapshots: list[WorkerSnapshot] = []

    def start(self, specs: list[WorkerSpec]) -> None:
        self.inner.start(specs)

    def send(self, index: int, message: Control) -> None:
        self.held.append((index, message))

    def broadcast(self, message: Control) -> None:
        raise AssertionError("the coordinator numbers each worker's controls: send only")

    def flush(self) -> None:
        burst, self.held = self.held, []
        for index, message in reversed(burst):
            self.delivered.append((index, message.seq))
            self.inner.send(index, message)

    def receive(self, timeout: float) -> list[Up]:
        if self.held and self.rng.random() < 0.5:
            self.flush()
        got = self.inner.receive(timeout)
        self.snapshots += [m for m in got if isinstance(m, WorkerSnapshot)]
        return got

    def close(self, timeout: float = 5.0) -> None:
        self.flush()
        self.inner.close(timeout)


def changes() -> Iterator[ControlChange]:
    """Bursts of live changes, several at one instant; the last ones: 6 users, paused."""
    bursts = [
        [("users", 9), ("pause", None), ("users", 5), ("resume", None), ("rate", 40.0)],
        [("users", 12), ("rate", 0.0), ("pause", None), ("users", 3), ("resume", None)],
        [("think_time", (0.0, 0.01)), ("users", 10), ("pause", None), ("resume", None)],
        [("pause", None), ("users", 8), ("rate", 100.0), ("resume", None), ("users", 6)],
        [("pause", None)],
    ]
    for k, burst in enumerate(bursts):
        for action, value in burst:
            yield ControlChange(action, value, 0.3 + 0.25 * k, "live")


def check_last_state(
    coord: Any, pool: ShufflingPool, schedule: list[ControlChange], mock: Any
) -> None:
    """Every control was delivered once, out of order, and each worker ended in the state of the
    last change (the schedule of ``changes()``)."""
    assert [c.action for c in coord.controls] == [c.action for c in schedule]  # none dropped
    # the pool really reordered: some control left before one numbered below it
    for w in (0, 1):
        seqs = [seq for index, seq in pool.delivered if index == w]
        assert sorted(seqs) == list(range(1, coord.numbering.sent(w) + 1))  # each once
        assert seqs != sorted(seqs)
    # Stop, numbered last, was applied by both (a final snapshot each): so was every control
    # before it, as a worker applies none past a gap
    assert coord.finals == {0, 1} and not coord.lost_workers
    paused_since = 0.3 + 0.25 * 4
    stop = coord.config.load.duration
    for w in (0, 1):
        # before Stop: a snapshot taken while the worker drains shows its users leaving
        late = [s for s in pool.snapshots if s.worker == w and not s.final and s.t < stop]
        assert late[-1].users == 3  # 6 users split over 2 workers
        # paused: nothing in flight and nothing finished once the requests before it ended
        # (requests sent before it may take a while to end on a loaded machine: from the first
        # snapshot with nothing in flight on, nothing starts or ends)
        after = [s for s in late if s.t >= paused_since + 0.5]
        idle = [k for k, s in enumerate(after) if s.in_flight == 0]
        assert idle, [(s.t, s.in_flight) for s in after]
        quiet = after[idle[0] + 1 :] if after[idle[0]].counters["requests"] else after[idle[0] :]
        assert quiet and all(s.in_flight == 0 and s.counters["requests"] == 0 for s in quiet)
    served = mock.stats()["served"]
    time.sleep(0.3)
    assert mock.stats()["served"] == served == coord.result().summary.requests
