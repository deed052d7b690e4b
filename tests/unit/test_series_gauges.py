"""Users and in-flight are gauges: a second without a snapshot from a live worker carries that
worker's last gauge (a worker starved for a second, or one reporting every 0.5 s or more, still
had its users then); a final snapshot or the worker's loss ends the carry.

Snapshots built by hand, as workers send them, into the series the coordinator keeps.
"""

from __future__ import annotations

from loadtui.metrics.series import Series
from loadtui.metrics.stats import decode_histograms
from loadtui.model.snapshot import WorkerSnapshot


def send(series: Series, worker: int, t: float, users: int, final: bool = False) -> None:
    snap = WorkerSnapshot(worker=worker, t=t, users=users, in_flight=users, final=final)
    series.add(snap, decode_histograms(snap))


def users(series: Series) -> list[int]:
    return [p.users for p in series.points]


def test_a_worker_silent_for_a_second_keeps_its_users_in_it():
    series = Series()
    for k in range(1, 17):  # worker 0: every quarter second, 3 users, through 4.0
        send(series, 0, k * 0.25, 3)
    send(series, 1, 0.5, 2)
    send(series, 1, 1.0, 2)  # worker 1 starved: its next word ends in second 3
    send(series, 1, 3.5, 2)
    series.finalize_through(3)
    assert users(series) == [5, 5, 5, 5]  # second 2 carries worker 1's 2 users
    assert [p.in_flight for p in series.points] == [5, 5, 5, 5]


def test_a_final_snapshot_ends_the_carry():
    series = Series()
    for k in range(1, 13):
        send(series, 0, k * 0.25, 3)
    send(series, 1, 1.0, 2)  # ends at 1.0: second 0's
    send(series, 1, 2.5, 0, final=True)  # worker 1 drained and said its last word in second 2
    series.finalize_through(2)
    assert users(series) == [5, 5, 3]  # carried through second 1, not into its last second


def test_a_lost_worker_is_carried_no_further():
    series = Series()
    for k in range(1, 13):
        send(series, 0, k * 0.25, 3)
    send(series, 1, 1.0, 2)
    series.finalize_through(0)
    series.forget(1)  # lost: its users moved to worker 0, whose own gauge will count them
    series.finalize_through(2)
    assert users(series) == [5, 3, 3]
