"""The two worker pools keep one contract: the same messages up and down, the same run.

``InProcessPool`` runs workers in threads so engine tests need not spawn processes; it is only
worth that if a run through it is the run ``ProcessPool`` makes, and if its workers start, fail
and end as processes do. Loopback against the mock only.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from helpers import drive
from loadtui.engine.channel import ProcessPool, WorkerPool
from loadtui.engine.inprocess import InProcessPool
from loadtui.engine.messages import Exited, Failed, Ready, SetUsers, Start, Stop, Up
from loadtui.engine.worker import WorkerSpec
from loadtui.model.plan import RunConfig
from loadtui.model.snapshot import WorkerSnapshot


def collect(pool: WorkerPool, until: Callable[[list[Up]], bool], timeout: float = 30.0) -> list[Up]:
    """Everything the pool sends up until ``until(seen)`` holds (or the deadline fails it)."""
    seen: list[Up] = []
    deadline = time.monotonic() + timeout
    while not until(seen):
        assert time.monotonic() < deadline, f"timed out; got {seen!r}"
        seen.extend(pool.receive(0.1))
    return seen


def exited(seen: list[Up]) -> bool:
    return any(isinstance(m, Exited) for m in seen)


@pytest.mark.parametrize("make", [ProcessPool, InProcessPool], ids=["processes", "threads"])
def test_both_pools_make_the_same_burst_run(mock, make: Callable[[], WorkerPool]):
    config = RunConfig(
        load={"mode": "burst", "burst_requests": 24},
        requests=[{"kind": "chat", "stream": True}],
        workers=2,
    )
    coord = drive(config, mock.url, pool=make())
    s = coord.result().summary
    assert s.requests == s.ok == 24 == mock.stats()["served"]
    assert s.metrics.ttft_ms.count == 24  # streamed: both halves of the client ran
    assert coord.finals == {0, 1} and not coord.lost_workers  # each ended with its last word


def test_a_worker_thread_that_fails_says_why_then_exits_non_zero(mock):
    pool = InProcessPool()
    config = RunConfig(load={"mode": "closed", "users": 1, "duration": 5}, workers=1)
    pool.start([WorkerSpec(0, 1, config, mock.url)])
    try:
        collect(pool, lambda seen: Ready(0) in seen)
        pool.send(0, Start(time.time()))
        pool.send(0, SetUsers("many"))  # type: ignore[arg-type]  # a bug in a control
        seen = collect(pool, exited)
    finally:
        pool.close(5.0)
    failed = [m for m in seen if isinstance(m, Failed)]
    assert len(failed) == 1 and failed[0].worker == 0
    assert failed[0].why.startswith("control 'users': TypeError")
    snaps = [m for m in seen if isinstance(m, WorkerSnapshot)]
    assert snaps and not snaps[-1].final  # a failed worker's last snapshot is not final
    assert seen[-1] == Exited(0, 1)  # as a process that raised SystemExit(1)


def test_a_worker_stopped_before_the_start_ends_at_once_with_a_final_snapshot(mock):
    pool = InProcessPool()
    config = RunConfig(load={"mode": "closed", "users": 1, "duration": 60}, workers=1)
    pool.start([WorkerSpec(0, 1, config, mock.url)])
    try:
        collect(pool, lambda seen: Ready(0) in seen)
        asked = time.monotonic()
        pool.send(0, Stop(30.0))  # nothing runs yet: no grace to wait out
        seen = collect(pool, exited)
        took = time.monotonic() - asked
    finally:
        pool.close(5.0)
    snaps = [m for m in seen if isinstance(m, WorkerSnapshot)]
    assert [s.final for s in snaps] == [True]
    assert snaps[0].counters["requests"] == 0
    assert seen[-1] == Exited(0, 0)
    assert took < 10.0  # the grace of 30 s was not waited for
    assert mock.stats()["served"] == 0
