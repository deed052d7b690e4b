"""What one redraw of a run shows, as plain typed data: the one live view both front ends draw.

A ``LiveFrame`` is built off the UI thread from the coordinator (``build_frame``) or from a
saved run (``frame_from_record``: the history and detail screens and the snapshot tests). The
console's progress line and panel and every widget of the app only read frames, so a live run
and a finished run, in a terminal log or in the app, are drawn from the same figures. A frame's
cost is fixed: summaries of exactly merged histograms, the last two minutes of the per-second
series, and one compact row per user. This module never imports rich or Textual.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import chain
from weakref import WeakKeyDictionary

from loadtui.engine.coordinator import Coordinator
from loadtui.model.controls import ControlChange
from loadtui.model.durations import MAX_DURATION
from loadtui.model.plan import RunConfig
from loadtui.model.record import (
    ErrorSample,
    GeneratorHealth,
    RunRecord,
    RunSummary,
    SeriesPoint,
    ThresholdResult,
)
from loadtui.model.requests import count_unit
from loadtui.model.search import SearchView
from loadtui.model.servermetrics import ServerSeries
from loadtui.model.snapshot import UserRow
from loadtui.model.thresholds import METRICS, judge, parsed

__all__ = [
    "SPARK_SECONDS",
    "LiveFrame",
    "SparkSeries",
    "build_frame",
    "frame_from_record",
    "in_flight_now",
]

SPARK_SECONDS = 120
"""How much history the sparklines show."""

LIVE_PHASES = ("starting", "running", "paused", "stopping")
"""Phases of a run still going; any other phase is a saved run's status."""


@dataclass(frozen=True, slots=True)
class SparkSeries:
    """The sparklines' values, one per second, oldest first; None where a second had no sample
    (no TTFT without a streamed answer) — drawn as a gap, never as a zero."""

    ttft_p50: tuple[float | None, ...] = ()
    ttft_p95: tuple[float | None, ...] = ()
    rps: tuple[float | None, ...] = ()
    """Requests completed per second."""
    errors: tuple[float | None, ...] = ()

    @classmethod
    def of(cls, points: tuple[SeriesPoint, ...] | list[SeriesPoint]) -> SparkSeries:
        """The last ``SPARK_SECONDS`` of a series."""
        pts = points[-SPARK_SECONDS:]
        return cls(
            ttft_p50=tuple(p.ttft_ms.p50 for p in pts),
            ttft_p95=tuple(p.ttft_ms.p95 for p in pts),
            rps=tuple(float(p.rps) for p in pts),
            errors=tuple(float(p.errors) for p in pts),
        )


@dataclass(frozen=True, slots=True)
class LiveFrame:
    phase: str
    """starting, running, paused, stopping, or the saved run's status."""
    elapsed: float = 0.0
    duration: float = 0.0
    mode: str = "closed"
    open_loop: bool = False
    """Arrivals at a rate (open loop, rate stages) rather than users (closed loop)."""
    target_users: int = 0
    target_rate: float | None = None
    users: int = 0
    peak_users: int = 0
    """The most users running at once so far (what a finished run's header shows)."""
    in_flight: int = 0
    workers: int = 0
    totals: RunSummary = field(default_factory=RunSummary)
    """The whole run so far."""
    recent: RunSummary | None = None
    """The last ``window_s`` seconds; None for a saved run (and for the console, which does not
    show it)."""
    window_s: int = 0
    spark: SparkSeries = field(default_factory=SparkSeries)
    last: SeriesPoint | None = None
    """The newest finished per-second point."""
    users_rows: tuple[UserRow, ...] = ()
    health: GeneratorHealth = field(default_factory=GeneratorHealth)
    """The run's generator health so far (a saved run: as recorded)."""
    cpu_now: float | None = None
    """The busiest worker's CPU % in its newest snapshot; None for a saved run."""
    lag_now_ms: float | None = None
    """The worst event-loop lag in the newest snapshots; None for a saved run."""
    warning: str | None = None
    """The generator's current warning (it is the bottleneck now), if any."""
    thresholds: tuple[ThresholdResult, ...] = ()
    controls: tuple[ControlChange, ...] = ()
    error: str | None = None
    run_id: str | None = None
    target_url: str = ""
    error_samples: tuple[ErrorSample, ...] = ()
    """The first few failed responses of each error class (the failure view shows them)."""
    unit: str = "requests"
    """What the counters count, as the console says it: ``jobs`` (a Batch run counts a job
    once however many HTTP calls it makes), ``requests + jobs`` in a mix, else ``requests``."""
    search: SearchView | None = None
    """A capacity search's steps so far (``run/search.py``); None for a plain run."""
    warmup_left: float = 0.0
    """Seconds of the warm-up still to run (0: none, or over); ``totals`` leave it out."""
    budget: int | None = None
    """``[load] requests``: the run ends once that many are answered; None: no budget."""

    @property
    def until_budget(self) -> bool:
        """The run has a request budget and no length of its own: it ends when answered."""
        return self.budget is not None and self.duration >= MAX_DURATION

    server: ServerSeries | None = None
    """The server's own metrics (``--server-metrics``): its last ``SPARK_SECONDS`` points and
    the scrape counts; None when not scraped."""

    @property
    def live(self) -> bool:
        """The run is still going (not a saved run's final frame)."""
        return self.phase in LIVE_PHASES


