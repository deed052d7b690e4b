"""The capacity search's decision rules on step figures built by hand (run/searchrules.py)."""

from __future__ import annotations

import json

import pytest

from loadtui.errors import ConfigError
from loadtui.model.controls import ControlChange
from loadtui.model.record import RunSummary
from loadtui.model.search import SearchSpec, SearchView, StepView
from loadtui.model.thresholds import (
    judge_all,
    judge_capacity,
    parse_cli_threshold,
    parse_threshold,
    parsed,
)
from loadtui.run.options import Overrides, resolve_config
from loadtui.run.search import CapacitySearch
from loadtui.run.searchopts import SEARCH_DURATION
from loadtui.run.searchrules import (
    Conclusion,
    Figures,
    Judged,
    accepted,
    after_skip,
    conclude,
    next_load,
    saturated,
    step_over,
    step_verdict,
    verdict,
    wilson,
)
from loadtui.storage.search_json import search_from_json, search_to_json

SPEC = SearchSpec(min_requests=50, min_step=2.0, max_step=20.0, attainment=0.9)


def fig(met: int, judged: int, seconds: float = 5.0, **kw: object) -> Figures:
    base = {"judged_s": seconds, "requests": judged, "errors": 0, "met": met, "judged": judged}
    return Figures(**{**base, **kw})  # type: ignore[arg-type]


def test_wilson_interval_known_values():
    lo, hi = wilson(90, 100)  # type: ignore[misc]
    assert lo == pytest.approx(0.8256, abs=1e-3)
    assert hi == pytest.approx(0.9448, abs=1e-3)
    lo, hi = wilson(20, 20)  # type: ignore[misc]
    assert hi == 1.0 and lo == pytest.approx(0.8389, abs=1e-3)
    assert wilson(0, 0) is None


def test_a_step_needs_its_requests_and_its_time():
    assert step_over(fig(50, 50, seconds=1.0), SPEC) is None  # not long enough
    assert step_over(fig(40, 40), SPEC) is None  # too few judged
    assert step_over(fig(100, 100), SPEC) == "decided"  # [0.963, 1]: wholly above 0.9


def test_a_step_goes_on_while_its_interval_straddles_the_target():
    # 90 % of 100: [0.83, 0.94] holds 0.9 and is ±0.06 wide: not decided
    assert step_over(fig(90, 100), SPEC) is None
    # 50 % of 60: wholly below
    assert step_over(fig(30, 60), SPEC) == "decided"
    # 90 % of 400: [0.867, 0.926], half-width 0.03 ≤ 0.05: narrow enough
    assert step_over(fig(360, 400), SPEC) == "decided"


def test_a_step_is_capped_at_max_step():
    assert step_over(fig(9, 10, seconds=20.0), SPEC) == "capped"


def test_verdicts():
    assert verdict(fig(100, 100), SPEC, "users", 4) == "pass"
    assert verdict(fig(80, 100), SPEC, "users", 4) == "fail"
    errors = fig(100, 100, errors=2)  # 2 % > the 1 % limit
    assert verdict(errors, SPEC, "users", 4) == "fail"
    assert verdict(fig(0, 0), SPEC, "users", 4) == "fail"


def test_saturation_open_loop_only_and_not_when_the_in_flight_cap_holds_it():
    short = fig(100, 100, span_s=5.0, arrivals=400)  # 400 of 500 intended at 100/s
    assert saturated(short, "rate", 100)
    assert verdict(short, SPEC, "rate", 100) == "saturated"
    assert not saturated(fig(100, 100, span_s=5.0, arrivals=490), "rate", 100)
    late = fig(100, 100, span_s=5.0, arrivals=500, late=40)
    assert saturated(late, "rate", 100)
    capped = fig(100, 100, span_s=5.0, arrivals=400, near_cap=True)
    assert not saturated(capped, "rate", 100)
    assert not saturated(short, "users", 100)


