"""What one redraw of a run shows, as plain data: the one live view both front ends draw.

A ``LiveFrame`` is built off the UI thread from the coordinator (``build_frame``) or from a
saved run file (``frame_from_run``: the history screen and the snapshot tests). The console's
progress line and panel and every widget of the app only read frames, so a live run and a
finished run, in a terminal log or in the app, are drawn from the same figures; and a frame's
cost is fixed: summaries of exactly merged histograms, the last two minutes of the per-second
series, and one compact row per user. This module never imports rich or Textual.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from loadtui.engine.coordinator import Coordinator
from loadtui.model.plan import open_loop_of
from loadtui.model.requests import count_unit
from loadtui.model.snapshot import UserRow
from loadtui.model.thresholds import evaluate

__all__ = ["SPARK_SECONDS", "LiveFrame", "build_frame", "frame_from_run", "in_flight_now"]

SPARK_SECONDS = 120
"""How much history the sparklines show."""


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
    totals: dict[str, Any] = field(default_factory=dict)
    """The whole run: ``Aggregate.summary``."""
    recent: dict[str, Any] = field(default_factory=dict)
    """The last ``window_s`` seconds, same shape; empty for a saved run."""
    window_s: int = 0
    spark: dict[str, list[float | None]] = field(default_factory=dict)
    """ttft_p50, ttft_p95, rps, errors: one value per second, oldest first; None where a second
    had no sample (no TTFT without a streamed answer) — drawn as a gap, never as a zero."""
    last: dict[str, Any] | None = None
    """The newest finished per-second point."""
    users_rows: list[UserRow] = field(default_factory=list)
    health: dict[str, Any] = field(default_factory=dict)
    thresholds: list[dict[str, Any]] = field(default_factory=list)
    controls: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    run_id: str | None = None
    target_url: str = ""
    unit: str = "requests"
    """What the counters count, as the console says it: ``jobs`` (a Batch run counts a job
    once however many HTTP calls it makes), ``requests + jobs`` in a mix, else ``requests``."""


def _spark(points: list[dict[str, Any]]) -> dict[str, list[float | None]]:
    pts = points[-SPARK_SECONDS:]
    return {
        "ttft_p50": [p["ttft_ms"]["p50"] for p in pts],
        "ttft_p95": [p["ttft_ms"]["p95"] for p in pts],
        "rps": [float(p["rps"]) for p in pts],
        "errors": [float(p["errors"]) for p in pts],
    }


def in_flight_now(coord: Coordinator) -> int:
    """Requests in flight now, as the newest snapshots say: a frame's ``in_flight`` without the
    cost of a frame (the console says it when the drain starts, and the drain must not wait)."""
    return sum(s.in_flight for s in coord.latest.values())


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
    totals = coord.totals.summary(elapsed)
    window = coord.recent
    latest = list(coord.latest.values())
    rows: list[UserRow] = []
    for snap in latest:
        rows.extend(snap.users_rows)
    health = coord.health.summary()
    health["cpu_now"] = max((s.cpu_percent for s in latest), default=0.0)
    health["lag_now_ms"] = max((s.loop_lag_ms for s in latest), default=0.0)
    health["warning"] = coord.health.current_warning
    return LiveFrame(
        phase=phase,
        elapsed=elapsed,
        duration=coord.duration,
        mode=coord.config.load.mode,
        open_loop=coord.config.load.open_loop,
        target_users=coord.target_users,
        target_rate=coord.target_rate,
        users=sum(s.users for s in latest),
        peak_users=max((p.get("users", 0) for p in coord.series.points), default=0),
        in_flight=in_flight_now(coord),
        workers=coord.n,
        totals=totals,
        recent=window.aggregate().summary(window.span) if recent else {},
        window_s=window.seconds,
        spark=_spark(coord.series.points),
        last=coord.series.points[-1] if coord.series.points else None,
        users_rows=rows,
        health=health,
        # as the saved run: a TTFT threshold of a run without streams is skipped, not failed
        thresholds=evaluate(
            coord.config.thresholds,
            totals,
            streamed=any(r.streamed for r in coord.config.requests),
        ),
        controls=list(coord.control_log),
        target_url=target_url,
        unit=count_unit({r.kind for r in coord.config.requests}),
    )


def frame_from_run(run: dict[str, Any]) -> LiveFrame:
    """The final frame of a saved run (no per-user rows: run files do not keep them)."""
    config = run.get("config", {})
    load = config.get("load", {})
    series = run.get("series", [])
    summary = run.get("summary", {})
    generator = dict(run.get("generator", {}))
    generator.setdefault("warning", None)
    last = series[-1] if series else None
    return LiveFrame(
        phase=run.get("status", "completed"),
        elapsed=summary.get("duration_s", 0.0),
        duration=summary.get("duration_s", 0.0),
        mode=load.get("mode", "closed"),
        open_loop=open_loop_of(load),
        target_users=(last or {}).get("target_users") or 0,
        target_rate=(last or {}).get("target_rate"),
        users=max((p.get("users", 0) for p in series), default=0),
        peak_users=max((p.get("users", 0) for p in series), default=0),
        workers=generator.get("workers", 0),
        totals=summary,
        spark=_spark(series),
        last=last,
        health=generator,
        thresholds=run.get("thresholds", []),
        controls=run.get("controls", []),
        error=run.get("error"),
        run_id=run.get("id"),
        target_url=run.get("target", {}).get("url", ""),
        unit=count_unit({r.get("kind") for r in config.get("requests") or []}),
    )
