"""Open-loop arrivals and one-shot requests: sent on the clock, never waiting on responses.

The scheduler sets each arrival's *intended* send time from the rate (constant gaps or Poisson)
and hands it to a one-shot task; latency is measured from that intended time, so a slow target
or a saturated generator shows as latency, not as a lower rate. Each one-shot waits for a slot
under this worker's share of ``max_in_flight``; arrivals beyond ``BACKLOG_LIMIT`` waiting, or
more than ``MAX_BEHIND_S`` behind schedule, are counted ``dropped``, and those sent more than
``LATE_MS`` after their time ``late``. A burst uses the same one-shot requests, with no
intended time.
"""

from __future__ import annotations

import asyncio
import random
from time import perf_counter

from loadtui.engine.context import WorkerContext
from loadtui.engine.protocols import Prepared
from loadtui.engine.slots import Slots
from loadtui.engine.spec import in_flight_cap
from loadtui.metrics.health import LATE_MS

__all__ = ["BACKLOG_LIMIT", "MAX_BEHIND_S", "Arrivals", "in_flight_cap"]

BACKLOG_LIMIT = 1000
"""Open loop: arrivals waiting to be sent (for an in-flight slot or for the loop) beyond this
are counted ``dropped`` instead of queued, so a slow target or a saturated generator cannot
grow memory without bound."""
MAX_BEHIND_S = 1.0
"""Open loop: arrivals whose intended time is further back than this are counted ``dropped``
in one step, so a generator that cannot keep the rate does not chase it for ever."""
_STEP = 0.05
"""The scheduler sleeps in steps this long, so a rate change or a pause takes effect at once."""


class Arrivals:
    def __init__(self, ctx: WorkerContext, workers: int) -> None:
        self.ctx = ctx
        self.rate: float | None = None
        """This worker's arrivals per second (its share of the run's rate)."""
        self.backlog = 0
        """Arrivals scheduled but not yet sent."""
        self.slots = Slots(in_flight_cap(ctx.spec.config.load.max_in_flight, workers))
        self.oneshots: set[asyncio.Task[None]] = set()
        self.task: asyncio.Task[None] | None = None
        """The scheduler, once started."""

    def share(self, workers: int) -> None:
        """This worker is one of ``workers`` now: take that share of the in-flight cap."""
        self.slots.resize(in_flight_cap(self.ctx.spec.config.load.max_in_flight, workers))

    def set_rate(self, rate: float) -> None:
        self.rate = rate
        if self.task is None and self.ctx.wire is not None:
            self.start()

    def start(self) -> None:
        if self.task is None:
            self.task = self.ctx.spawn(self._schedule(), "arrivals")

    def halt(self) -> None:
        """Schedule no more arrivals (those already sent go on)."""
        if self.task is not None:
            self.task.cancel()

    def burst(self, mine: range) -> None:
        for _ in mine:
            self.fire(self.ctx.mix.next_round(0), None)

    def fire(self, turn: tuple[Prepared, ...], intended: float | None) -> None:
        """Send one turn as its own task: at ``intended`` (an arrival) or at the start (burst)."""
        task = self.ctx.spawn(self._one(turn, intended), "request task")
        self.oneshots.add(task)
        task.add_done_callback(self.oneshots.discard)

    async def _schedule(self) -> None:
        """Set intended send times at the rate; never wait on responses."""
        ctx = self.ctx
        poisson = ctx.spec.config.load.arrival == "poisson"
        i = ctx.spec.index
        await ctx.until_start()
        next_t = perf_counter()
        while True:
            if ctx.budget is not None and ctx.budget.spent:
                return  # this worker's share of --requests is sent
            if not ctx.running.is_set():
                await ctx.running.wait()
                next_t = perf_counter()
            rate = self.rate or 0.0
            if rate <= 0:
                await asyncio.sleep(_STEP)
                next_t = perf_counter()
                continue
            due = next_t + (random.expovariate(rate) if poisson else 1.0 / rate)
            if not await self._wait_until(due, rate):
                next_t = perf_counter()
                continue
            if (behind := perf_counter() - due) > MAX_BEHIND_S:
                skip = int(behind * rate)
                ctx.rec.dropped += skip
                due += skip / rate
                i += skip
            next_t = due
            self._arrive(i, due)
            i += 1

    async def _wait_until(self, due: float, rate: float) -> bool:
        """Sleep until ``due``; False if the rate changed or a pause came meanwhile."""
        # behind schedule, still yield once an arrival, or nothing else on this loop ever runs
        await asyncio.sleep(0)
        while (delay := due - perf_counter()) > 0:
            await asyncio.sleep(min(delay, _STEP))
            if self.rate != rate or not self.ctx.running.is_set():
                break
        return self.rate == rate and self.ctx.running.is_set()

    def _arrive(self, i: int, due: float) -> None:
        if self.backlog >= BACKLOG_LIMIT:
            self.ctx.rec.dropped += 1
        elif self.ctx.budget is None or self.ctx.budget.take():
            self.backlog += 1
            self.fire(self.ctx.mix.next_round(i), due)

    def admit(self, turn: tuple[Prepared, ...], due: float) -> None:
        """An arrival built elsewhere (a trace's line), due at ``due``: sent as the rate's are,
        or ``dropped`` if the backlog is full; not sent once this worker's share of
        ``--requests`` is."""
        if self.backlog >= BACKLOG_LIMIT:
            self.ctx.rec.dropped += 1
        elif self.ctx.budget is None or self.ctx.budget.take():
            self.backlog += 1
            self.fire(turn, due)

    async def _one(self, turn: tuple[Prepared, ...], intended: float | None) -> None:
        ctx = self.ctx
        if intended is None:
            await ctx.until_start()
        try:
            await self.slots.acquire()
        except asyncio.CancelledError:
            if intended is not None:
                self.backlog -= 1
                ctx.rec.dropped += 1  # the run ended before it could be sent
            raise
        if intended is not None:
            self.backlog -= 1
            ctx.rec.arrivals += 1  # sent: what the achieved rate counts
            if (perf_counter() - intended) * 1000.0 > LATE_MS:
                ctx.rec.late += 1
        ctx.in_flight += 1
        try:
            for k, prep in enumerate(turn):  # an overhead pair: the second half starts now
                await ctx.perform(prep, None, intended if k == 0 else None)
        finally:
            ctx.in_flight -= 1
            self.slots.release()
