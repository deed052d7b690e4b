"""The capacity search: raises the load step by step and finds the knee, acting each tick.

The drive loop calls ``tick()`` after every coordinator tick. The search sums each step's
snapshots (a listener on the coordinator) after its settling part, ends the step by the stopping
rule (``searchrules.step_over``), judges it, and applies the next load as a
``ControlChange("rate"|"users", source="search")`` through the coordinator — so it lands in the
run's control timeline — or stops the run with its conclusion. Steering (hold, skip, back,
step:F, accept) arrives as ``search`` controls, recorded in the timeline too.

A replay makes no decision: the recorded load changes (applied again by the replay's schedule)
mark the step boundaries, and each step is re-judged on the replay's own figures by the same
rules, so the replay prints the same steps, in the same order, with its own numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from loadtui.engine.coordinator import Coordinator
from loadtui.metrics.histogram import Histogram
from loadtui.metrics.stats import Aggregate
from loadtui.model.controls import ControlChange
from loadtui.model.record import MetricSummary
from loadtui.model.search import SearchSpec, SearchView, StepVerdict, StepView
from loadtui.model.snapshot import WorkerSnapshot
from loadtui.run.searchrules import (
    IN_FLIGHT_NEAR_CAP,
    Conclusion,
    Figures,
    Judged,
    accepted,
    after_skip,
    conclude,
    next_load,
    step_over,
    step_verdict,
    wilson,
)

__all__ = ["CapacitySearch"]


@dataclass
class _Step:
    index: int
    load: float
    phase: str
    started: float
    agg: Aggregate = field(default_factory=Aggregate)
    spans: dict[int, list[float]] = field(default_factory=dict)
    """Per worker: [start, end] of the intervals its summed snapshots cover."""
    before: dict[int, float] = field(default_factory=dict)
    """Per worker: the end of its newest snapshot not summed (the settling part)."""
    near_cap: bool = False
    held: bool = False
    """Held now: the step does not end until released."""
    was_held: bool = False
    """Held at some time (what its view says)."""
    skipped: bool = False


class CapacitySearch:
    """One search over a started coordinator; ``replaying``: follow the recorded steps."""

    def __init__(
        self,
        spec: SearchSpec,
        coord: Coordinator,
        replaying: bool = False,
        on_step: Callable[[StepView], None] | None = None,
    ) -> None:
        self.spec = spec
        self.coord = coord
        self.replaying = replaying
        self.on_step = on_step
        """Told each step as it ends (the console prints a line)."""
        self.factor = spec.step_factor
        self.steps: list[StepView] = []
        self.conclusion: Conclusion | None = None
        self._seen = len(coord.controls)
        self._queued: list[str] = []
        """A replay: keys for the step after a skip (``_deferred``)."""
        self._mine: list[ControlChange] = []
        """Load changes the search applied and ``_read_controls`` has not reached yet: not
        replayed boundaries. Skipped one by one — controls queued behind them are still read."""
        self._cap = max(1, coord.config.load.max_in_flight // max(1, coord.n))
        self._cur: _Step | None = _Step(0, spec.start, "probe", 0.0)
        self._drain: tuple[float, str, float] | None = None
        """After a failed step: (next load, its phase, since when) while the target drains."""
        self._bisecting = False
        """A replay: the recorded search drained after a failed step, so it bisected from then
        on — its steps are labelled as the original labelled them, whatever the replay's own
        verdicts."""
        self._backed = False
        """A replay: ``back`` was recorded since the last load change (its drain is no failure)."""
        coord.listeners.append(self._take)

    # -- figures ---------------------------------------------------------------------------
    def _take(self, snap: WorkerSnapshot, decoded: dict[str, Histogram]) -> None:
        cur = self._cur
        if cur is None:
            return
        if snap.t <= cur.started + self.spec.settle:
            cur.before[snap.worker] = snap.t
            return
        cur.agg.add_decoded(snap, decoded, labels=False)
        start = cur.before.get(snap.worker, cur.started + self.spec.settle)
        cur.spans.setdefault(snap.worker, [start, snap.t])[1] = snap.t
        if snap.in_flight >= IN_FLIGHT_NEAR_CAP * self._cap:
            cur.near_cap = True

    def _figures(self, cur: _Step, now: float) -> Figures:
        counters = cur.agg.counters
        requests = cur.agg.requests
        if counters["slo_judged"]:
            met, judged = counters["slo_ok"], counters["slo_judged"]
        else:  # no SLO set: a request meets them when it succeeds
            met, judged = counters["ok"], requests
        return Figures(
            judged_s=max(0.0, now - cur.started - self.spec.settle),
            span_s=_span(cur),
            requests=requests,
            errors=cur.agg.errors_total,
            met=met,
            judged=judged,
            arrivals=counters["arrivals"],
            late=counters["late"],
            near_cap=cur.near_cap,
        )

    # -- each tick -------------------------------------------------------------------------
    def tick(self) -> None:
        """Take in new controls, then end the step and move on when its time has come."""
        self._read_controls()
        if self._drain is not None and not self.replaying:
            self._drained()
        cur = self._cur
        if cur is None or self.replaying or self.conclusion is not None:
            return
        now = self.coord.elapsed
        fig = self._figures(cur, now)
        if cur.held or step_over(fig, self.spec) is None:
            return
        self._close(cur, now)
        self._advance()

    def _read_controls(self) -> None:
        controls = self.coord.controls
        while self._seen < len(controls):
            change = controls[self._seen]
            self._seen += 1
            if self._mine and change is self._mine[0]:
                self._mine.pop(0)  # our own change (``_load``)
            elif change.action == "search" and not self._deferred(str(change.value)):
                self._steer(str(change.value))
            elif change.action in ("rate", "users") and self.replaying:
                self._replayed_load(float(change.value), change.at or self.coord.elapsed)

    def _deferred(self, value: str) -> bool:
        """A replay: a key recorded after a skip or back and before the load change that
        followed. The search had closed that step and started the next (its load change is
        recorded after the queued keys), so the key is kept for the next step."""
        cur = self._cur
        if not self.replaying or cur is None or not cur.skipped:
            return False
        if value in ("hold", "skip", "back", "accept"):
            self._queued.append(value)
            return True
        return False

    def _replayed_load(self, load: float, at: float) -> None:
        """A replay: a recorded load change ends the step and starts the next (a change to 0
        is a drain — after a failed step, or before going back: no step)."""
        cur = self._cur
        if cur is not None:
            self._close(cur, at)
            self._cur = None
        if load <= 0:
            self._bisecting = self._bisecting or not self._backed
            self._queued = []  # a drain: the search had no step to give them to
            return
        self._backed = False
        self._cur = _Step(len(self.steps), load, "refine" if self._bisecting else "probe", at)
        queued, self._queued = self._queued, []
        for value in queued:  # keys the search read after starting this step (``_deferred``)
            if not self._deferred(value):
                self._steer(value)

    def _steer(self, value: str) -> None:
        cur = self._cur
        if value.startswith("step:"):
            self.factor = float(value[5:])
        elif value == "accept":
            self._accept(cur)
        elif cur is None:
            # between steps, a skip cuts the drain short; a replay follows the load change
            # that this recorded instead
            if value == "skip" and self._drain is not None and not self.replaying:
                self._drained(now=True)
            return
        elif value == "hold":
            cur.held = not cur.held
            cur.was_held = True
        elif value == "skip" or value == "back":
            cur.skipped = True
            self._backed = value == "back"
            if not self.replaying:
                self._close(cur, self.coord.elapsed)
                self._advance(back=value == "back")

    def _accept(self, cur: _Step | None) -> None:
        """End the search on the best passing step — while a step runs or the target drains
        after a failure; a replay concludes the same way (the recorded stop ends the run)."""
        if self.conclusion is not None:
            return
        if cur is not None:
            cur.skipped = cur.skipped or self._short(cur)
            self._close(cur, self.coord.elapsed)
        self._drain = None
        done = accepted(self._judged(), self.spec)
        if self.replaying:
            self.conclusion = done
        else:
            self._end(done)

    # -- steps -----------------------------------------------------------------------------
    def _close(self, cur: _Step, now: float) -> None:
        fig = self._figures(cur, now)
        judged: StepVerdict = "skipped"
        if not cur.skipped:
            judged = step_verdict(fig, self.spec, cur.load, self._in_flight())
        view = _view(cur, fig, now, judged)
        self.steps.append(view)
        self._cur = None
        if self.on_step is not None:
            self.on_step(view)

    def _judged(self) -> list[Judged]:
        return [Judged(s.load, s.verdict, s.phase, s.attainment, s.error_rate) for s in self.steps]

    def _advance(self, back: bool = False) -> None:
        """Apply the next load, or end the search with its conclusion."""
        last = self.steps[-1]
        if back:
            earlier = [s.load for s in self.steps if s.load < last.load]
            step: tuple[float, str] | Conclusion = (max(earlier, default=last.load), last.phase)
        elif last.verdict == "skipped":
            step = after_skip(
                self._judged(), Judged(last.load, "skipped", last.phase), self.spec, self.factor
            )
        else:
            step = next_load(self._judged(), self.spec, self.factor)
        if isinstance(step, Conclusion):
            self._end(step)
            return
        load, phase = step
        # a failed step's queue would spill into the next step, and so would the queue of any
        # step left for a lower load (``back`` from an overloaded step): drain it first
        if last.verdict == "fail" or load < last.load:
            self._load(0)
            self._drain = (load, phase, self.coord.elapsed)
            return
        self._start(load, phase)

    def _load(self, load: float) -> None:
        change = ControlChange(self.spec.mode, _value(load, self.spec), None, "search")
        self._mine.append(self.coord.apply(change))

    def _start(self, load: float, phase: str) -> None:
        self._load(load)
        self._cur = _Step(len(self.steps), load, phase, self.coord.elapsed)

    def _drained(self, now: bool = False) -> None:
        """Start the step waiting for the drain once nothing is in flight (at most
        ``max_step`` seconds; ``now``: the user skipped the rest of the drain)."""
        assert self._drain is not None
        load, phase, since = self._drain
        in_flight = self._in_flight()
        fresh = all(s.t > since for s in self.coord.latest.values())
        if now or (in_flight == 0 and fresh) or self.coord.elapsed - since >= self.spec.max_step:
            self._drain = None
            self._start(load, phase)

    def _in_flight(self) -> int:
        return sum(s.in_flight for s in self.coord.latest.values())

    def _short(self, cur: _Step) -> bool:
        """Too little to judge when the run ends mid-step: fewer than ``min_requests`` judged
        and not yet ``max_step`` long (the same rule live and in a replay)."""
        fig = self._figures(cur, self.coord.elapsed)
        return fig.judged < self.spec.min_requests and fig.judged_s < self.spec.max_step

    def _end(self, conclusion: Conclusion | None) -> None:
        self.conclusion = conclusion or conclude(self._judged(), self.spec, final=True)
        self._cur = None
        self.coord.apply(ControlChange("stop", None, None, "search"))

    def finish(self) -> None:
        """The run is over (its end, a stop, the replay's end): close the open step — judged
        when it has at least ``min_requests`` or ran ``max_step``, else skipped, live and in a
        replay alike — and conclude."""
        cur = self._cur
        self._drain = None
        if cur is not None:
            cur.skipped = cur.skipped or self._short(cur)
            self._close(cur, self.coord.elapsed)
        if self.conclusion is None:
            self.conclusion = conclude(self._judged(), self.spec, final=True)

    # -- reading ---------------------------------------------------------------------------
    def view(self) -> SearchView:
        """The search as it stands (the running step with its figures so far)."""
        steps = tuple(self.steps)
        cur = self._cur
        if cur is not None:
            now = self.coord.elapsed
            steps += (_view(cur, self._figures(cur, now), now, "running"),)
        done = self.conclusion
        return SearchView(
            mode=self.spec.mode,
            target=self.spec.attainment,
            error_limit=self.spec.error_limit,
            step_factor=self.factor,
            steps=steps,
            current=None if cur is None else cur.index,
            capacity=None if done is None else done.capacity,
            interval=None if done is None else done.interval,
            outcome=None if done is None else done.outcome,
            message="" if done is None else done.message,
        )


def _span(cur: _Step) -> float:
    """The seconds the summed snapshots cover (their workers' mean)."""
    spans = [end - start for start, end in cur.spans.values()]
    return sum(spans) / len(spans) if spans else 0.0


def _value(load: float, spec: SearchSpec) -> float | int:
    return int(load) if spec.mode == "users" else load


def _ms(section: MetricSummary, which: str) -> float | None:
    return round(float(getattr(section, which)), 3) if section.count else None


def _view(cur: _Step, fig: Figures, now: float, judged: StepVerdict) -> StepView:
    metrics = cur.agg.metrics()
    ttft, itl, latency = metrics.ttft_ms, metrics.itl_ms, metrics.latency_ms
    goodput = fig.met / fig.span_s if fig.span_s > 0 else 0.0
    counters = cur.agg.counters  # no SLO set: every request that succeeded met them
    tokens = counters["slo_ok_tokens"] if counters["slo_judged"] else counters["output_tokens"]
    attainment = fig.attainment
    return StepView(
        index=cur.index,
        load=cur.load,
        phase="refine" if cur.phase == "refine" else "probe",
        started_s=round(cur.started, 3),
        duration_s=round(max(0.0, now - cur.started), 3),
        requests=fig.judged,
        attainment=None if attainment is None else round(attainment, 4),
        attainment_ci=wilson(fig.met, fig.judged),
        goodput_rate=round(goodput, 3),
        error_rate=round(fig.error_rate, 4),
        ttft_p50_ms=_ms(ttft, "p50"),
        ttft_p95_ms=_ms(ttft, "p95"),
        itl_p50_ms=_ms(itl, "p50"),
        itl_p95_ms=_ms(itl, "p95"),
        latency_p50_ms=_ms(latency, "p50"),
        latency_p95_ms=_ms(latency, "p95"),
        verdict=judged,
        held=cur.was_held,
        goodput_tokens_rate=round(tokens / fig.span_s if fig.span_s > 0 else 0.0, 3),
    )
