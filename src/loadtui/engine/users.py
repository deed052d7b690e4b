"""Closed-loop users: each one a task that sends a turn, waits for it, thinks, and goes again.

A worker runs the users whose id falls to it (``uid % workers == index``). A user asked to
leave while a request is in flight finishes that request first (it is *stopping*), so lowering
the count never cuts a request short; asked back before then, it simply stays. A live rate in
closed loop is a cap, not a schedule: each request takes the next free slot of ``1/rate`` s
across this worker's users.
"""

from __future__ import annotations

import asyncio
import random
from time import perf_counter

from loadtui.engine.client import UserStatus
from loadtui.engine.context import WorkerContext
from loadtui.engine.conversation import Conversations
from loadtui.model.outcomes import UserState

__all__ = ["Users"]

_BUSY = (UserState.CONNECTING, UserState.WAITING, UserState.STREAMING)


class Users:
    def __init__(self, ctx: WorkerContext, think: tuple[float, float]) -> None:
        self.ctx = ctx
        self.status: dict[int, UserStatus] = {}
        """Every user of this worker with a task, stopping ones included."""
        self.tasks: dict[int, asyncio.Task[None]] = {}
        self.stopping: set[int] = set()
        """Users asked to leave that finish their request in flight first."""
        self.think = think
        """Seconds (lo, hi) each user waits after a turn."""
        self.pace: float | None = None
        """A cap on this worker's requests/s (a live closed-loop rate; 0 or None: none)."""
        self.total = 0
        """The users asked for across all workers."""
        self._next_slot = 0.0
        conversation = ctx.spec.config.conversation
        self.talks: Conversations | None = None
        """Each user's conversation (``[conversation]``), None when users send single requests."""
        if conversation is not None:
            self.talks = Conversations(conversation, ctx.mix, ctx.spec.conversations)

    @property
    def count(self) -> int:
        """Users running (not leaving)."""
        return len(self.status) - len(self.stopping)

    def resize(self, total: int, mine: range) -> None:
        """Run the users of ``mine`` (this worker's ids of ``total``), no more, no fewer."""
        self.total = total
        want = set(mine)
        for uid in sorted(want):
            if uid in self.stopping:
                self.stopping.discard(uid)  # asked back before its last request ended
            elif uid not in self.status:
                status = self.status[uid] = UserStatus(uid)
                self.tasks[uid] = self.ctx.spawn(self._run(status), "user")
        for uid in sorted(self.status.keys() - want - self.stopping, reverse=True):
            self.retire(uid)

    def retire(self, uid: int) -> None:
        """Stop a user after its current request; at once if it has none in flight."""
        status = self.status[uid]
        if status.state in _BUSY:
            self.stopping.add(uid)
        else:
            del self.status[uid]
            self.tasks.pop(uid).cancel()

    def retire_all(self) -> None:
        for uid in list(self.status):
            if uid not in self.stopping:
                self.retire(uid)

    async def _run(self, status: UserStatus) -> None:
        ctx = self.ctx
        uid = status.uid
        turn = 0
        try:
            await ctx.until_start()
            while uid not in self.stopping:
                if not ctx.running.is_set():
                    status.state = UserState.PAUSED
                    await ctx.running.wait()
                    continue
                if self.pace:
                    await self._wait_for_slot(status)
                    if uid in self.stopping or not ctx.running.is_set():
                        continue
                if ctx.budget is not None and not ctx.budget.take():
                    break  # this worker's share of --requests is spent
                await self._turn(status, turn)
                turn += 1
                await self._think(status)
        except asyncio.CancelledError:
            pass
        finally:
            status.state = UserState.STOPPED
            if self.status.get(uid) is status:  # not already replaced by a new user of this id
                del self.status[uid]
                self.tasks.pop(uid, None)
                self.stopping.discard(uid)
                if self.talks is not None:
                    self.talks.leave(uid)

    async def _turn(self, status: UserStatus, turn: int) -> None:
        ctx = self.ctx
        ctx.in_flight += 1
        try:
            if self.talks is not None:
                await self._talk(status, self.talks)
                return
            for prep in ctx.mix.next_round(turn):
                await ctx.perform(prep, status)
        finally:
            ctx.in_flight -= 1

    async def _talk(self, status: UserStatus, talks: Conversations) -> None:
        """A conversation's next turn, built from its history now; its answer joins it."""
        talk, prep = talks.next_request(status.uid)
        answer: list[bytes] = []
        ok = await self.ctx.perform(prep, status, None, answer)
        talk.answered(prep, answer if ok else None)

    async def _think(self, status: UserStatus) -> None:
        lo, hi = self.think
        if hi > 0 and status.uid not in self.stopping:
            if status.state != UserState.ERROR:
                status.state = UserState.THINKING
            await asyncio.sleep(lo if lo == hi else random.uniform(lo, hi))

    async def _wait_for_slot(self, status: UserStatus) -> None:
        """Under a rate cap: each request takes the next free slot of 1/rate s."""
        rate = self.pace or 0.0
        now = perf_counter()
        slot = max(now, self._next_slot)
        self._next_slot = slot + 1.0 / rate
        if slot > now:
            status.state = UserState.THINKING
            await asyncio.sleep(slot - now)
