"""Found by the issue-13 audit: rules of the capacity search that held on paper but not in a
run (run/search.py, run/searchrules.py), on a coordinator built by hand — the search's own
bookkeeping is what is under test."""

from __future__ import annotations

import json
from dataclasses import replace
from types import SimpleNamespace

import pytest

from loadtui.errors import ConfigError
from loadtui.model.controls import ControlChange
from loadtui.model.search import SearchSpec, SearchView
from loadtui.run.options import Overrides, resolve_config
from loadtui.run.search import CapacitySearch, _Step
from loadtui.run.searchrules import Judged, conclude
from loadtui.storage.search_json import search_from_json, search_to_json
from searchfakes import FakeCoordinator, passed_step


def _sent(coord: FakeCoordinator) -> list[object]:
    return [c.value for c in coord.controls if c.source == "search" and c.action == "rate"]


def test_going_back_drains_the_overloaded_step_before_the_lower_load():
    """``back`` from a step at 40 req/s with 30 requests queued: the step at 20 must not
    inherit that queue (in a run it failed for it, and the search then bisected far below the
    knee), so the load is 0 until nothing is in flight, as after a failed step."""
    coord = FakeCoordinator()
    search = CapacitySearch(SearchSpec(), coord)  # type: ignore[arg-type]
    search.steps = [passed_step(0, 20)]
    search._cur = _Step(1, 40, "probe", 5.0)
    coord.elapsed = 7.0
    coord.latest = {0: SimpleNamespace(t=7.0, in_flight=30)}
    coord.controls.append(ControlChange("search", "back", 7.0, "live"))
    search.tick()
    assert [s.verdict for s in search.steps] == ["pass", "skipped"]
    assert _sent(coord) == [0] and search._cur is None  # draining
    coord.elapsed, coord.latest[0] = 7.5, SimpleNamespace(t=7.5, in_flight=4)
    search.tick()
    assert _sent(coord) == [0]  # still requests in flight
    coord.elapsed, coord.latest[0] = 8.0, SimpleNamespace(t=8.0, in_flight=0)
    search.tick()
    assert _sent(coord) == [0, 20]
    assert search._cur is not None and search._cur.load == 20 and search._cur.started == 8.0


def test_skipping_ahead_does_not_drain():
    """A skip moves to a higher load: nothing to drain, the next step starts at once."""
    coord = FakeCoordinator()
    search = CapacitySearch(SearchSpec(step_factor=2), coord)  # type: ignore[arg-type]
    search.steps = [passed_step(0, 10)]
    search._cur = _Step(1, 20, "probe", 5.0)
    coord.elapsed = 6.0
    coord.latest = {0: SimpleNamespace(t=6.0, in_flight=5)}
    coord.controls.append(ControlChange("search", "skip", 6.0, "live"))
    search.tick()
    assert _sent(coord) == [40]
    assert search._cur is not None and search._cur.load == 40


def test_a_saturated_generator_claims_only_what_it_drove():
    """The step at 128 req/s was never sent at 128 (its figures are the generator's): the
    message must not say the capacity is above 128, only at least the last passing step."""
    steps = [Judged(32, "pass"), Judged(64, "pass"), Judged(128, "saturated", attainment=0.6)]
    done = conclude(steps, SearchSpec(), final=False)
    assert done is not None and done.outcome == "generator_saturated" and done.capacity is None
    assert done.message.startswith("the generator saturated at 128 req/s: it could not send")
    assert "capacity ≥ 64, not a capacity" in done.message and "above 128" not in done.message
    first = conclude([Judged(5, "saturated")], SearchSpec(), final=False)
    assert first is not None and "the target was not measured" in first.message


def test_skip_during_the_drain_starts_the_next_step_now():
    """The app's ``n`` while the target drains after a failed step: it used to land in the
    timeline and do nothing; it starts the waiting step at once."""
    coord = FakeCoordinator()
    search = CapacitySearch(SearchSpec(), coord)  # type: ignore[arg-type]
    search.steps = [passed_step(0, 20)]
    search._cur, search._drain = None, (30.0, "refine", 9.0)
    coord.elapsed = 9.5
    coord.latest = {0: SimpleNamespace(t=9.5, in_flight=12)}
    search.tick()
    assert _sent(coord) == [] and search._cur is None  # still draining
    coord.controls.append(ControlChange("search", "skip", 9.6, "live"))
    coord.elapsed = 9.6
    search.tick()
    assert _sent(coord) == [30.0] and search._drain is None
    assert search._cur is not None and search._cur.load == 30 and search._cur.phase == "refine"


def test_a_bad_search_option_is_named_as_typed():
    for option, value in (("max_rate", -5.0), ("attainment", 2.0), ("search_start", 0.0)):
        flag = "--" + option.replace("_", "-")
        with pytest.raises(ConfigError, match=f"^{flag}: Input should be"):
            resolve_config(Overrides(preset="capacity", **{option: value}))
    with pytest.raises(ConfigError, match=r"^--max-users: Input should be greater than 0"):
        resolve_config(Overrides(preset="capacity", search="users", max_users=0))


def _replay(changes: list[tuple[str, object]]) -> list[tuple[float, str]]:
    """The steps a replay makes of recorded controls (``(action, value)``, one a second)."""
    coord = FakeCoordinator()
    search = CapacitySearch(SearchSpec(start=10), coord, replaying=True)  # type: ignore[arg-type]
    for at, (action, value) in enumerate(changes, start=1):
        source = "search" if action != "search" else "live"
        coord.controls.append(ControlChange(action, value, float(at), source))  # type: ignore[arg-type]
        coord.elapsed = float(at)
        search.tick()
    search.finish()
    return [(s.load, s.phase) for s in search.steps]


def test_a_replay_labels_the_steps_as_the_search_did_whatever_its_own_verdicts():
    """A recorded drain (load 0) follows a failed step: from then on the search bisected. The
    replay judged its steps on its own figures and labelled them ``probe`` whenever its own
    failed step passed; a drain asked by ``back`` is no failure."""
    failed = _replay([("rate", 20.0), ("rate", 40.0), ("rate", 0), ("rate", 30.0)])
    assert failed == [(10, "probe"), (20, "probe"), (40, "probe"), (30, "refine")]
    went_back = _replay(
        [("rate", 20.0), ("search", "back"), ("rate", 0), ("rate", 10.0), ("rate", 20.0)]
    )
    assert [phase for _, phase in went_back] == ["probe"] * 4


def test_a_step_s_goodput_in_tokens_goes_to_the_run_file_and_old_files_read_zero():
    """Goodput is requests/s *and* output tokens/s of the requests meeting every SLO: the
    curve's steps carry both."""
    step = replace(passed_step(0, 20), goodput_tokens_rate=400.0)
    view = SearchView("rate", 0.9, 0.01, 2.0, (step,), None, 20.0, None, "ceiling", "x")
    raw = json.loads(json.dumps(search_to_json(view)))  # as the run file holds it
    assert raw["steps"][0]["goodput_tokens_rate"] == 400.0
    assert search_from_json(raw) == view
    del raw["steps"][0]["goodput_tokens_rate"]  # a file written before the field
    back = search_from_json(raw)
    assert back is not None and back.steps[0].goodput_tokens_rate == 0.0
