"""The capacity search's decisions, as pure functions of a step's figures.

When a step has seen enough (the stopping rule), whether it passed, whether the generator rather
than the target was the limit, and which load comes next (probe up, bisect the knee) or how the
search ends: written apart from the engine (``run/search.py``) so each rule is tested on figures
built by hand, and a replay re-judges its steps by the very same rules. docs/capacity.md states
them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from loadtui.model.search import Outcome, SearchMode, SearchSpec, StepVerdict, load_unit

__all__ = [
    "Conclusion",
    "Figures",
    "Judged",
    "accepted",
    "after_skip",
    "conclude",
    "next_load",
    "saturated",
    "step_over",
    "step_verdict",
    "verdict",
    "wilson",
]

Z95 = 1.96
SHORTFALL = 0.05
"""Open loop: a step whose requests sent fall short of the intended count by more than this
share (or whose late sends exceed it) was the generator's limit, not the target's."""
IN_FLIGHT_NEAR_CAP = 0.9
"""Arrivals held back by ``max_in_flight`` (a slow target) are not the generator's fault."""


def wilson(met: int, judged: int) -> tuple[float, float] | None:
    """The Wilson score 95 % interval of the share ``met / judged`` (None without samples)."""
    if judged <= 0:
        return None
    p = met / judged
    z2 = Z95 * Z95
    centre = (p + z2 / (2 * judged)) / (1 + z2 / judged)
    half = Z95 * math.sqrt(p * (1 - p) / judged + z2 / (4 * judged * judged)) / (1 + z2 / judged)
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True, slots=True)
class Figures:
    """What a step measured after its settling part."""

    judged_s: float
    """Seconds judged (the step's length minus its settling part)."""
    requests: int
    errors: int
    met: int
    """Requests that met every SLO (succeeded, when no SLO is set)."""
    judged: int
    """Requests judged against the SLOs (every request, when no SLO is set)."""
    span_s: float = 0.0
    """Seconds the step's summed snapshots cover: what its counts are counts of."""
    arrivals: int = 0
    late: int = 0
    near_cap: bool = False
    """A worker's in-flight count came near its share of ``max_in_flight``."""

    @property
    def attainment(self) -> float | None:
        return self.met / self.judged if self.judged else None

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0


def step_over(fig: Figures, spec: SearchSpec) -> str | None:
    """Why the step may end now: ``decided`` (at least ``min_step`` seconds and
    ``min_requests`` judged, and the attainment's interval lies wholly on one side of the target
    or is no wider than ±``half_width``), ``capped`` (``max_step`` seconds judged), or None."""
    if fig.judged_s >= spec.max_step:
        return "capped"
    if fig.judged_s < spec.min_step or fig.judged < spec.min_requests:
        return None
    ci = wilson(fig.met, fig.judged)
    assert ci is not None
    lo, hi = ci
    if lo >= spec.attainment or hi < spec.attainment or (hi - lo) / 2 <= spec.half_width:
        return "decided"
    return None


def saturated(fig: Figures, mode: SearchMode, load: float) -> bool:
    """The generator could not send the step's load (open loop only: closed-loop users wait
    for the target by design)."""
    if mode != "rate" or fig.span_s < 1.0 or fig.near_cap:
        return False
    intended = load * fig.span_s
    short = fig.arrivals < (1 - SHORTFALL) * intended
    late = fig.arrivals > 0 and fig.late > SHORTFALL * fig.arrivals
    return short or late


def verdict(fig: Figures, spec: SearchSpec, mode: SearchMode, load: float) -> StepVerdict:
    """pass, fail (attainment below target or errors above the limit), or saturated."""
    if saturated(fig, mode, load):
        return "saturated"
    attainment = fig.attainment
    if attainment is None or attainment < spec.attainment or fig.error_rate > spec.error_limit:
        return "fail"
    return "pass"


def step_verdict(fig: Figures, spec: SearchSpec, load: float, in_flight: int) -> StepVerdict:
    """How a step that ended is judged: ``skipped`` only when nothing was sent; a step where
    requests were sent (or are in flight) but none finished fails — the target could not answer
    within ``max_step``, and skipping past it would push the search upward."""
    sent = fig.judged > 0 or fig.arrivals > 0 or in_flight > 0
    return verdict(fig, spec, spec.mode, load) if sent else "skipped"


@dataclass(frozen=True, slots=True)
class Judged:
    """A finished step as the planner sees it."""

    load: float
    verdict: StepVerdict
    phase: str = "probe"
    attainment: float | None = None
    error_rate: float = 0.0


@dataclass(frozen=True, slots=True)
class Conclusion:
    outcome: Outcome
    capacity: float | None
    interval: tuple[float, float] | None
    message: str


def _bounds(steps: Sequence[Judged]) -> tuple[float | None, float | None]:
    """(last good, first bad): the highest passing load below the lowest failing one."""
    fails = [s.load for s in steps if s.verdict == "fail"]
    bad = min(fails) if fails else None
    goods = [s.load for s in steps if s.verdict == "pass" and (bad is None or s.load < bad)]
    return (max(goods) if goods else None), bad


def _fmt(load: float) -> str:
    return f"{load:.4g}"


def next_load(
    steps: Sequence[Judged], spec: SearchSpec, factor: float
) -> tuple[float, str] | Conclusion:
    """The next step's (load, phase), or how the search ends."""
    done = conclude(steps, spec, final=False)
    if done is not None:
        return done
    good, bad = _bounds(steps)
    if bad is None:  # probing: multiply the highest passing load
        assert good is not None
        higher = good * factor
        if spec.mode == "users":
            higher = max(math.ceil(higher), int(good) + 1)
        if spec.max_load is not None:
            higher = min(higher, spec.max_load)
        return _round(higher, spec.mode), "probe"
    assert good is not None
    return _round((good + bad) / 2, spec.mode), "refine"


