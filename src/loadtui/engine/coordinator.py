"""The coordinator: owns the run's clock, drives workers, merges what they report.

It runs in the process that draws the UI or the console, but does no I/O on the hot path: it
sends a handful of control messages (``engine/messages.py``) and folds fixed-size snapshots into
an ``Aggregate`` (the whole run), a ``Series`` (one point a second) and a ``HealthTracker``.
Callers drive it with ``tick()`` and read its state through
``loadtui.run.frame.build_frame``; the headless runner, the TUI, replays and
tests all use it the same way.

A worker that dies or reports an unexpected exception is *lost* (``fleet.py``): the survivors
are renumbered and take its users and its share of the rate, the series goes on without it, and
``lost_workers`` says what happened (the run's status is the session's call). When a second is
complete and how the generator did in it is ``seconds.py``'s business.

Every control goes to one worker, numbered in that worker's sequence (``sequence.py``): a pool
may deliver them in any order. Before the start each worker's clock is measured against this
one (``clocks.py``) and the start is sent as an epoch on this clock, so workers on other hosts
begin together; how far each was off is in the run file (``generator.worker_clocks``). How often
workers report is the pool's call (``WorkerPool.snapshot_interval``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from time import perf_counter
from typing import TYPE_CHECKING, assert_never

from loadtui.engine.channel import ProcessPool, WorkerPool
from loadtui.engine.clocks import Clocks
from loadtui.engine.fleet import Fleet, auto_workers
from loadtui.engine.messages import (
    Began,
    Burst,
    ClockReply,
    Control,
    Exited,
    Failed,
    Pause,
    Ready,
    Resume,
    SetRate,
    SetUsers,
    Start,
    Stop,
    ThinkTime,
    Up,
    UserPage,
)
from loadtui.engine.protocols import Prompt
from loadtui.engine.requestlog import join_parts
from loadtui.engine.seconds import SecondCloser
from loadtui.engine.sequence import Numbering
from loadtui.engine.shape import Shape
from loadtui.engine.spec import WorkerSpec
from loadtui.errors import ConfigError, StartError
from loadtui.metrics.health import HealthTracker
from loadtui.metrics.histogram import Histogram
from loadtui.metrics.samples import merge_samples
from loadtui.metrics.series import Series, second_of
from loadtui.metrics.stats import Aggregate, decode_histograms
from loadtui.metrics.window import RollingWindow
from loadtui.model.controls import ControlChange, refusal
from loadtui.model.conversation import Script
from loadtui.model.plan import MAX_USERS, RunConfig
from loadtui.model.record import ErrorSample, GeneratorHealth, RunResult
from loadtui.model.snapshot import WorkerSnapshot
from loadtui.model.trace import TraceEntry
from loadtui.model.workflows import BatchInput

if TYPE_CHECKING:
    from loadtui.engine.trace import TraceSchedule

__all__ = ["MAX_USERS", "Coordinator", "auto_workers"]

_START_DELAY = 0.01
"""How far ahead the start is set, beyond two of the slowest worker's round trips. The start is
one instant for every worker, so it must be far enough ahead that each has read ``Start``:
every worker is ready and idle by then (its clock measured), and one round trip is what
``Start`` takes to reach it, so two of the slowest are the margin and this covers a scheduler's
hiccup. A worker later than that begins at once, its lateness in the run file (its start skew);
it was 0.1 s, a tenth of a second of every run's start-up (docs/performance.md)."""
_ONE_WORKER_DELAY = 0.002
"""The margin when there is one worker: no other worker's start to meet, so the start is set
just past the round trips (a worker that reads it late begins at once, its lateness its start
skew, as above)."""


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
        record_requests: str | None = None,
        trace: tuple[TraceEntry, ...] | None = None,
        conversations: list[Script] | None = None,
    ) -> None:
        self.config = config
        self.pool = pool or ProcessPool()
        self.n = auto_workers(config)
        self._spec = WorkerSpec(
            0,
            self.n,
            config,
            base_url,
            api_key,
            prompts=tuple(prompts) if prompts else None,
            direct_url=direct_url,
            batch=batch,
            record_requests=record_requests,
            conversations=tuple(conversations) if conversations else None,
            snapshot_interval=self.pool.snapshot_interval,
        )
        """What every worker is started with, but its index."""
        self.trace = trace
        """Trace replay: the trace's lines, split among the workers (``engine/trace.py``)."""
        self.schedule = _trace_schedule(config, trace)
        self.numbering = Numbering(self.n)
        self.clocks = Clocks()
        self.shape = Shape(config.load)
        self.totals = Aggregate()
        """The measured part of the run: every snapshot past the warm-up (``[load] warmup``)."""
        self.warm = Aggregate()
        """The warm-up's snapshots (empty without one): kept apart from the summary."""
        self.series = Series()
        self.health = HealthTracker()
        self.recent = RollingWindow(10)
        """The last 10 seconds, for live tables; run files use ``totals`` and ``series``."""
        self.controls: list[ControlChange] = []
        self.samples: dict[str, list[ErrorSample]] = {}
        """The earliest error samples of each class over all workers (``metrics/samples.py``)."""
        self.record_requests = record_requests
        self.record_error: str | None = None
        """Why the ``--record-requests`` parts could not be joined into the file, if so."""
        self.latest: dict[int, WorkerSnapshot] = {}
        self.fleet = Fleet(self.n)
        # the roll's own collections, under the names readers of a coordinator know
        self.finals = self.fleet.finals
        self.exited = self.fleet.exited
        self.alive = self.fleet.alive
        self.lost_workers = self.fleet.lost
        self.seconds = SecondCloser(config.load, self.series, self.health)
        self.paused = False
        self.stop_requested = False
        self.t0: float | None = None
        self.load_ended_at: float | None = None
        """Offset when the load stopped (before in-flight requests drained)."""
        self.ended_at: float | None = None
        self._sent_users: int | None = None
        self._sent_rate: float | None = None
        self._page_asked: tuple[int, int] | None = None
        self._page_sent: tuple[int, int] | None = None
        self.listeners: list[Callable[[WorkerSnapshot, dict[str, Histogram]], None]] = []
        """Called with every snapshot taken in (a capacity search sums its steps from them)."""
        _check_users(config)

    # -- lifecycle -----------------------------------------------------------------------
    def start(self, ready_timeout: float = 60.0) -> None:
        """Start the workers, wait until each is ready and its clock measured, then start the
        load at one instant of this clock."""
        try:
            self.pool.start(self._specs())
            self._await_ready(ready_timeout)
        except StartError:
            raise  # the pool is closed already
        except BaseException:  # interrupted while starting: no worker may be left waiting
            self.pool.close(0.0)  # (ended by a kill: they ignore the signals the CLI takes)
            raise
        margin = _START_DELAY if self.n > 1 else _ONE_WORKER_DELAY
        delay = margin + 2.0 * self.clocks.worst_rtt()
        self.t0 = perf_counter() + delay
        at = self.clocks.start_in(delay)
        for w in range(self.n):
            self._send(w, Start(at, self.clocks.offset(w)))
        if self.config.load.mode == "burst":
            self._broadcast(Burst(self.config.load.burst_requests))
        self._push_shape()

    def _await_ready(self, timeout: float) -> None:
        workers = range(self.n)
        deadline = perf_counter() + timeout
        while len(self.fleet.ready) < self.n or not self.clocks.measured(workers):
            if perf_counter() > deadline:
                self.pool.close(1.0)
                ready = len(self.fleet.ready)
                raise StartError(f"only {ready} of {self.n} workers started in {timeout:g}s")
            for msg in self.pool.receive(0.2):
                self._take(msg)
            if (why := self.fleet.start_failure()) is not None:
                self.pool.close(1.0)
                raise StartError(why)

    def _send(self, worker: int, message: Control) -> None:
        """Send one worker a control, numbered in its sequence."""
        self.pool.send(worker, self.numbering.stamp(worker, message))

    def _broadcast(self, message: Control) -> None:
        for w in range(self.n):
            self._send(w, message)

    def _specs(self) -> list[WorkerSpec]:
        trace = self.trace
        if trace is not None:  # line i to worker i mod n: each builds only its own requests
            return [replace(self._spec, index=i, trace=trace[i :: self.n]) for i in range(self.n)]
        return [replace(self._spec, index=i) for i in range(self.n)]

    @property
    def elapsed(self) -> float:
        return 0.0 if self.t0 is None else max(0.0, perf_counter() - self.t0)

    @property
    def duration(self) -> float:
        if self.schedule is not None:  # a trace ends when answered; --duration only cuts it
            tail = self.schedule.end(self.elapsed) + self.config.target.timeout + 1.0
            return min(self.config.load.total_duration, tail)
        return self.config.load.total_duration

    def apply(self, change: ControlChange) -> ControlChange:
        """Apply a live change now and record it in the timeline with its offset."""
        now = self.elapsed
        recorded = ControlChange(change.action, change.value, round(now, 3), change.source)
        value = change.value
        match change.action:
            case "users":
                if int(value) > MAX_USERS:
                    raise ConfigError(
                        f"users: {value} is more than loadtui can run ({MAX_USERS:,})"
                    )
                self.shape.set_users(int(value), now)
                self._push_shape()
            case "rate":
                if (why := refusal(self.config.load, "rate")) is not None:
                    raise ConfigError(f"the 'rate' change {why}")  # the drive loop asks first
                self.shape.set_rate(float(value), now)
                self._push_shape()
            case "think_time":
                lo, hi = value
                self._broadcast(ThinkTime((float(lo), float(hi))))
            case "pause":
                self.paused = True
                if self.schedule is not None:
                    self.schedule.pause(now)
                self._broadcast(Pause())
            case "resume":
                self.paused = False
                if self.schedule is not None:
                    self.schedule.resume(now)
                self._broadcast(Resume())
            case "stop":
                self.stop_requested = True
        self.controls.append(recorded)
        return recorded

    def _push_shape(self) -> None:
        users, rate = self.shape.desired(self.elapsed)
        if self.config.load.mode in ("closed", "stages") and users != self._sent_users:
            self._sent_users = users
            self._broadcast(SetUsers(users))
        if rate is not None and rate != self._sent_rate and self.alive:
            self._sent_rate = rate
            self._broadcast(SetRate(rate / len(self.alive)))

    @property
    def target_users(self) -> int:
        return self._sent_users or 0

    @property
    def target_rate(self) -> float | None:
        if self.schedule is not None:  # a trace: the arrivals it intends in this second
            return self.schedule.intended(int(self.elapsed))
        return self._sent_rate

    def show_users(self, first: int, count: int) -> None:
        """Have workers send the rows of users ``first`` … ``first + count - 1`` (at most
        ``USER_ROWS_MAX`` each) instead of the lowest ids. Safe from any thread (the app's): the
        next tick sends it; it is a view, not a change of the run, so no timeline entry."""
        self._page_asked = (max(0, first), max(0, count))

    def tick(self, timeout: float = 0.1) -> None:
        """Take in whatever workers sent (waiting up to ``timeout``) and advance the shape."""
        for msg in self.pool.receive(timeout):
            self._take(msg)
        if (page := self._page_asked) != self._page_sent and page is not None:
            self._page_sent = page
            self._broadcast(UserPage(*page))
        if not self.stop_requested and self.t0 is not None:
            self._push_shape()
            self.series.set_target(int(self.elapsed), self.target_users, self.target_rate)
        self._finalize()

    def _take(self, msg: Up) -> None:
        """The one dispatch of what workers (and their pool) send up."""
        match msg:
            case WorkerSnapshot():
                self._absorb(msg)
            case Ready(worker, node):
                self.fleet.ready.add(worker)
                if node:
                    self.health.nodes[worker] = node
                self._send(worker, self.clocks.probe())
            case ClockReply():
                if self.clocks.reply(msg):
                    self._send(msg.worker, self.clocks.probe())
            case Began():
                self.clocks.began(msg)
            case Failed(worker, why):
                self.fleet.failed(worker, str(why))
            case Exited(worker, code):
                self.exited.add(worker)
                if self.t0 is not None and worker not in self.finals:
                    self._lose(worker, code)
            case _:
                assert_never(msg)

    def _lose(self, worker: int, code: int | None) -> None:
        """A worker ended without its final snapshot: move its share to the survivors."""
        reason = self.fleet.lose(worker, code)
        if reason is None:
            return
        self.health.worker_lost(worker, self.elapsed, reason)
        self.series.forget(worker)
        if not self.alive or self.stop_requested:
            return
        for w, assign in self.fleet.assignments():
            self._send(w, assign)
        self._sent_rate = None  # resend the rate split over fewer workers
        self._push_shape()

    def error_samples(self) -> tuple[ErrorSample, ...]:
        """The samples kept so far, class by class (at most 3 each: a cheap copy)."""
        return tuple(s for cls in sorted(self.samples) for s in self.samples[cls])

    @property
    def failure(self) -> str | None:
        """One line for the run's error when a worker was lost, else None."""
        return self.fleet.failure

    def _absorb(self, snap: WorkerSnapshot) -> None:
        decoded = decode_histograms(snap)
        self._part(snap).add_decoded(snap, decoded)
        self.series.add(snap, decoded)
        self.recent.add(snap, decoded)
        self.health.observe(snap, second_of(snap.t))
        self.latest[snap.worker] = snap
        for listen in self.listeners:
            listen(snap, decoded)
        if snap.error_samples:
            self.samples = merge_samples(self.samples, snap.error_samples)
        if snap.final:
            self.finals.add(snap.worker)

    # -- warm-up and request budget (docs/workflows.md, "Warm-up and a request budget") ---
    def _part(self, snap: WorkerSnapshot) -> Aggregate:
        """Where a snapshot counts: the warm-up (its interval ended by the warm-up's end: the
        intervals are aligned on the start, so every worker cuts at the same offset) or the
        measured part."""
        warmup = self.config.load.warmup
        return self.warm if warmup and snap.t <= warmup + 1e-6 else self.totals

    def measured(self, elapsed: float) -> float:
        """Seconds of the measured part by offset ``elapsed`` (the duration rates are over)."""
        return max(0.0, elapsed - self.config.load.warmup)

    @property
    def budget_answered(self) -> bool:
        """Every request of ``[load] requests`` has ended (answered, failed or cancelled),
        warm-up's included; False without a budget. A proxy-overhead turn is two requests. A
        lost worker's unsent share is unknown, so losing one ends a budget run (its failure
        says why) rather than leave it waiting for requests no one will send."""
        budget = self.config.load.requests
        if budget is None:
            return False
        if self.lost_workers:
            return True
        ended = 0
        for agg in (self.totals, self.warm):
            ended += agg.requests + agg.counters["cancelled"]
        return ended >= budget * (2 if self.config.overhead.enabled else 1)

    def _finalize(self, everything: bool = False) -> None:
        self.seconds.advance(
            self.latest, self.alive, self.finals, self.load_ended_at, everything=everything
        )

    @property
    def done(self) -> bool:
        """The run has nothing left to do: time is up, stop was asked, the burst finished or
        the request budget was answered."""
        if self.stop_requested or self.fleet.all_ended or self.budget_answered:
            return True
        if self.config.load.mode == "burst":
            finished = self.totals.requests + self.totals.counters["cancelled"]
            return finished >= self.config.load.burst_requests and all(
                s.in_flight == 0 for s in self.latest.values()
            )
        if self.schedule is not None and self._trace_answered():
            return True
        return self.elapsed >= self.duration

    def _trace_answered(self) -> bool:
        """Every line of the trace sent (or dropped) and every request sent answered, the
        warm-up's included (its arrivals are counted apart, in ``warm``)."""
        assert self.schedule is not None
        sent = dropped = ended = 0
        for agg in (self.totals, self.warm):
            sent += agg.counters["arrivals"]
            dropped += agg.counters["dropped"]
            ended += agg.requests + agg.counters["cancelled"]
        return (
            sent + dropped >= self.schedule.count
            and ended >= sent
            and all(s.in_flight == 0 for s in self.latest.values())
        )

    def stop(self, grace: float | None = None, cut_short: Callable[[], bool] | None = None) -> None:
        """Stop every worker gracefully and take in their final snapshots; when ``cut_short()``
        turns true (a second Ctrl-C) the drain ends at once with what has arrived."""
        if self.ended_at is not None:
            return
        grace = self.config.load.graceful_stop if grace is None else grace
        self.stop_requested = True  # the shape must not start users while workers drain
        self.load_ended_at = self.elapsed
        self._broadcast(Stop(grace))
        # past the grace, time to cancel and unwind every user's task: 10,000 users take a few
        # seconds on a loaded machine, and a worker not heard from by then fails the run
        deadline = perf_counter() + grace + 5.0 + 0.002 * self.target_users
        cut = False
        while not self.fleet.all_ended and perf_counter() < deadline:
            if cut_short is not None and cut_short():
                cut = True
                break
            self.tick(0.1)
        self.ended_at = self.elapsed
        self.pool.close(0.0 if cut else 2.0)
        self._finalize(everything=True)
        if self.record_requests is not None:
            try:
                join_parts(self.record_requests, self.n)
            except OSError as exc:  # the run itself must still be saved: the parts stay
                self.record_error = f"{exc.strerror or exc}; the workers' parts are kept"

    # -- reading -------------------------------------------------------------------------
    def generator(
        self, target_rate_mean: float | None = None, achieved_rate: float | None = None
    ) -> GeneratorHealth:
        """The generator's health so far, with each worker's clock and start skew."""
        health = self.health.summary(self.n, target_rate_mean, achieved_rate)
        return replace(health, worker_clocks=self.clocks.table(self.n))

    def result(self) -> RunResult:
        """Series, controls, summary, generator health and histograms for the run file."""
        duration = self.ended_at if self.ended_at is not None else self.elapsed
        target_rate_mean = achieved_rate = None
        targets = [p.target_rate for p in self.series.points if p.target_rate]
        if targets and self.config.load.open_loop:
            target_rate_mean = round(sum(targets) / len(targets), 3)
            load_time = self.load_ended_at or duration
            # the generator's health is the whole run's, warm-up included
            arrivals = self.totals.counters["arrivals"] + self.warm.counters["arrivals"]
            achieved_rate = round(arrivals / load_time if load_time else 0.0, 3)
            if self.schedule is not None:  # over the trace's span, not the answers after it
                target_rate_mean, achieved_rate = self.schedule.rates(arrivals, load_time)
        return RunResult(
            load_ended_s=None if self.load_ended_at is None else round(self.load_ended_at, 3),
            controls=tuple(self.controls),
            series=tuple(self.series.points),
            summary=self.totals.summary(self.measured(duration)),
            generator=self.generator(target_rate_mean, achieved_rate),
            histograms=self.totals.histograms(),
            error_samples=self.error_samples(),
        )


def _trace_schedule(
    config: RunConfig, trace: tuple[TraceEntry, ...] | None
) -> TraceSchedule | None:
    if config.trace is None:
        return None
    if trace is None:
        raise ConfigError("a trace run needs the trace's lines (storage.trace_file.load_trace)")
    # here only: ``engine/trace.py`` holds the workers' trace arrivals too (aiohttp, the hot
    # path), which a coordinator's process has no use for otherwise (start-up time)
    from loadtui.engine.trace import TraceSchedule

    # --requests N sends the trace's first N lines: those are what the run intends
    budget = config.load.requests
    return TraceSchedule(trace if budget is None else trace[:budget], config.trace.speedup)


def _check_users(config: RunConfig) -> None:
    load = config.load
    counts = [load.users] + [s.users for s in load.stages if s.users is not None]
    if max(counts) > MAX_USERS:
        raise ConfigError(f"users: {max(counts)} is more than loadtui can run ({MAX_USERS:,})")
