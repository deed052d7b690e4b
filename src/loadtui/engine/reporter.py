"""The worker's reporter: a snapshot up every interval, and the generator's own health in it.

Intervals are aligned on the shared start time, so every worker's intervals end at the same
offsets and the coordinator can close a second once all have reported past it. Besides the
recorder's counts each snapshot carries what says whether the generator itself kept up: the
worst event-loop lag of the interval (a probe that should wake every ``_LAG_PROBE`` s) and the
process CPU. It holds a bounded page of per-user rows, whatever the number of users: the lowest
user ids, or the range a users table asked for (``UserPage``).
"""

from __future__ import annotations

import asyncio
import heapq
import time
from collections.abc import Callable
from time import perf_counter

from loadtui.engine.context import WorkerContext
from loadtui.engine.users import Users
from loadtui.model.snapshot import UserRow, WorkerSnapshot

__all__ = ["USER_ROWS_MAX", "Reporter"]

USER_ROWS_MAX = 200
"""Per-user rows in one snapshot (the lowest user ids, or those of the page asked for): 10,000
rows made 170 KB four times a second per worker; the users table shows a page at a time
anyway."""
_LAG_PROBE = 0.05


class Reporter:
    def __init__(
        self,
        ctx: WorkerContext,
        users: Users,
        send: Callable[[WorkerSnapshot], None],
        cpu_clock: Callable[[], float] = time.process_time,
    ) -> None:
        self.ctx = ctx
        self.users = users
        self.send = send
        self.cpu_clock = cpu_clock
        """CPU seconds of this worker: its process's, or its thread's in ``InProcessPool``."""
        self.lag_max = 0.0
        """Worst loop lag (s) since the last snapshot."""
        self.page: tuple[int, int] | None = None
        """The user ids whose rows to send (first, count), set by ``UserPage``; None: the
        lowest."""
        self._tasks: list[asyncio.Task[None]] = []
        self._cpu0 = self._wall0 = 0.0

    def start(self) -> None:
        """Report every interval from now on (the run has started)."""
        self._cpu0, self._wall0 = self.cpu_clock(), perf_counter()
        self._tasks = [
            self.ctx.spawn(self._probe_lag(), "lag probe"),
            self.ctx.spawn(self._report(), "reporter"),
        ]

    def finish(self, final: bool) -> None:
        """Stop reporting and send the last snapshot (``final`` unless the worker failed), its
        CPU the mean over the whole run."""
        for task in self._tasks:
            task.cancel()
        if self.ctx.log is not None:
            self.ctx.log.close()  # before the final snapshot: the parent joins the parts then
        assert self.ctx.t0 is not None
        now = perf_counter()
        cpu = 100.0 * (self.cpu_clock() - self._cpu0) / max(1e-9, now - self._wall0)
        self.send(self.snapshot(now - self.ctx.t0, cpu, final=final))

    def snapshot(self, t: float, cpu: float, final: bool = False) -> WorkerSnapshot:
        ctx = self.ctx
        snap = ctx.rec.drain(ctx.spec.index, t)
        snap.in_flight = ctx.in_flight
        snap.users = self.users.count
        snap.loop_lag_ms = self.lag_max * 1000.0
        snap.cpu_percent = cpu
        snap.final = final
        snap.error_samples = ctx.rec.samples.drain()
        if ctx.log is not None:
            ctx.log.flush()  # a worker that dies loses at most one interval of lines
        snap.users_rows = self._rows()
        self.lag_max = 0.0
        return snap

    def _rows(self) -> list[UserRow]:
        now = perf_counter()
        users = self.users.status
        if self.page is not None:
            first, count = self.page
            # a walk of the page's ids, not of every user: a page costs the same among 10,000
            uids = [uid for uid in range(first, first + count) if uid in users]
            users = {uid: users[uid] for uid in uids[:USER_ROWS_MAX]}
        elif len(users) > USER_ROWS_MAX:
            users = {uid: users[uid] for uid in heapq.nsmallest(USER_ROWS_MAX, users)}
        # positional, in UserRow's field order: a third of the keyword build's cost, which
        # showed in the profile at 1,000 users (docs/performance.md, issue 15)
        return [
            UserRow(
                u.uid,
                int(u.state),
                (now - u.started) if u.started >= 0 else -1.0,
                u.last_latency,
                u.last_ttft,
                u.requests,
                u.errors,
            )
            for u in users.values()
        ]

    async def _probe_lag(self) -> None:
        while True:
            before = perf_counter()
            await asyncio.sleep(_LAG_PROBE)
            lag = perf_counter() - before - _LAG_PROBE
            if lag > self.lag_max:
                self.lag_max = lag

    async def _report(self) -> None:
        t0 = self.ctx.t0
        assert t0 is not None
        interval = self.ctx.spec.snapshot_interval
        k = 1
        cpu_prev, wall_prev = self.cpu_clock(), perf_counter()
        while True:
            deadline = t0 + k * interval
            delay = deadline - perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            cpu_now, wall_now = self.cpu_clock(), perf_counter()
            cpu = 100.0 * (cpu_now - cpu_prev) / max(1e-9, wall_now - wall_prev)
            cpu_prev, wall_prev = cpu_now, wall_now
            self.send(self.snapshot(deadline - t0, cpu))
            k += 1
