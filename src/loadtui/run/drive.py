"""One drive loop for every run: the console's, the app's run thread's and the tests'.

A run is driven the same way wherever it is shown: the session brings the target and the
workers up; the loop ticks the coordinator (taking in the workers' snapshots), applies the
controls that are due — a replay's schedule by offset, live ones queued from any thread — and
checkpoints; right after a tick, every ``frame_every`` seconds, it builds one frame and hands it
to the front end (one clock: a frame is never older than the tick it was built after). The run
ends when the plan runs out, a stop control comes, or ``ended()`` names a reason (a signal, the
user quitting); then the session drains the workers and saves. Every wait is bounded
(``TICK``), so a key, a signal or a scheduled change is acted on within 50 ms however busy the
coordinator is.
"""

from __future__ import annotations

import queue
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from time import perf_counter
from typing import TYPE_CHECKING, Generic, TypeVar

from loadtui.engine.coordinator import Coordinator
from loadtui.model.controls import ControlChange, refusal
from loadtui.model.record import RunRecord
from loadtui.run.abort import AbortWatch
from loadtui.run.exposition import RunInfo, exposition
from loadtui.run.frame import SPARK_SECONDS, LiveFrame, build_frame
from loadtui.run.options import redact_url
from loadtui.run.session import RunSession

if TYPE_CHECKING:
    from loadtui.run.metrics_server import MetricsServer

__all__ = ["TICK", "Controls", "RunDriver", "drive_loop"]

TICK = 0.05
"""Longest wait for the workers per turn of the loop (it returns early when a snapshot comes)."""

METRICS_EVERY = 1.0
"""Seconds between the run's figures published to ``--metrics-port`` (each costs a few ms of
the parent: docs/performance.md); Prometheus scrapes every 15 s by default."""

SaveResult = tuple[RunRecord, Path | None]
"""The run as saved, and where (None: no place could be written)."""

F = TypeVar("F")
FrameMaker = Callable[[Coordinator, str, str], F]
"""(coordinator, phase, target URL) → what a front end draws."""


class Controls:
    """The changes a run applies on the thread that owns its coordinator: a replay's schedule
    (each at its offset) and live ones, sent from any thread (the app's keys) — and, beside
    them, the users page the app's table shows (a view, not a change)."""

    def __init__(self, schedule: Iterable[ControlChange] = ()) -> None:
        self._schedule = sorted(schedule, key=lambda c: c.at or 0.0)
        self._live: queue.SimpleQueue[ControlChange] = queue.SimpleQueue()
        self._pages: queue.SimpleQueue[tuple[int, int]] = queue.SimpleQueue()

    def send(self, change: ControlChange) -> None:
        """Queue a live change (thread-safe); the loop applies it within ``TICK``."""
        self._live.put(change)

    def show_users(self, first: int, count: int) -> None:
        """Ask for the rows of users ``first`` … ``first + count - 1`` (thread-safe): a view,
        not a change of the run, so it is never recorded; the loop passes the newest one asked
        to the coordinator within ``TICK`` (``Coordinator.show_users``)."""
        self._pages.put((first, count))

    def page(self) -> tuple[int, int] | None:
        """The newest users page asked since the last call, if any (the older ones are moot)."""
        page = None
        while not self._pages.empty():  # one reader (the loop): empty() then get cannot block
            page = self._pages.get_nowait()
        return page

    def due(self, elapsed: float) -> list[ControlChange]:
        """Live changes in the order sent, then scheduled ones whose offset has come."""
        changes: list[ControlChange] = []
        while True:
            try:
                changes.append(self._live.get_nowait())
            except queue.Empty:
                break
        while self._schedule and (self._schedule[0].at or 0.0) <= elapsed:
            changes.append(self._schedule.pop(0))
        return changes

    def unapplied(self, elapsed: float) -> str | None:
        """One line about the scheduled changes whose time never came (a run that completed
        before them: its request budget answered sooner than the replayed run's), else None."""
        if not self._schedule:
            return None
        first = self._schedule[0]
        return (
            f"{len(self._schedule)} scheduled change(s) not applied: the run completed at "
            f"{elapsed:.1f}s, before the first ({first.action!r} at {first.at or 0.0:g}s)"
        )


def _never() -> str | None:
    return None


def _nothing() -> None:
    return None


def _ignore(text: str) -> None:
    return None


def drive_loop(
    coord: Coordinator,
    controls: Controls | None = None,
    ended: Callable[[], str | None] = _never,
    after_tick: Callable[[], None] = _nothing,
    tick: float = TICK,
    not_applied: Callable[[str], None] = _ignore,
) -> str:
    """Tick a started coordinator until its run is over; returns the run's status: what
    ``ended()`` says (checked first, every turn), ``stopped`` (a stop control) or
    ``completed`` (the plan ran out, the burst finished, the ``requests`` were answered).
    A change that cannot apply to this run (``model.controls.refusal``) is not applied nor
    recorded: ``not_applied`` gets one line saying why — and one about scheduled changes left
    when the run completes before their time."""
    controls = controls or Controls()
    while True:
        why = ended()
        if why:
            return why
        for change in controls.due(coord.elapsed):
            if (no := refusal(coord.config.load, change.action)) is not None:
                not_applied(f"the {change.action!r} change {no}: not applied")
                continue
            coord.apply(change)
            if change.action == "stop":
                return "stopped"
        if (page := controls.page()) is not None:
            coord.show_users(*page)
        if coord.done:
            if coord.stop_requested:
                return "stopped"
            if (left := controls.unapplied(coord.elapsed)) is not None:
                not_applied(left)
            return "completed"
        # a fixed wait, not one cut short by the next scheduled change: a change at a whole
        # second applied to the microsecond races the workers' snapshot at that boundary
        # (either second could show it); landing up to one tick later, as a key pressed live
        # does, makes that rare
        coord.tick(tick)
        after_tick()