def after_skip(
    steps: Sequence[Judged], skipped: Judged, spec: SearchSpec, factor: float
) -> tuple[float, str] | Conclusion:
    """After a skipped step: the next load as if it had passed, but a conclusion only from
    the judged ``steps`` (nobody measured the skipped load, so it is never the capacity)."""
    step = next_load([*steps, Judged(skipped.load, "pass", skipped.phase)], spec, factor)
    if isinstance(step, Conclusion):
        return conclude(steps, spec, final=True) or step
    return step


def _round(load: float, mode: SearchMode) -> float:
    return float(round(load)) if mode == "users" else round(load, 3)


def _decisive_saturation(judged: Sequence[Judged], bad: float | None) -> Judged | None:
    """The saturated step that ends the search as ``generator_saturated``: one that came before
    any failure of the target, with no failure at or below its load (else the target's knee
    lies below it, and the saturation only blurs the bracket)."""
    first_fail = next((i for i, s in enumerate(judged) if s.verdict == "fail"), len(judged))
    for s in judged[:first_fail]:
        if s.verdict == "saturated" and (bad is None or s.load < bad):
            return s
    return None


def _saturated_line(step: Judged, good: float | None, spec: SearchSpec) -> str:
    """What a saturated generator proved: not that the target takes ``step.load`` (it was never
    sent — and that step's figures, failing or not, are the generator's), only that the last
    step it drove passed."""
    x, unit = _fmt(step.load), load_unit(spec.mode)
    head = f"the generator saturated at {x} {unit}: it could not send that load, so the target "
    if good is None:
        return head + "was not measured; add workers (or lower --search-start)"
    y = _fmt(good)
    # ≥ Y is a lower bound, not a capacity: ``capacity>=N`` fails whatever N (the run measured
    # the generator), so the line says so rather than seem to prove Y
    return head + (
        f"was measured only up to {y} {unit}, which passed — capacity ≥ {y}, not a capacity: "
        "capacity thresholds fail; add workers"
    )


def conclude(steps: Sequence[Judged], spec: SearchSpec, final: bool) -> Conclusion | None:
    """How the search ends given its judged steps, or None while it should go on (``final``:
    it has ended anyway — stopped, time up — so say what it found)."""
    unit = load_unit(spec.mode)
    judged = [s for s in steps if s.verdict != "skipped"]
    good, bad = _bounds(judged)
    hot = _decisive_saturation(judged, bad)
    if hot is not None:
        below = [s.load for s in judged if s.verdict == "pass" and s.load < hot.load]
        line = _saturated_line(hot, max(below, default=None), spec)
        return Conclusion("generator_saturated", None, None, line)
    if bad is not None and good is None:
        first = next(s for s in judged if s.verdict == "fail")
        return Conclusion("never_compliant", None, None, _never_line(first, spec))
    if bad is not None and good is not None:
        refined = sum(1 for s in judged if s.phase == "refine")
        narrow = (bad - good) / good <= spec.precision
        adjacent = spec.mode == "users" and bad - good <= 1
        blurred = [s for s in judged if s.verdict == "saturated"]
        if final or narrow or adjacent or blurred or refined >= spec.refinements:
            line = _capacity_line(good, bad, spec)
            if blurred:  # bisecting again would repeat the load the generator could not send
                line += (
                    f"; warning: the generator saturated at {_fmt(blurred[0].load)} {unit}, "
                    "so the knee was not narrowed further (add workers)"
                )
            return Conclusion("capacity", good, (good, bad), line)
        return None
    if good is None:
        return (
            Conclusion("stopped", None, None, "stopped before any step was judged")
            if final
            else None
        )
    if spec.max_load is not None and good >= spec.max_load:
        return Conclusion(
            "ceiling",
            good,
            None,
            f"no knee up to {_fmt(spec.max_load)} {unit}: every step met attainment ≥ "
            f"{spec.attainment:.2f} (capacity at least {_fmt(good)})",
        )
    if final:
        return Conclusion(
            "stopped", good, None, f"stopped: best step so far {_fmt(good)} {unit} passed"
        )
    return None


def accepted(steps: Sequence[Judged], spec: SearchSpec) -> Conclusion:
    """The user accepted the best step so far: outcome ``stopped``, capacity = the highest
    passing load below the first failure (a threshold judges it), whatever else was planned."""
    good, bad = _bounds([s for s in steps if s.verdict != "skipped"])
    if good is None:
        return Conclusion("stopped", None, None, "accepted before any step passed: no capacity")
    interval = None if bad is None else (good, bad)
    return Conclusion(
        "stopped",
        good,
        interval,
        f"accepted: best passing step {_fmt(good)} {load_unit(spec.mode)}"
        + ("" if bad is None else f" (first failing step {_fmt(bad)})"),
    )


def _never_line(step: Judged, spec: SearchSpec) -> str:
    got = "no request judged" if step.attainment is None else f"attainment {step.attainment:.3f}"
    return (
        f"never compliant: already at {_fmt(step.load)} {load_unit(spec.mode)} {got}, error rate "
        f"{step.error_rate:.3f} (target: attainment ≥ {spec.attainment:.2f}, errors ≤ "
        f"{spec.error_limit:g}); lower --search-start or check the SLOs"
    )


def _capacity_line(good: float, bad: float, spec: SearchSpec) -> str:
    unit = load_unit(spec.mode)
    return (
        f"capacity: {_fmt(good)} {unit} (between {_fmt(good)} and {_fmt(bad)}) at attainment "
        f"≥ {spec.attainment:.2f}"
    )
