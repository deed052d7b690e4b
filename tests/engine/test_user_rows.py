"""Per-user rows stay bounded at high user counts, and any page of users can be asked for.

Each worker sends at most ``USER_ROWS_MAX`` rows a snapshot: its lowest user ids, or those of
the range a users table shows (``Coordinator.show_users`` → ``UserPage``), so a table can page
through thousands of users while every snapshot stays small.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from loadtui.engine.coordinator import Coordinator
from loadtui.engine.inprocess import InProcessPool
from loadtui.engine.worker import USER_ROWS_MAX
from loadtui.model.plan import RunConfig


def _listed(coord: Coordinator) -> set[int]:
    return {row.uid for snap in coord.latest.values() for row in snap.users_rows}


def _until(coord: Coordinator, done: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, sorted(_listed(coord))[:20]
        coord.tick(0.05)


def test_a_users_table_pages_through_hundreds_of_users_past_the_cap(mock):
    config = RunConfig(
        load={"mode": "closed", "users": 600, "duration": 30, "think_time": [60, 60]},
        workers=2,
    )
    coord = Coordinator(config, mock.url, pool=InProcessPool())
    coord.start()
    try:
        # at first each worker lists its lowest ids: 0, 2, … 398 and 1, 3, … 399
        _until(coord, lambda: _listed(coord) == set(range(2 * USER_ROWS_MAX)))
        assert all(
            len(s.users_rows) == USER_ROWS_MAX and s.users == 300 for s in coord.latest.values()
        )
        coord.show_users(500, 60)
        _until(coord, lambda: _listed(coord) == set(range(500, 560)))
        coord.show_users(590, 50)  # past the last user: the ten there are
        _until(coord, lambda: _listed(coord) == set(range(590, 600)))
        coord.show_users(0, 5000)  # more than a snapshot may carry: the cap holds
        _until(coord, lambda: _listed(coord) == set(range(2 * USER_ROWS_MAX)))
        assert not coord.controls  # a view, not a change of the run: no timeline entry
    finally:
        coord.stop(grace=0.0)