def test_probe_multiplies_then_bisects_then_reports_the_knee():
    spec = SearchSpec(start=10, step_factor=2.0, precision=0.1, refinements=5)
    steps = [Judged(10, "pass")]
    assert next_load(steps, spec, 2.0) == (20, "probe")
    steps += [Judged(20, "pass"), Judged(40, "fail")]
    assert next_load(steps, spec, 2.0) == (30, "refine")
    steps.append(Judged(30, "pass", "refine"))
    assert next_load(steps, spec, 2.0) == (35, "refine")
    steps.append(Judged(35, "fail", "refine"))
    assert next_load(steps, spec, 2.0) == (32.5, "refine")
    steps.append(Judged(32.5, "pass", "refine"))  # (35 − 32.5) / 32.5 = 7.7 % ≤ 10 %
    done = next_load(steps, spec, 2.0)
    assert isinstance(done, Conclusion)
    assert done.outcome == "capacity" and done.capacity == 32.5 and done.interval == (32.5, 35)
    assert "capacity: 32.5 req/s (between 32.5 and 35) at attainment ≥ 0.90" in done.message


def test_refinements_bound_the_bisection():
    spec = SearchSpec(precision=0.01, refinements=1)
    steps = [Judged(10, "pass"), Judged(20, "fail"), Judged(15, "pass", "refine")]
    done = next_load(steps, spec, 2.0)
    assert isinstance(done, Conclusion) and done.interval == (15, 20)


def test_users_search_loads_are_whole_and_stop_on_adjacent_users():
    spec = SearchSpec(mode="users", start=1, step_factor=1.5)
    assert next_load([Judged(1, "pass")], spec, 1.5) == (2, "probe")  # ceil, at least +1
    steps = [Judged(2, "pass"), Judged(4, "pass"), Judged(8, "fail"), Judged(6, "fail")]
    assert next_load(steps, spec, 1.5) == (5, "refine")
    done = next_load([*steps, Judged(5, "fail", "refine")], spec, 1.5)
    assert isinstance(done, Conclusion) and done.capacity == 4 and done.interval == (4, 5)
    assert "users" in done.message


def test_never_compliant_names_the_attainment():
    done = conclude([Judged(5, "fail", attainment=0.42)], SearchSpec(), final=False)
    assert done is not None and done.outcome == "never_compliant" and done.capacity is None
    assert "attainment 0.420" in done.message and "5 req/s" in done.message


def test_ceiling_and_the_probe_stopping_at_it():
    spec = SearchSpec(max_load=50)
    assert next_load([Judged(40, "pass")], spec, 2.0) == (50, "probe")  # capped at 50
    done = next_load([Judged(40, "pass"), Judged(50, "pass")], spec, 2.0)
    assert isinstance(done, Conclusion) and done.outcome == "ceiling"
    assert "no knee up to 50 req/s" in done.message


def test_generator_saturation_never_reports_a_capacity():
    steps = [Judged(10, "pass"), Judged(20, "saturated")]
    done = conclude(steps, SearchSpec(), final=True)
    assert done is not None and done.outcome == "generator_saturated" and done.capacity is None
    assert "saturated at 20 req/s" in done.message and "add workers" in done.message


def test_skipped_steps_do_not_count_and_stopping_accepts_the_best():
    steps = [Judged(10, "pass"), Judged(20, "pass"), Judged(40, "skipped")]
    assert conclude(steps, SearchSpec(), final=False) is None
    done = conclude(steps, SearchSpec(), final=True)
    assert done is not None and done.outcome == "stopped" and done.capacity == 20


def test_the_run_file_keeps_the_search():
    step = StepView(0, 10.0, "probe", 0.0, 3.5, 30, 0.9, (0.8, 0.95), 9.0, 0.0, 20.0, 30.0,
                    5.0, 9.0, 60.0, 80.0, "pass", True)  # fmt: skip
    view = SearchView("rate", 0.9, 0.01, 2.0, (step,), None, 10.0, (10.0, 20.0), "capacity", "x")
    raw = json.loads(json.dumps(search_to_json(view)))
    assert search_from_json(raw) == view
    assert search_from_json("nonsense") is None
    broken = search_from_json({"steps": [1, {"verdict": "odd"}], "outcome": "odd"})
    assert broken is not None and broken.outcome is None
    assert [s.verdict for s in broken.steps] == ["skipped"]


