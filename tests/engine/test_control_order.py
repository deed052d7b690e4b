"""Controls take effect in the order they were sent, whatever order the pool delivers them in.

``WorkerPool``'s contract promises each control once, in any order (a pool of Ray actors
reorders one caller's calls). The coordinator numbers each worker's controls and the worker
holds an early one until the gap before it fills (``engine/sequence.py``). Here a pool that
shuffles what it sends, in bursts, carries a run full of live changes to real worker processes
against the mock, and every worker must end in the state of the last change.
"""

from __future__ import annotations

import random

from helpers import drive
from loadtui.engine.messages import Pause, Resume, SetUsers, Stop
from loadtui.engine.sequence import InOrder, Numbering
from loadtui.model.plan import RunConfig
from reorder import ShufflingPool, changes, check_last_state


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


def test_shuffled_live_changes_leave_every_worker_in_the_last_state(mock):
    pool = ShufflingPool(seed=11)
    schedule = list(changes())
    config = RunConfig(load={"mode": "closed", "users": 4, "duration": 3.0}, workers=2)
    coord = drive(config, mock.url, schedule, pool=pool)
    check_last_state(coord, pool, schedule, mock)
