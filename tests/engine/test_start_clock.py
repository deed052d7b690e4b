"""Workers begin together even when their hosts' clocks disagree.

The start crosses hosts as an epoch on the coordinator's clock, turned into each worker's own
``perf_counter`` with the offset measured by a round trip (``engine/clocks.py``). Threads of one
process (``InProcessPool``) share one ``perf_counter``, so a worker given a wall clock 3 s off
shows plainly whether it began with the others: its start, read on the shared ``perf_counter``,
is the coordinator's. The offsets and start skews land in the run file and load back typed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from helpers import drive
from loadtui.engine.clocks import PROBES, Clocks
from loadtui.engine.inprocess import InProcessPool
from loadtui.engine.messages import Began, ClockReply
from loadtui.model.plan import RunConfig
from loadtui.storage.record import record_from_json, record_to_json
from loadtui.storage.runfile import load_record

DATA = Path(__file__).parents[1] / "data"
OFF = {0: 0.0, 1: 3.0, 2: -3.0}
"""Each worker's wall clock minus the true one: one right, one 3 s ahead, one 3 s behind."""


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_the_offset_is_the_worker_clock_at_the_round_trip_s_midpoint():
    coordinator = FakeClock(1000.0)
    clocks = Clocks(coordinator)
    more = []
    for out_ms, back_ms in [(30, 50), (2, 6), (10, 10)]:  # the second trip is the shortest
        probe = clocks.probe()
        coordinator.now += out_ms / 1000
        worker_clock = coordinator.now + 3.0  # the worker's clock reads 3 s ahead
        coordinator.now += back_ms / 1000
        more.append(clocks.reply(ClockReply(1, probe.sent, worker_clock)))
    assert more == [True] * (PROBES - 1) + [False]
    assert clocks.measured([1]) and not clocks.measured([0, 1])
    # best trip: 8 ms; midpoint 4 ms after sending, the worker read at 2 ms: 2 ms off, ≤ rtt/2
    assert clocks.offset(1) == pytest.approx(2.998, abs=1e-9)
    assert clocks.worst_rtt() == pytest.approx(0.008, abs=1e-9)
    at = clocks.start_in(0.1)
    clocks.began(Began(1, at + 3.0 + 0.012))  # began 12 ms late on its own clock
    row = clocks.table(2)
    assert (row[1].clock_offset_ms, row[1].rtt_ms) == (2998.0, 8.0)
    assert row[1].start_skew_ms == pytest.approx(14.0)  # 12 ms + the 2 ms the offset was off
    assert row[0].start_skew_ms is None  # never began


def _wall_clocks(index: int) -> Callable[[], float]:
    off = OFF[index]
    return lambda: time.time() + off


def test_workers_whose_clocks_are_3_s_off_begin_with_the_others(mock):
    pool = InProcessPool(wall_clocks=_wall_clocks)
    config = RunConfig(load={"mode": "closed", "users": 3, "duration": 1.5}, workers=3)
    coord = drive(config, mock.url, pool=pool)
    assert coord.t0 is not None
    for w in OFF:
        worker = pool.worker(w)
        assert worker is not None and worker.ctx.t0 is not None
        # unsynchronised it would begin 3 s early (at once) or 3 s late
        assert worker.ctx.t0 == pytest.approx(coord.t0, abs=0.05), w
    result = coord.result()
    rows = {c.worker: c for c in result.generator.worker_clocks}
    assert sorted(rows) == [0, 1, 2]
    for w, off in OFF.items():
        row = rows[w]
        assert row.clock_offset_ms == pytest.approx(off * 1000, abs=row.rtt_ms / 2 + 1.0)
        assert row.start_skew_ms is not None
        assert -5.0 < row.start_skew_ms < 500.0  # a busy machine's timer: late, never 3 s
    assert result.summary.requests == mock.stats()["served"] > 0


def test_the_worker_clocks_are_kept_in_the_run_file_and_load_back_typed():
    clocks = Clocks(FakeClock(50.0))
    clocks.reply(ClockReply(0, 50.0, 53.0))
    clocks.start_in(0.1)
    clocks.began(Began(0, 53.1 + 0.004))
    record = load_record(DATA / "run-a.json")
    generator = replace(record.generator, worker_clocks=clocks.table(2))
    raw = record_to_json(replace(record, generator=generator))
    assert raw["generator"]["worker_clocks"][0] == {
        "worker": 0,
        "clock_offset_ms": 3000.0,
        "rtt_ms": 0.0,
        "start_skew_ms": 4.0,
    }
    assert record_from_json(raw).generator == generator
    assert load_record(DATA / "run-a.json").generator.worker_clocks == ()  # older files
