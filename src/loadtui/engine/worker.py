"""A worker: one event loop, a share of the users or of the arrival rate.

The coordinator sends control messages down (``engine/messages.py``); the worker sends a
``WorkerSnapshot`` up every ``spec.snapshot_interval`` seconds (the pool's call). Users with
``uid % workers == index`` belong to this worker; in open loop it runs ``rate / workers``
arrivals per second under ``max_in_flight / workers``. When a worker is lost the coordinator renumbers the survivors
(``Assign``) so they take its share.

This class only owns the loop's life: it dispatches the controls to the closed-loop users
(``users.py``), the open-loop arrivals (``arrivals.py``) and the reporter (``reporter.py``),
and at the end drains what is in flight. It reports ``Failed`` when an exception outside any one
request (a user task, the arrivals loop, the reporter, a control) ended it. It runs in a process
of its own (``ProcessPool``), in a thread (``InProcessPool``) or elsewhere; it does not know
which.

Controls may arrive in any order; ``handle`` applies them in the order the coordinator sent them
(``sequence.py``). The start is a wall-clock epoch on the coordinator's clock, turned into this
host's ``perf_counter`` with the offset the coordinator measured (``ClockProbe``), so workers on
hosts whose clocks disagree begin together.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable
from time import perf_counter
from typing import assert_never

from loadtui.engine.arrivals import BACKLOG_LIMIT, Arrivals, in_flight_cap
from loadtui.engine.context import SNAPSHOT_INTERVAL, WorkerContext, WorkerSpec, describe
from loadtui.engine.messages import (
    Assign,
    Began,
    Burst,
    ClockProbe,
    ClockReply,
    Control,
    Failed,
    Pause,
    Resume,
    SetRate,
    SetUsers,
    Start,
    Stop,
    ThinkTime,
    Up,
    UserPage,
)
from loadtui.engine.reporter import USER_ROWS_MAX, Reporter
from loadtui.engine.sequence import InOrder
from loadtui.engine.trace import replay
from loadtui.engine.users import Users
from loadtui.model.trace import TraceEntry

__all__ = [
    "BACKLOG_LIMIT",
    "SNAPSHOT_INTERVAL",
    "USER_ROWS_MAX",
    "Worker",
    "WorkerSpec",
    "describe",
    "in_flight_cap",
]

_CANCEL_WAIT = 2.0
"""Past the grace, how long cancelled requests get to unwind."""


class Worker:
    def __init__(
        self,
        spec: WorkerSpec,
        send: Callable[[Up], None],
        cpu_clock: Callable[[], float] = time.process_time,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.spec = spec
        self.send = send
        self.wall_clock = wall_clock
        """This host's wall clock (a test gives a worker one that is off)."""
        self.order = InOrder()
        self.ctx = WorkerContext(spec, self.fail)
        load = spec.config.load
        self.users = Users(self.ctx, load.think_time)
        self.arrivals = Arrivals(self.ctx, spec.count)
        self.reporter = Reporter(self.ctx, self.users, send, cpu_clock)
        self.index = spec.index
        """This worker's place among the live workers (changes when one is lost)."""
        self.count = spec.count
        self.grace: float | None = None
        """Set by ``Stop`` (or a failure): how long requests in flight may finish."""
        self.failure: str | None = None
        """Set when an unexpected exception ended this worker."""

    # -- control -------------------------------------------------------------------------
    def handle(self, message: Control) -> None:
        """The one entry point of a pool: a control, in whatever order the pool delivered it."""
        for msg in self.order.accept(message):
            try:
                self._dispatch(msg)
            except Exception as exc:  # a loop callback would only log it: make it end the run
                self.fail(f"control {getattr(msg, 'name', type(msg).__name__)!r}", exc)

    def fail(self, where: str, exc: BaseException) -> None:
        """An exception outside any one request: stop at once and report it (first one wins)."""
        if self.failure is None:
            self.failure = describe(exc, where)
            self._stop(0.0)

    def _dispatch(self, msg: Control) -> None:
        if self.ctx.stopping.is_set() and isinstance(msg, Start | SetUsers | SetRate | Burst):
            return  # draining: start nothing new
        match msg:
            case ClockProbe(sent):
                self.send(ClockReply(self.spec.index, sent, self.wall_clock()))
            case Start(at, offset):
                self.ctx.start(self._local_start(at, offset))
            case SetUsers(total):
                self.users.resize(total, self._mine(total))
            case SetRate(rate):
                self._set_rate(rate)
            case ThinkTime(seconds):
                self.users.think = seconds
            case Pause():
                self.ctx.running.clear()
            case Resume():
                self.ctx.running.set()
            case Burst(total):
                self.arrivals.burst(self._mine(total))
            case Assign(index, of):
                self._assign(index, of)
            case Stop(grace):
                self._stop(float(grace))
            case UserPage(first, count):
                self.reporter.page = (first, count)
            case _:
                assert_never(msg)

    def _local_start(self, at: float, offset: float) -> float:
        """The coordinator's start epoch ``at`` as a ``perf_counter`` time of this host."""
        return perf_counter() + (at + offset - self.wall_clock())

    def _mine(self, total: int) -> range:
        return range(self.index, total, self.count)

    def _set_rate(self, rate: float) -> None:
        # a trace sets its own times: the coordinator never sends it a rate (controls.refusal)
        assert self.spec.trace is None, "a rate sent to a trace replay"
        if self.spec.config.load.open_loop:
            self.arrivals.set_rate(rate)
        else:
            self.users.pace = rate  # closed loop: a cap on the users' pace

    def _assign(self, index: int, count: int) -> None:
        """Take a new place among ``count`` live workers: a share of users and of the cap."""
        self.index, self.count = index, count
        self.arrivals.share(count)
        if self.users.total and not self.ctx.stopping.is_set():
            self.users.resize(self.users.total, self._mine(self.users.total))

    def _stop(self, grace: float) -> None:
        self.grace = grace
        if not self.ctx.started.is_set():
            self.ctx.start(perf_counter())  # stopped before it began: nothing to wait for
        self.ctx.stopping.set()

    # -- the loop's life -----------------------------------------------------------------
    async def serve(self) -> None:
        """Run until told to stop; the last snapshot sent has ``final=True``."""
        self.ctx.open_wire()
        # what the worker holds before its load (modules, the prepared requests, the mix) is
        # kept out of the collector's way: a full collection walked it all, tens of ms of
        # stall in the middle of the ramp's first answers
        gc.freeze()
        try:
            await self.ctx.until_start()
            if not self.ctx.stopping.is_set():
                self.send(Began(self.spec.index, self.wall_clock()))
            if self.spec.config.load.open_loop and self.arrivals.rate is not None:
                self.arrivals.start()
            if self.spec.trace is not None:
                self._replay(self.spec.trace)
            self.reporter.start()
            await self.ctx.stopping.wait()
            grace = self.spec.config.load.graceful_stop if self.grace is None else self.grace
            await self._drain(grace)
            self.reporter.finish(final=self.failure is None)
            if self.failure is not None:
                self.send(Failed(self.spec.index, self.failure))
        finally:
            await self.ctx.close_transports()

    def _replay(self, entries: tuple[TraceEntry, ...]) -> None:
        """Trace replay: this worker's lines at their times, as the arrivals' scheduler (so
        ``halt`` ends it as it ends a rate's)."""
        coro = replay(self.arrivals, entries, self.spec.index, self.spec.count)
        self.arrivals.task = self.ctx.spawn(coro, "trace replay")

    async def _drain(self, grace: float) -> None:
        """Stop starting requests; give in-flight ones ``grace`` seconds, then cancel them."""
        self.arrivals.halt()
        pending = [t for t in (*self.users.tasks.values(), *self.arrivals.oneshots) if not t.done()]
        self.users.retire_all()
        if pending:
            _, still = await asyncio.wait(pending, timeout=grace)
            for t in still:
                t.cancel()
            if still:
                await asyncio.wait(still, timeout=_CANCEL_WAIT)
        await asyncio.sleep(0)