class RunDriver(Generic[F]):
    """A session's run from start to saved file, publishing a frame after a tick every
    ``frame_every`` seconds (and one when it starts, stops and ends) through ``publish``.

    ``make_frame`` is the frame builder: ``build_frame``, or the console's own, which builds a
    frame only when one will be drawn (frames cost milliseconds). Call ``start``, ``drive``, ``finish`` in turn — the console wraps ``start`` in
    its signal handling — or ``run`` for all three."""

    def __init__(
        self,
        session: RunSession,
        controls: Controls,
        publish: Callable[[F], None],
        make_frame: FrameMaker[F] = build_frame,  # type: ignore[assignment]
        frame_every: float = 0.5,
        ended: Callable[[], str | None] = _never,
        metrics: MetricsServer | None = None,
    ) -> None:
        self.session = session
        self.metrics = metrics
        """``--metrics-port``'s server: the run is published to it once a second."""
        self._next_metrics = 0.0
        self.controls = controls
        self._publish = publish
        self._make_frame = make_frame
        self.frame_every = frame_every
        self._ended = ended
        self._next_frame = 0.0
        self._abort = AbortWatch(session.config)

    @property
    def coord(self) -> Coordinator:
        coord = self.session.coord
        assert coord is not None, "the run has not started"
        return coord

    def publish(self, phase: str) -> None:
        """Build a frame of the run as it is now and hand it to the front end."""
        frame = self._make_frame(self.coord, phase, self.session.base_url)
        if isinstance(frame, LiveFrame) and self.session.search is not None:
            frame = replace(frame, search=self.session.search.view())
        if isinstance(frame, LiveFrame) and self.session.scraper is not None:
            frame = replace(frame, server=self.session.scraper.view(last=SPARK_SECONDS))
        self._publish(frame)

    def publish_metrics(self, finished: bool = False) -> None:
        """The run as it is now to the metrics server (on the thread owning the coordinator)."""
        assert self.metrics is not None
        session = self.session
        info = RunInfo(
            run_id=session.run_id,
            preset=session.config.preset or "",
            target=redact_url(session.base_url, session.secrets),
        )
        self.metrics.publish(exposition(self.coord, info, finished))

    def start(self) -> Coordinator:
        """Bring the target and the workers up (StartError, ConfigError if they cannot)."""
        coord = self.session.start()  # the first tick publishes the first frame
        if self.metrics is not None:
            self.session.warn(f"metrics: serving {self.metrics.url}")
        return coord

    def drive(self) -> tuple[str, str | None]:
        """The loop; returns (status, error). A bug while driving or drawing ends the run as
        ``failed`` (``ended()``'s reason when one came meanwhile) and never loses it."""
        try:
            status = drive_loop(
                self.coord,
                self.controls,
                self._ended,
                self._after_tick,
                not_applied=self.session.say,
            )
            return status, None
        except Exception as exc:
            why = self._ended()
            if why:  # e.g. drawing onto the terminal that SIGHUP just closed
                return why, None
            return "failed", f"{type(exc).__name__}: {exc}"

    def _after_tick(self) -> None:
        if self.session.search is not None:
            self.session.search.tick()  # may apply the next step's load, or stop the run
        self.session.checkpoint()
        if self._abort and self.session.aborted is None:
            self._check_abort()
        now = perf_counter()
        if self.metrics is not None and now >= self._next_metrics:
            self._next_metrics = now + METRICS_EVERY
            self.publish_metrics()
        if now >= self._next_frame:
            self._next_frame = now + self.frame_every
            self.publish("paused" if self.coord.paused else "running")

    def _check_abort(self) -> None:
        """Stop the run (a stop control from ``threshold``, in the timeline) when an
        ``abort_on_fail`` threshold fails; the session marks it in the saved results."""
        abort = self._abort.check(self.coord)
        if abort is None:
            return
        self.session.aborted = abort
        self.session.say(
            f"threshold {abort.metric} {abort.expression} failed at {abort.at_s:g}s "
            f"({abort.actual:.4g}) and has abort_on_fail: stopping the run"
        )
        self.controls.send(ControlChange("stop", None, None, "threshold"))

    def finish(
        self,
        status: str,
        error: str | None = None,
        grace: float | None = None,
        cut_short: Callable[[], bool] | None = None,
    ) -> SaveResult:
        """Drain the workers (``grace``; ``cut_short`` as ``RunSession.finish``) and save."""
        self.publish("stopping")
        run, path = self.session.finish(status, error, grace, cut_short)
        if self.metrics is not None:  # the final figures: the saved run's, served until exit
            self.publish_metrics(finished=True)
        self.publish(run.status)
        return run, path

    def run(self, grace: Callable[[str], float | None] = lambda status: None) -> SaveResult:
        """``start``, ``drive``, ``finish``; ``grace(status)`` is the drain for that ending."""
        self.start()
        status, error = self.drive()
        return self.finish(status, error, grace(status))
