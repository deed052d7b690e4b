"""Controls take effect in the order they were sent, whatever order the pool delivers them in.

``WorkerPool``'s contract promises each control once, in any order (a pool of Ray actors
reorders one caller's calls). The coordinator numbers each worker's controls and the worker
holds an early one until the gap before it fills (``engine/sequence.py``). Here a pool that
shuffles what it sends, in bursts, carries a run full of live changes to real worker processes
against the mock, and every worker must end in the state of the last change.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator

from helpers import drive
from loadtui.engine.channel import ProcessPool
from loadtui.engine.messages import Control, Pause, Resume, SetUsers, Stop, Up
from loadtui.engine.sequence import InOrder, Numbering
from loadtui.engine.worker import WorkerSpec
from loadtui.model.controls import ControlChange
from loadtui.model.plan import RunConfig
from loadtui.model.snapshot import WorkerSnapshot


def test_early_controls_wait_for_the_gap_and_each_is_applied_once():
    numbering = Numbering(2)
    sent = [numbering.stamp(0, m) for m in (SetUsers(4), Pause(), SetUsers(9), Resume())]
    assert [m.seq for m in sent] == [1, 2, 3, 4] and numbering.sent(1) == 0
    order = InOrder()
    assert order.accept(sent[2]) == [] and order.accept(sent[1]) == []  # 1 is missing
    assert order.held == 2
    assert order.accept(sent[0]) == sent[:3]  # the gap filled: all three, in order
    assert order.accept(sent[1]) == []  # delivered twice: applied once
    assert order.accept(sent[3]) == [sent[3]] and order.held == 0
    assert order.accept(Stop(0.0)) == [Stop(0.0)]  # a pool's own, unnumbered: at once


def test_any_delivery_order_gives_the_order_sent():
    numbering, rng = Numbering(1), random.Random(7)
    sent = [numbering.stamp(0, SetUsers(n)) for n in range(200)]
    for _ in range(20):
        shuffled = rng.sample(sent, len(sent))
        order = InOrder()
        applied = [m for message in shuffled for m in order.accept(message)]
        assert applied == sent


class ShufflingPool:
    """A ``ProcessPool`` whose controls leave in shuffled bursts: held over one or more of the
    coordinator's ticks (at random), then sent last first — the worst order, so a worker that
    applied them as they came would end in the state of the first change, not the last."""

    def __init__(self, seed: int) -> None:
        self.inner = ProcessPool()
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


def _changes() -> Iterator[ControlChange]:
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


def test_shuffled_live_changes_leave_every_worker_in_the_last_state(mock):
    pool = ShufflingPool(seed=11)
    schedule = list(_changes())
    config = RunConfig(load={"mode": "closed", "users": 4, "duration": 2.6}, workers=2)
    coord = drive(config, mock.url, schedule, pool=pool)
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
    for w in (0, 1):
        late = [s for s in pool.snapshots if s.worker == w and not s.final]
        assert late[-1].users == 3  # 6 users split over 2 workers
        # paused: nothing in flight and nothing finished once the requests before it ended
        quiet = [s for s in late if s.t >= paused_since + 0.5]
        assert quiet and all(s.in_flight == 0 and s.counters["requests"] == 0 for s in quiet)
    served = mock.stats()["served"]
    time.sleep(0.3)
    assert mock.stats()["served"] == served == coord.result().summary.requests