def test_search_options_make_the_run_and_refuse_what_does_not_fit():
    config = resolve_config(Overrides(search="users", search_start=3, max_users=40))
    assert config.search is not None and config.search.mode == "users"
    assert config.search.max_load == 40 and config.load.mode == "closed" and config.load.users == 3
    assert config.load.duration == SEARCH_DURATION
    config = resolve_config(Overrides(preset="capacity", attainment=0.95, max_rate=30))
    assert config.search is not None and config.search.attainment == 0.95
    assert config.load.mode == "open" and config.load.rate == config.search.start
    assert config.load.duration == 180  # the preset's own cap
    bad = [
        (Overrides(attainment=0.9), "--attainment goes with a capacity search"),
        (Overrides(search="rate", max_users=5), "--max-users goes with --search users"),
        (Overrides(search="users", max_rate=5), "--max-rate goes with --search rate"),
        (Overrides(search="rate", attainment=1.5), "attainment"),
        (Overrides(search="rate", requests=10), "cannot take a request budget"),
    ]
    for args, fragment in bad:
        with pytest.raises(ConfigError, match=fragment):
            resolve_config(args)


def test_capacity_threshold_grammar_and_judging():
    assert parse_cli_threshold("capacity>=200") == ("capacity", "value>=200")
    with pytest.raises(ValueError, match="value"):
        parse_threshold("capacity", "p(95)<3")
    with pytest.raises(ValueError, match="value"):
        parse_threshold("ttft", "value<3")
    pending = judge_all(parsed({"capacity": ["value>=20"]}), RunSummary())
    assert pending[0].skipped  # judged when the search ends
    assert judge_capacity(pending, 25.0, "")[0].passed
    assert not judge_capacity(pending, 15.0, "")[0].passed
    none = judge_capacity(pending, None, "never compliant: ...")[0]
    assert not none.passed and none.reason == "never compliant: ..."


def test_a_skipped_step_picks_the_next_load_but_never_the_conclusion():
    spec = SearchSpec(precision=0.1, refinements=5)
    steps = [Judged(20, "pass"), Judged(40, "fail"), Judged(30, "pass", "refine")]
    steps.append(Judged(35, "fail", "refine"))
    # skipping 32.5 between 30 and 35: "32.5 passed" would end at 32.5, which nobody measured
    done = after_skip(steps, Judged(32.5, "skipped", "refine"), spec, 2.0)
    assert isinstance(done, Conclusion) and done.capacity == 30 and done.interval == (30, 35)
    # skipping the ceiling step: no "ceiling" (it was not measured) — the best judged step
    ceiling = SearchSpec(max_load=50)
    done = after_skip([Judged(40, "pass")], Judged(50, "skipped"), ceiling, 2.0)
    assert isinstance(done, Conclusion) and done.outcome == "stopped" and done.capacity == 40
    # while probing, a skip still moves on
    assert after_skip([Judged(10, "pass")], Judged(20, "skipped"), spec, 2.0) == (40, "probe")


def test_a_capped_step_where_nothing_finished_fails_unless_nothing_was_sent():
    spec = SearchSpec()
    nothing_back = fig(0, 0, seconds=60.0, arrivals=300)
    assert step_verdict(nothing_back, spec, 5, in_flight=0) == "fail"
    assert step_verdict(fig(0, 0, seconds=60.0), SearchSpec(mode="users"), 4, 8) == "fail"
    assert step_verdict(fig(0, 0, seconds=60.0), spec, 5, in_flight=0) == "skipped"
    # the search bisects below the silent step instead of doubling past it
    assert next_load([Judged(5, "pass"), Judged(10, "fail")], spec, 2.0) == (7.5, "refine")


def test_saturation_after_a_failure_below_it_does_not_hide_the_knee():
    # 40 failed on the target, then 30 saturated, then 35 and 37.5 failed: the target's knee
    # is below 35 whatever happened at 30 — a capacity with a warning, not "above 30"
    steps = [Judged(10, "pass"), Judged(20, "pass"), Judged(40, "fail")]
    steps += [Judged(30, "saturated", "refine"), Judged(35, "fail", "refine")]
    done = conclude([*steps, Judged(37.5, "fail", "refine")], SearchSpec(), final=False)
    assert done is not None and done.outcome == "capacity" and done.interval == (20, 35)
    assert "warning: the generator saturated at 30 req/s" in done.message
    # saturation before any failure still ends the search as the generator's limit
    early = conclude([Judged(10, "pass"), Judged(20, "saturated")], SearchSpec(), final=False)
    assert early is not None and early.outcome == "generator_saturated"
    # ...but not when the target failed at or below the saturated load (the target's knee)
    below = [Judged(10, "pass"), Judged(40, "saturated"), Judged(20, "fail")]
    done = conclude(below, SearchSpec(), final=True)
    assert done is not None and done.outcome == "capacity" and done.capacity == 10