_peaks: WeakKeyDictionary[Coordinator, tuple[int, int]] = WeakKeyDictionary()
"""Per coordinator: how many series points were scanned, and the peak users among them."""


def _peak_users(coord: Coordinator) -> int:
    """The most users any finished second had, scanning only the points new since the last
    frame: a day-long run's frame costs what a minute-long one's does (the series only grows)."""
    points = coord.series.points
    seen, peak = _peaks.get(coord, (0, 0))
    peak = max([peak, *(p.users for p in points[seen:])])
    _peaks[coord] = (len(points), peak)
    return peak


def in_flight_now(coord: Coordinator) -> int:
    """Requests in flight now, as the newest snapshots say: a frame's ``in_flight`` without the
    cost of a frame (the console says it when the drain starts, and the drain must not wait)."""
    return sum(s.in_flight for s in coord.latest.values())


def _judged_by_label(config: RunConfig) -> dict[str, set[str]]:
    """Per label, the metrics a live frame summarises in full beyond what it shows: the ITL or
    TPOT a threshold filtered by that label reads (the frame judges thresholds). The rest of a
    label's ITL and TPOT is left out (``LabelStats.live_summary``): the saved run has it all."""
    wanted: dict[str, set[str]] = {}
    for t in parsed(config.thresholds):
        if t.label is not None:
            wanted.setdefault(t.label, set()).add(METRICS[t.name])
    return wanted


def build_frame(
    coord: Coordinator, phase: str | None = None, target_url: str = "", *, recent: bool = True
) -> LiveFrame:
    """A frame of a live run. Call from the thread that owns the coordinator.

    ``phase`` None: ``running``, or ``paused`` while a pause control holds (the console's case;
    the app names ``starting`` and ``stopping`` itself). ``recent`` False leaves out the recent
    window (the console does not show it): summaries of histograms are most of a frame's cost,
    and the window doubles them."""
    if phase is None:
        phase = "paused" if coord.paused else "running"
    elapsed = coord.elapsed if coord.ended_at is None else coord.ended_at
    config = coord.config
    # a live frame summarises what it shows of each label; the last one all (the saved run's)
    live = _judged_by_label(config) if phase in LIVE_PHASES else None
    totals = coord.totals.summary(coord.measured(elapsed), live=live)
    window = coord.recent
    latest = list(coord.latest.values())
    points = coord.series.points
    return LiveFrame(
        phase=phase,
        elapsed=elapsed,
        duration=coord.duration,
        mode=config.load.mode,
        open_loop=config.load.open_loop,
        target_users=coord.target_users,
        target_rate=coord.target_rate,
        users=sum(s.users for s in latest),
        peak_users=_peak_users(coord),
        in_flight=in_flight_now(coord),
        workers=coord.n,
        totals=totals,
        recent=window.aggregate().summary(window.span) if recent else None,
        window_s=window.seconds,
        spark=SparkSeries.of(points),
        last=points[-1] if points else None,
        users_rows=tuple(chain.from_iterable(s.users_rows for s in latest)),
        health=coord.generator(),
        cpu_now=max((s.cpu_percent for s in latest), default=0.0),
        lag_now_ms=max((s.loop_lag_ms for s in latest), default=0.0),
        warning=coord.health.current_warning,
        # as the saved run: a TTFT threshold of a run without streams is skipped, not failed
        thresholds=judge(config, totals),
        controls=tuple(coord.controls),
        target_url=target_url,
        error_samples=coord.error_samples(),
        unit=count_unit({r.kind for r in config.requests}),
        warmup_left=max(0.0, config.load.warmup - elapsed) if coord.ended_at is None else 0.0,
        budget=config.load.requests,
    )


def frame_from_record(run: RunRecord) -> LiveFrame:
    """The final frame of a saved run (no per-user rows: run files do not keep them)."""
    series = run.series
    last = series[-1] if series else None
    peak = max((p.users for p in series), default=0)
    load = run.config.load
    return LiveFrame(
        phase=run.status,
        elapsed=_whole(run),
        duration=_whole(run),
        mode=load.mode,
        open_loop=load.open_loop,
        target_users=(last.target_users if last else None) or 0,
        target_rate=last.target_rate if last else None,
        users=peak,
        peak_users=peak,
        workers=run.generator.workers,
        totals=run.summary,
        spark=SparkSeries.of(series),
        last=last,
        health=run.generator,
        thresholds=run.thresholds,
        controls=run.controls,
        error=run.error,
        run_id=run.id,
        target_url=run.target.url,
        error_samples=run.error_samples,
        unit=count_unit({r.kind for r in run.config.requests}),
        search=run.search,
        budget=load.requests,
        server=run.server,
    )


def _whole(run: RunRecord) -> float:
    """A saved run's length: its summary's duration is the measured part's, after any
    warm-up."""
    measured = run.summary.duration_s
    return measured + run.config.load.warmup if measured else measured
