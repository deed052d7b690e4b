"""A worker: one process, one event loop, a share of the users or of the arrival rate.

The coordinator sends control tuples down; the worker sends a ``WorkerSnapshot`` up every
``SNAPSHOT_INTERVAL`` seconds, aligned on the shared start time so every worker's intervals end
at the same offsets. Users with ``uid % workers == index`` belong to this worker; in open loop it
runs ``rate / workers`` arrivals per second under ``max_in_flight / workers``. In closed loop a
rate, if one is set live, caps this worker's users at ``rate / workers`` requests per second.
When a worker is lost the coordinator renumbers the survivors (``assign``) so they take its
share.

Messages down: ("start", t0) ("users", total) ("rate", per_worker) ("think_time", (lo, hi))
("pause",) ("resume",) ("burst", n) ("assign", index, count) ("stop", grace_seconds).
Messages up: ("ready", index), snapshots, and ("failed", index, text) when an exception outside
any one request (a user task, the arrivals loop, the reporter, a control) ended the worker.
"""

from __future__ import annotations

import asyncio
import heapq
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from time import perf_counter
from typing import Any

import aiohttp

from loadtui.engine.batch import run_batch_job
from loadtui.engine.client import UserStatus, execute
from loadtui.engine.mix import RequestMix
from loadtui.engine.protocols import Prepared, Prompt
from loadtui.engine.slots import Slots
from loadtui.metrics.health import LATE_MS
from loadtui.metrics.stats import Recorder
from loadtui.model.outcomes import UserState
from loadtui.model.plan import RunConfig
from loadtui.model.snapshot import WorkerSnapshot
from loadtui.model.workflows import BatchInput

__all__ = [
    "BACKLOG_LIMIT",
    "SNAPSHOT_INTERVAL",
    "USER_ROWS_MAX",
    "Worker",
    "WorkerSpec",
    "describe",
    "in_flight_cap",
]

SNAPSHOT_INTERVAL = 0.25
_LAG_PROBE = 0.05
USER_ROWS_MAX = 200
"""Per-user rows in one snapshot (the lowest user ids): 10,000 rows made 170 KB four times a
second per worker; the users table shows a page at a time anyway."""
BACKLOG_LIMIT = 1000
"""Open loop: arrivals waiting to be sent (for an in-flight slot or for the loop) beyond this
are counted ``dropped`` instead of queued, so a slow target or a saturated generator cannot
grow memory without bound."""
MAX_BEHIND_S = 1.0
"""Open loop: arrivals whose intended time is further back than this are counted ``dropped``
in one step, so a generator that cannot keep the rate does not chase it for ever."""