def test_accept_stops_with_the_best_passing_step_and_the_threshold_judges_it():
    steps = [Judged(10, "pass"), Judged(20, "pass"), Judged(40, "fail"), Judged(30, "skipped")]
    done = accepted(steps, SearchSpec())
    assert done.outcome == "stopped" and done.capacity == 20 and done.interval == (20, 40)
    assert "accepted: best passing step 20 req/s" in done.message
    nothing = accepted([Judged(10, "fail")], SearchSpec())
    assert nothing.outcome == "stopped" and nothing.capacity is None
    pending = judge_all(parsed({"capacity": ["value>=15"]}), RunSummary())
    assert judge_capacity(pending, done.capacity, done.message)[0].passed


def test_the_ceiling_is_capacity_at_least_the_ceiling():
    done = conclude([Judged(10, "pass"), Judged(20, "pass")], SearchSpec(max_load=20), False)
    assert done is not None and done.outcome == "ceiling" and done.capacity == 20
    assert "capacity at least 20" in done.message


def test_never_compliant_names_the_search_start_option():
    done = conclude([Judged(5, "fail", attainment=0.1)], SearchSpec(), final=False)
    assert done is not None and "lower --search-start" in done.message


def test_spec_checks_and_whole_users():
    bad = [
        (Overrides(search="rate", search_start=30, max_rate=20), "above the ceiling"),
        (Overrides(search="users", search_start=9, max_users=4), "--max-users 4"),
    ]
    for args, fragment in bad:
        with pytest.raises(ConfigError, match=fragment):
            resolve_config(args)
    with pytest.raises(ValueError, match="min_step"):
        SearchSpec(min_step=30, max_step=10)
    config = resolve_config(Overrides(search="users", search_start=2.5))
    assert config.search is not None and config.search.start == 3 and config.load.users == 3
    # the capacity preset searches by rate from 10 req/s: a users search starts from its own 1
    config = resolve_config(Overrides(preset="capacity", search="users"))
    assert config.search is not None and config.search.start == 1 and config.load.users == 1


class _Coordinator:
    """Just what CapacitySearch reads of a coordinator: the timeline, the clock, the latest
    snapshots (none here) — the search's own bookkeeping is what is under test."""

    def __init__(self) -> None:
        self.config = resolve_config(Overrides(search="rate"))
        self.n, self.elapsed, self.latest = 1, 0.0, {}
        self.controls: list[ControlChange] = []
        self.listeners: list[object] = []

    def apply(self, change: ControlChange) -> ControlChange:
        self.controls.append(change)
        return change


def _step(index: int, load: float, verdict: str) -> StepView:
    return StepView(index, load, "probe", 0.0, 3.0, 50, None, None, 0.0, 0.0,
                    None, None, None, None, None, None, verdict, False)  # type: ignore[arg-type]  # fmt: skip


def test_accept_while_the_target_drains_ends_the_search():
    coord = _Coordinator()
    search = CapacitySearch(SearchSpec(), coord, replaying=False)  # type: ignore[arg-type]
    # 5 passed, 20 failed: the load is 0 while the target drains, the next step waits
    search.steps = [_step(0, 5, "pass"), _step(1, 20, "fail")]
    search._cur, search._drain = None, (12.5, "refine", 0.0)
    coord.latest = {0: type("Snap", (), {"in_flight": 3, "t": 0.5})()}
    coord.controls.append(ControlChange("search", "accept", 1.0, "live"))
    coord.elapsed = 1.0
    search.tick()
    assert search.conclusion is not None and search.conclusion.outcome == "stopped"
    assert search.conclusion.capacity == 5 and search._drain is None
    assert coord.controls[-1].action == "stop"
    search.tick()  # no step starts after the accept
    assert [c.action for c in coord.controls] == ["search", "stop"]


def test_a_step_cut_short_is_skipped_live_and_in_a_replay_alike():
    for replaying in (False, True):
        coord = _Coordinator()
        search = CapacitySearch(SearchSpec(), coord, replaying=replaying)  # type: ignore[arg-type]
        coord.elapsed = 3.0  # nothing judged yet: too little to judge
        search.finish()
        assert [s.verdict for s in search.steps] == ["skipped"], replaying
        assert search.conclusion is not None and search.conclusion.outcome == "stopped"
