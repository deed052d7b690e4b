"""A key queued behind a steering key in the same tick is not lost (review, item 2).

The search used to skip every control queued when it applied its own load change, so
[skip, hold] in one tick started the next step un-held while the timeline kept the hold — and
a replay of that timeline applied it. Now the search skips only its own change, and a replay
gives a key recorded between a skip and the load change that followed to the next step, as the
search did.
"""

from __future__ import annotations

from types import SimpleNamespace

from loadtui.model.controls import ControlChange
from loadtui.model.search import SearchSpec
from loadtui.run.search import CapacitySearch, _Step
from searchfakes import FakeCoordinator, passed_step


def test_skip_then_hold_in_one_tick_holds_the_next_step_live_and_in_the_replay() -> None:
    coord = FakeCoordinator()
    search = CapacitySearch(SearchSpec(step_factor=2), coord)  # type: ignore[arg-type]
    search.steps = [passed_step(0, 10)]
    search._cur = _Step(1, 20, "probe", 5.0)
    coord.elapsed = 6.0
    coord.latest = {0: SimpleNamespace(t=6.0, in_flight=5)}
    coord.controls.append(ControlChange("search", "skip", 6.0, "live"))
    coord.controls.append(ControlChange("search", "hold", 6.0, "live"))
    search.tick()
    live = search._cur
    assert live is not None and live.load == 40 and live.held and live.was_held
    coord.elapsed = 30.0  # held: the step does not end however long it runs
    search.tick()
    assert search._cur is live
    search.finish()
    assert [(s.load, s.verdict, s.held) for s in search.steps][1:] == [
        (20, "skipped", False),
        (40, "skipped", True),  # fake figures: no requests, so skipped at the end
    ]

    replay_coord = FakeCoordinator()
    replay = CapacitySearch(SearchSpec(step_factor=2), replay_coord, replaying=True)  # type: ignore[arg-type]
    replay.steps = [passed_step(0, 10)]
    replay._cur = _Step(1, 20, "probe", 5.0)
    replay_coord.controls.extend(coord.controls)  # the timeline as the run file keeps it
    replay_coord.elapsed = 6.0
    replay.tick()
    again = replay._cur
    assert again is not None and again.load == 40 and again.held
    replay_coord.elapsed = 30.0
    replay.finish()
    assert [(s.load, s.held) for s in replay.steps] == [(s.load, s.held) for s in search.steps]


def test_a_replayed_hold_queued_before_a_drain_is_dropped_as_the_search_dropped_it() -> None:
    """``back`` drains first: the search had no step for a hold read in the same tick."""
    coord = FakeCoordinator()
    search = CapacitySearch(SearchSpec(), coord)  # type: ignore[arg-type]
    search.steps = [passed_step(0, 20)]
    search._cur = _Step(1, 40, "probe", 5.0)
    coord.elapsed = 7.0
    coord.latest = {0: SimpleNamespace(t=7.0, in_flight=30)}
    coord.controls.append(ControlChange("search", "back", 7.0, "live"))
    coord.controls.append(ControlChange("search", "hold", 7.0, "live"))
    search.tick()
    assert search._cur is None and search._drain is not None
    coord.elapsed = 8.0
    coord.latest = {0: SimpleNamespace(t=8.0, in_flight=0)}
    search.tick()
    assert search._cur is not None and search._cur.load == 20 and not search._cur.held

    replay_coord = FakeCoordinator()
    replay = CapacitySearch(SearchSpec(), replay_coord, replaying=True)  # type: ignore[arg-type]
    replay.steps = [passed_step(0, 20)]
    replay._cur = _Step(1, 40, "probe", 5.0)
    replay_coord.controls.extend(coord.controls)
    replay_coord.elapsed = 8.0
    replay.tick()
    assert replay._cur is not None and replay._cur.load == 20 and not replay._cur.held


def test_skip_then_accept_in_one_tick_ends_on_the_same_steps_in_the_replay() -> None:
    """The search started 40 after the skip, then accept closed it: the replay does too."""
    coord = FakeCoordinator()
    search = CapacitySearch(SearchSpec(step_factor=2), coord)  # type: ignore[arg-type]
    search.steps = [passed_step(0, 10)]
    search._cur = _Step(1, 20, "probe", 5.0)
    coord.elapsed = 6.0
    coord.controls.append(ControlChange("search", "skip", 6.0, "live"))
    coord.controls.append(ControlChange("search", "accept", 6.0, "live"))
    search.tick()
    assert search.conclusion is not None and search._cur is None

    replay_coord = FakeCoordinator()
    replay = CapacitySearch(SearchSpec(step_factor=2), replay_coord, replaying=True)  # type: ignore[arg-type]
    replay.steps = [passed_step(0, 10)]
    replay._cur = _Step(1, 20, "probe", 5.0)
    replay_coord.controls.extend(coord.controls)
    replay_coord.elapsed = 6.0
    replay.tick()
    assert replay.conclusion is not None and replay._cur is None
    assert [(s.load, s.verdict) for s in replay.steps] == [
        (s.load, s.verdict) for s in search.steps
    ]
    assert [s.load for s in search.steps] == [10, 20, 40]
