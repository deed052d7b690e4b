"""The coordinator: owns the run's clock, drives workers, merges what they report.

It runs in the process that draws the UI or the console, but does no I/O on the hot path: it
sends a handful of control tuples and folds fixed-size snapshots into an ``Aggregate`` (the whole
run), a ``Series`` (one point a second) and a ``HealthTracker``. Callers drive it with ``tick()``
and read its state through ``loadtui.run.frame.build_frame``; the headless runner, the TUI,
replays and tests all use it the same way.

A worker that dies or reports an unexpected exception is *lost*: the survivors are renumbered
and take its users and its share of the rate, the series goes on without it, and
``lost_workers`` says what happened (the run's status is the session's call).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from time import perf_counter
from typing import Any

from loadtui.engine.channel import ProcessPool, WorkerPool
from loadtui.engine.protocols import Prompt
from loadtui.engine.shape import Shape
from loadtui.engine.worker import WorkerSpec, in_flight_cap
from loadtui.errors import ConfigError, StartError
from loadtui.metrics.health import HealthTracker
from loadtui.metrics.series import Series, second_of
from loadtui.metrics.stats import Aggregate, decode_histograms
from loadtui.metrics.window import RollingWindow
from loadtui.model.controls import ControlChange
from loadtui.model.plan import MAX_USERS, RunConfig
from loadtui.model.record import RunResult
from loadtui.model.snapshot import WorkerSnapshot
from loadtui.model.workflows import BatchInput

__all__ = ["MAX_USERS", "Coordinator", "auto_workers"]

_START_DELAY = 0.1


def auto_workers(config: RunConfig) -> int:
    """Workers when the config says 0: one per spare core, never more than there is work for."""
    if config.workers:
        return config.workers
    spare = max(1, (os.cpu_count() or 2) - 1)
    load = config.load
    if load.mode == "closed":
        return max(1, min(spare, load.users))
    return spare


class Coordinator:
    def __init__(
        self,
        config: RunConfig,
        base_url: str,
        api_key: str | None = None,
        pool: WorkerPool | None = None,
        prompts: list[Prompt] | None = None,
        direct_url: str | None = None,
        batch: BatchInput | None = None,
    ) -> None:
        self.config = config
        self.base_url = base_url
        self.api_key = api_key
        self.prompts = tuple(prompts) if prompts else None
        self.direct_url = direct_url
        self.batch = batch
        self.pool = pool or ProcessPool()
        self.n = auto_workers(config)
        self.shape = Shape(config.load)
        self.totals = Aggregate()
        self.series = Series()
        self.health = HealthTracker()
        self.recent = RollingWindow(10)
        """The last 10 seconds, for live tables; run files use ``totals`` and ``series``."""
        self.controls: list[ControlChange] = []
        self.control_log: list[dict[str, Any]] = []
        """``controls`` as run-file dicts, built once each (frames copy the list, not the work)."""
        self.latest: dict[int, WorkerSnapshot] = {}
        self.finals: set[int] = set()
        self.exited: set[int] = set()
        self.alive: list[int] = list(range(self.n))
        """Workers still running their share, in order; a lost one leaves this list."""
        self.lost_workers: dict[int, str] = {}
        """Workers that ended mid-run, with why (their exception, or how they exited)."""
        self._failures: dict[int, str] = {}
        self.paused = False
        self.stop_requested = False
        self.t0: float | None = None
        self.load_ended_at: float | None = None
        """Offset when the load stopped (before in-flight requests drained)."""
        self.ended_at: float | None = None
        self._sent_users: int | None = None
        self._sent_rate: float | None = None
        self._finalized = -1
        _check_users(config)

    # -- lifecycle -----------------------------------------------------------------------
    def start(self, ready_timeout: float = 60.0) -> None:
        specs = [
            WorkerSpec(
                i,
                self.n,
                self.config,
                self.base_url,
                self.api_key,
                prompts=self.prompts,
                direct_url=self.direct_url,
                batch=self.batch,
            )
            for i in range(self.n)
        ]
        self.pool.start(specs)
        ready: set[int] = set()
        deadline = perf_counter() + ready_timeout
        while len(ready) < self.n:
            if perf_counter() > deadline:
                self.pool.close(1.0)
                raise StartError(
                    f"only {len(ready)} of {self.n} workers started in {ready_timeout:g}s"
                )
            for msg in self.pool.receive(0.2):
                if isinstance(msg, tuple) and msg[0] == "ready":
                    ready.add(msg[1])
                elif isinstance(msg, tuple) and msg[0] in ("exited", "failed"):
                    self.pool.close(1.0)
                    why = msg[2] if msg[0] == "failed" else "exited"
                    raise StartError(f"worker {msg[1]} failed while starting: {why}")
        self.t0 = perf_counter() + _START_DELAY
        self.pool.broadcast(("start", self.t0))
        if self.config.load.mode == "burst":
            self.pool.broadcast(("burst", self.config.load.burst_requests))
        self._push_shape()

    @property
    def elapsed(self) -> float:
        return 0.0 if self.t0 is None else max(0.0, perf_counter() - self.t0)

    @property
    def duration(self) -> float:
        return self.config.load.total_duration

    def apply(self, change: ControlChange) -> ControlChange:
        """Apply a live change now and record it in the timeline with its offset."""
        now = self.elapsed
        recorded = ControlChange(change.action, change.value, round(now, 3), change.source)
        action, value = change.action, change.value
        if action == "users":
            if int(value) > MAX_USERS:
                raise ConfigError(f"users: {value} is more than loadtui can run ({MAX_USERS:,})")
            self.shape.set_users(int(value), now)
            self._push_shape()
        elif action == "rate":
            self.shape.set_rate(float(value), now)
            self._push_shape()
        elif action == "think_time":
            self.pool.broadcast(("think_time", tuple(value)))
        elif action == "pause":
            self.paused = True
            self.pool.broadcast(("pause",))
        elif action == "resume":
            self.paused = False
            self.pool.broadcast(("resume",))
        elif action == "stop":
            self.stop_requested = True
        self.controls.append(recorded)
        self.control_log.append(recorded.to_dict())
        return recorded

    def _push_shape(self) -> None:
        users, rate = self.shape.desired(self.elapsed)
        if self.config.load.mode in ("closed", "stages") and users != self._sent_users:
            self._sent_users = users
            self.pool.broadcast(("users", users))
        if rate is not None and rate != self._sent_rate and self.alive:
            self._sent_rate = rate
            self.pool.broadcast(("rate", rate / len(self.alive)))

    @property
    def target_users(self) -> int:
        return self._sent_users or 0

    @property
    def target_rate(self) -> float | None:
        return self._sent_rate

    def tick(self, timeout: float = 0.1) -> None:
        """Take in whatever workers sent (waiting up to ``timeout``) and advance the shape."""
        for msg in self.pool.receive(timeout):
            if isinstance(msg, WorkerSnapshot):
                self._absorb(msg)
            elif isinstance(msg, tuple) and msg[0] == "failed":
                self._failures[msg[1]] = str(msg[2])
            elif isinstance(msg, tuple) and msg[0] == "exited":
                self.exited.add(msg[1])
                if msg[1] not in self.finals:
                    self._lose(msg[1], _exit_reason(msg))
        if not self.stop_requested and self.t0 is not None:
            self._push_shape()
            self.series.set_target(int(self.elapsed), self.target_users, self.target_rate)
        self._finalize()

    def _lose(self, worker: int, default: str) -> None:
        """A worker ended without its final snapshot: move its share to the survivors."""
        if worker not in self.alive:
            return
        self.alive.remove(worker)
        reason = self._failures.pop(worker, default)
        self.lost_workers[worker] = reason
        self.health.worker_lost(worker, self.elapsed, reason)
        if not self.alive or self.stop_requested:
            return
        for k, w in enumerate(self.alive):
            self.pool.send(w, ("assign", k, len(self.alive)))
        self._sent_rate = None  # resend the rate split over fewer workers
        self._push_shape()

    @property
    def failure(self) -> str | None:
        """One line for the run's error when a worker was lost, else None."""
        if not self.lost_workers:
            return None
        return "; ".join(f"worker {w} lost: {why}" for w, why in self.lost_workers.items())

    def _absorb(self, snap: WorkerSnapshot) -> None:
        decoded = decode_histograms(snap)
        self.totals.add_decoded(snap, decoded)
        self.series.add(snap, decoded)
        self.recent.add(snap, decoded)
        self.health.observe(snap, second_of(snap.t))
        self.latest[snap.worker] = snap
        if snap.final:
            self.finals.add(snap.worker)

    def _finalize(self, everything: bool = False) -> None:
        alive = self.alive
        live = [self.latest[w] for w in alive if w in self.latest and w not in self.finals]
        if not everything and any(w not in self.latest for w in alive):
            return  # a second is complete only when every live worker has reported past it
        if everything or not live:
            through = 10**9 if everything or set(alive) <= self.finals else self._finalized
        else:
            through = math.floor(min(s.t for s in live) + 1e-6) - 1
        if through <= self._finalized:
            return
        workers = max(1, len(alive))
        cap = in_flight_cap(self.config.load.max_in_flight, workers) * workers
        end = self.load_ended_at if self.load_ended_at is not None else float("inf")
        open_loop = self.config.load.open_loop  # a closed-loop rate is a cap, not a promise
        for point in self.series.finalize_through(through):
            if point.t + 1 > end:
                continue  # the drain after the load stopped is not a second to judge
            target = point.target_rate if open_loop else None
            self.health.close_second(
                point.t,
                target,
                point.arrivals,
                point.in_flight,
                cap,
                point.dropped,
                point.late,
            )
        self._finalized = through

    @property
    def done(self) -> bool:
        """The run has nothing left to do: time is up, stop was asked, or the burst finished."""
        if self.stop_requested or len(self.exited | self.finals) >= self.n:
            return True
        if self.config.load.mode == "burst":
            finished = self.totals.requests + self.totals.counters["cancelled"]
            return finished >= self.config.load.burst_requests and all(
                s.in_flight == 0 for s in self.latest.values()
            )
        return self.elapsed >= self.duration

    def stop(self, grace: float | None = None, cut_short: Callable[[], bool] | None = None) -> None:
        """Stop every worker gracefully and take in their final snapshots; when ``cut_short()``
        turns true (a second Ctrl-C) the drain ends at once with what has arrived."""
        if self.ended_at is not None:
            return
        grace = self.config.load.graceful_stop if grace is None else grace
        self.stop_requested = True  # the shape must not start users while workers drain
        self.load_ended_at = self.elapsed
        self.pool.broadcast(("stop", grace))
        # past the grace, time to cancel and unwind every user's task: 10,000 users take a few
        # seconds on a loaded machine, and a worker not heard from by then fails the run
        deadline = perf_counter() + grace + 5.0 + 0.002 * self.target_users
        cut = False
        while len(self.finals | self.exited) < self.n and perf_counter() < deadline:
            if cut_short is not None and cut_short():
                cut = True
                break
            self.tick(0.1)
        self.ended_at = self.elapsed
        self.pool.close(0.0 if cut else 2.0)
        self._finalize(everything=True)

    # -- reading -------------------------------------------------------------------------
    def result(self) -> RunResult:
        """Series, controls, summary and generator health for the run file."""
        duration = self.ended_at if self.ended_at is not None else self.elapsed
        target_rate_mean = achieved_rate = None
        targets = [p.target_rate for p in self.series.points if p.target_rate]
        if targets and self.config.load.open_loop:
            target_rate_mean = round(sum(targets) / len(targets), 3)
            load_time = self.load_ended_at or duration
            arrivals = self.totals.counters["arrivals"]
            achieved_rate = round(arrivals / load_time if load_time else 0.0, 3)
        return RunResult(
            load_ended_s=None if self.load_ended_at is None else round(self.load_ended_at, 3),
            controls=tuple(self.controls),
            series=tuple(self.series.points),
            summary=self.totals.summary(duration),
            generator=self.health.summary(self.n, target_rate_mean, achieved_rate),
        )


def _exit_reason(msg: tuple) -> str:
    code = msg[2] if len(msg) > 2 else None
    if code is None:
        return "exited unexpectedly"
    if code < 0:
        return f"killed by signal {-code}"
    return f"exited unexpectedly (exit code {code})"


def _check_users(config: RunConfig) -> None:
    load = config.load
    counts = [load.users] + [s.users for s in load.stages if s.users is not None]
    if max(counts) > MAX_USERS:
        raise ConfigError(f"users: {max(counts)} is more than loadtui can run ({MAX_USERS:,})")