def describe(exc: BaseException, where: str) -> str:
    """One line naming where an unexpected exception happened and what it was."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    line = f"{where}: {type(exc).__name__}" + (f": {text}" if text else "")
    return line[:300]


def in_flight_cap(max_in_flight: int, workers: int) -> int:
    """Each worker's share of the open-loop in-flight cap."""
    return max(1, max_in_flight // workers)


@dataclass(frozen=True)
class WorkerSpec:
    index: int
    count: int
    config: RunConfig
    base_url: str
    api_key: str | None = None
    snapshot_interval: float = SNAPSHOT_INTERVAL
    prompts: tuple[Prompt, ...] | None = None
    """Prompt data, loaded and checked before the run (``storage.prompts``)."""
    direct_url: str | None = None
    """Overhead mode: the upstream, for the direct half of each pair."""
    batch: BatchInput | None = None
    """The input file of ``batch`` requests."""


async def perform(
    session: Any, prep: Prepared, rec: Recorder, user: Any = None, intended: float | None = None
) -> bool:
    """One turn's request: a single HTTP request, or a whole Batch API job."""
    if prep.kind == "batch":
        return await run_batch_job(session, prep, rec, user)
    return await execute(session, prep, rec, user, intended)


class Worker:
    def __init__(self, spec: WorkerSpec, send: Callable[[Any], None]) -> None:
        self.spec = spec
        self.send = send
        cfg = spec.config
        self.mix = RequestMix(
            cfg,
            spec.base_url,
            spec.api_key,
            list(spec.prompts) if spec.prompts else None,
            spec.direct_url,
            spec.batch,
        )
        self.rec = Recorder()
        self.users: dict[int, UserStatus] = {}
        self.tasks: dict[int, asyncio.Task[None]] = {}
        self.stopping_users: set[int] = set()
        self.think = cfg.load.think_time
        self.rate: float | None = None
        self.in_flight = 0
        self.running = asyncio.Event()
        self.running.set()
        self.t0: float | None = None
        self.session: aiohttp.ClientSession | None = None
        self.oneshots: set[asyncio.Task[None]] = set()
        self.arrival_task: asyncio.Task[None] | None = None
        self.stop_event = asyncio.Event()
        self.grace: float | None = None
        self.started = asyncio.Event()
        self.lag_max = 0.0
        self.index = spec.index
        """This worker's place among the live workers (changes when one is lost)."""
        self.count = spec.count
        self.users_total = 0
        self.slots = Slots(in_flight_cap(cfg.load.max_in_flight, spec.count))
        self.backlog = 0
        """Open-loop arrivals scheduled but not yet sent."""
        self.open_loop = cfg.load.open_loop
        self.failure: str | None = None
        """Set when an unexpected exception ended this worker."""
        self._next_slot = 0.0

    # -- control -------------------------------------------------------------------------
    def handle(self, msg: tuple) -> None:
        try:
            self._handle(msg)
        except Exception as exc:  # a loop callback would only log it: make it end the run
            self.fail(f"control {msg[0]!r}", exc)

    def fail(self, where: str, exc: BaseException) -> None:
        """An exception outside any one request: stop at once and report it (first one wins)."""
        if self.failure is None:
            self.failure = describe(exc, where)
            self.grace = 0.0
            self.stop_event.set()

    def _watch(self, task: asyncio.Task[Any], where: str) -> asyncio.Task[Any]:
        def done(t: asyncio.Task[Any]) -> None:
            if not t.cancelled() and (exc := t.exception()) is not None:
                self.fail(where, exc)

        task.add_done_callback(done)
        return task

    def _handle(self, msg: tuple) -> None:
        op = msg[0]
        if self.stop_event.is_set() and op in ("users", "rate", "burst"):
            return  # draining: start nothing new
        if op == "start":
            self.t0 = msg[1]
            self.started.set()
        elif op == "users":
            self._set_users(msg[1])
        elif op == "rate":
            self._set_rate(msg[1])
        elif op == "think_time":
            self.think = tuple(msg[1])
        elif op == "pause":
            self.running.clear()
        elif op == "resume":
            self.running.set()
        elif op == "burst":
            self._burst(msg[1])
        elif op == "assign":
            self._assign(msg[1], msg[2])
        elif op == "stop":
            self.grace = float(msg[1])
            self.stop_event.set()

    def _mine(self, total: int) -> range:
        return range(self.index, total, self.count)

    def _assign(self, index: int, count: int) -> None:
        """Take a new place among ``count`` live workers: a share of users and of the cap."""
        self.index, self.count = index, count
        self.slots.resize(in_flight_cap(self.spec.config.load.max_in_flight, count))
        if self.users_total and not self.stop_event.is_set():
            self._set_users(self.users_total)

    def _set_users(self, total: int) -> None:
        self.users_total = total
        want = set(self._mine(total))
        for uid in sorted(want):
            if uid in self.stopping_users:
                self.stopping_users.discard(uid)  # asked back before its last request ended
            elif uid not in self.users:
                status = self.users[uid] = UserStatus(uid)
                self.tasks[uid] = self._watch(asyncio.ensure_future(self._user(status)), "user")
        for uid in sorted(self.users.keys() - want - self.stopping_users, reverse=True):
            self._retire(uid)

    def _retire(self, uid: int) -> None:
        """Stop a user after its current request; at once if it has none in flight."""
        status = self.users[uid]
        if status.state in (UserState.CONNECTING, UserState.WAITING, UserState.STREAMING):
            self.stopping_users.add(uid)
        else:
            del self.users[uid]
            self.tasks.pop(uid).cancel()

    def _set_rate(self, rate: float) -> None:
        self.rate = rate
        if self.open_loop and self.arrival_task is None and self.session is not None:
            self._start_arrivals()

    def _start_arrivals(self) -> None:
        self.arrival_task = self._watch(asyncio.ensure_future(self._arrivals()), "arrivals")

    def _burst(self, n: int) -> None:
        for _ in self._mine(n):
            self._oneshot(self.mix.next_round(0), None)

    # -- load ----------------------------------------------------------------------------
    async def _until_start(self) -> None:
        await self.started.wait()
        assert self.t0 is not None
        delay = self.t0 - perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)

    async def _user(self, status: UserStatus) -> None:
        mix = self.mix
        i = 0
        uid = status.uid
        try:
            await self._until_start()
            while uid not in self.stopping_users:
                if not self.running.is_set():
                    status.state = UserState.PAUSED
                    await self.running.wait()
                    continue
                if self.rate and not self.open_loop:
                    await self._pace(status)
                    if uid in self.stopping_users or not self.running.is_set():
                        continue
                self.in_flight += 1
                try:
                    for prep in mix.next_round(i):
                        await perform(self.session, prep, self.rec, status)
                finally:
                    self.in_flight -= 1
                i += 1
                lo, hi = self.think
                if hi > 0 and uid not in self.stopping_users:
                    if status.state != UserState.ERROR:
                        status.state = UserState.THINKING
                    await asyncio.sleep(lo if lo == hi else random.uniform(lo, hi))
        except asyncio.CancelledError:
            pass
        finally:
            status.state = UserState.STOPPED
            if self.users.get(uid) is status:  # not already replaced by a new user of this id
                del self.users[uid]
                self.tasks.pop(uid, None)
                self.stopping_users.discard(uid)

    async def _pace(self, status: UserStatus) -> None:
        """Closed loop under a rate cap: each request takes the next free slot of 1/rate s."""
        rate = self.rate or 0.0
        now = perf_counter()
        slot = max(now, self._next_slot)
        self._next_slot = slot + 1.0 / rate
        if slot > now:
            status.state = UserState.THINKING
            await asyncio.sleep(slot - now)

    async def _arrivals(self) -> None:
        """Open loop: schedule intended send times at the rate; never wait on responses."""
        poisson = self.spec.config.load.arrival == "poisson"
        mix = self.mix
        i = self.spec.index
        await self._until_start()
        next_t = perf_counter()
        while True:
            if not self.running.is_set():
                await self.running.wait()
                next_t = perf_counter()
            rate = self.rate or 0.0
            if rate <= 0:
                await asyncio.sleep(_LAG_PROBE)
                next_t = perf_counter()
                continue
            due = next_t + (random.expovariate(rate) if poisson else 1.0 / rate)
            # wait in short steps so a rate change or a pause takes effect at once; behind
            # schedule, still yield once an arrival, or nothing else on this loop ever runs
            await asyncio.sleep(0)
            while (delay := due - perf_counter()) > 0:
                await asyncio.sleep(min(delay, _LAG_PROBE))
                if self.rate != rate or not self.running.is_set():
                    break
            if self.rate != rate or not self.running.is_set():
                next_t = perf_counter()
                continue
            if (behind := perf_counter() - due) > MAX_BEHIND_S:
                skip = int(behind * rate)
                self.rec.dropped += skip
                due += skip / rate
                i += skip
            next_t = due
            if self.backlog >= BACKLOG_LIMIT:
                self.rec.dropped += 1
            else:
                self.backlog += 1
                self._oneshot(mix.next_round(i), due)
            i += 1

    def _oneshot(self, turn: tuple[Prepared, ...], intended: float | None) -> None:
        task = self._watch(asyncio.ensure_future(self._one(turn, intended)), "request task")
        self.oneshots.add(task)
        task.add_done_callback(self.oneshots.discard)

    async def _one(self, turn: tuple[Prepared, ...], intended: float | None) -> None:
        if intended is None:
            await self._until_start()
        try:
            await self.slots.acquire()
        except asyncio.CancelledError:
            if intended is not None:
                self.backlog -= 1
                self.rec.dropped += 1  # the run ended before it could be sent
            raise
        if intended is not None:
            self.backlog -= 1
            self.rec.arrivals += 1  # sent: what the achieved rate counts
            if (perf_counter() - intended) * 1000.0 > LATE_MS:
                self.rec.late += 1
        self.in_flight += 1
        try:
            for k, prep in enumerate(turn):  # an overhead pair: the second half starts now
                await perform(self.session, prep, self.rec, None, intended if k == 0 else None)
        finally:
            self.in_flight -= 1
            self.slots.release()

    # -- reporting -----------------------------------------------------------------------
    def snapshot(self, t: float, cpu: float, final: bool = False) -> WorkerSnapshot:
        snap = self.rec.drain(self.spec.index, t)
        snap.in_flight = self.in_flight
        snap.users = len(self.users) - len(self.stopping_users)
        snap.loop_lag_ms = self.lag_max * 1000.0
        snap.cpu_percent = cpu
        snap.final = final
        now = perf_counter()
        users = self.users
        if len(users) > USER_ROWS_MAX:
            users = {uid: users[uid] for uid in heapq.nsmallest(USER_ROWS_MAX, users)}
        snap.users_rows = [
            (
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
        self.lag_max = 0.0
        return snap

    async def _lag_probe(self) -> None:
        while True:
            before = perf_counter()
            await asyncio.sleep(_LAG_PROBE)
            lag = perf_counter() - before - _LAG_PROBE
            if lag > self.lag_max:
                self.lag_max = lag

    async def _report(self) -> None:
        assert self.t0 is not None
        k = 1
        cpu_prev, wall_prev = time.process_time(), perf_counter()
        while True:
            deadline = self.t0 + k * self.spec.snapshot_interval
            delay = deadline - perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            cpu_now, wall_now = time.process_time(), perf_counter()
            cpu = 100.0 * (cpu_now - cpu_prev) / max(1e-9, wall_now - wall_prev)
            cpu_prev, wall_prev = cpu_now, wall_now
            self.send(self.snapshot(deadline - self.t0, cpu))
            k += 1

    async def serve(self) -> None:
        """Run until told to stop; the last snapshot sent has ``final=True``."""
        load = self.spec.config.load
        target = self.spec.config.target
        connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=300, force_close=False)
        timeout = aiohttp.ClientTimeout(total=target.timeout, sock_connect=target.connect_timeout)
        async with aiohttp.ClientSession(
            connector=connector, timeout=timeout, auto_decompress=False, raise_for_status=False
        ) as session:
            self.session = session
            await self._until_start()
            if self.open_loop and self.rate is not None and self.arrival_task is None:
                self._start_arrivals()
            probe = self._watch(asyncio.ensure_future(self._lag_probe()), "lag probe")
            report = self._watch(asyncio.ensure_future(self._report()), "reporter")
            cpu0, wall0 = time.process_time(), perf_counter()
            await self.stop_event.wait()
            await self._drain(load.graceful_stop if self.grace is None else self.grace)
            report.cancel()
            probe.cancel()
            t = perf_counter() - self.t0
            cpu = 100.0 * (time.process_time() - cpu0) / max(1e-9, perf_counter() - wall0)
            self.send(self.snapshot(t, cpu, final=self.failure is None))
            if self.failure is not None:
                self.send(("failed", self.spec.index, self.failure))

    async def _drain(self, grace: float) -> None:
        """Stop starting requests; give in-flight ones ``grace`` seconds, then cancel them."""
        if self.arrival_task is not None:
            self.arrival_task.cancel()
        pending = [t for t in (*self.tasks.values(), *self.oneshots) if not t.done()]
        for uid in list(self.users):
            if uid not in self.stopping_users:
                self._retire(uid)
        if pending:
            _, still = await asyncio.wait(pending, timeout=grace)
            for t in still:
                t.cancel()
            if still:
                await asyncio.wait(still, timeout=2.0)
        await asyncio.sleep(0)
