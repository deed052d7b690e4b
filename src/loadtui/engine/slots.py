"""The open-loop in-flight cap: a semaphore whose size can change and whose queue is visible.

A worker's share of ``max_in_flight`` changes when another worker is lost and its share moves
here, which ``asyncio.Semaphore`` cannot do; and the worker must know how many arrivals are
waiting for a slot, to bound that backlog instead of letting it grow without limit.
"""

from __future__ import annotations

import asyncio
from collections import deque

__all__ = ["Slots"]


class Slots:
    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.used = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def waiting(self) -> int:
        """Arrivals queued for a slot now."""
        return len(self._waiters)

    async def acquire(self) -> None:
        if self.used < self.cap and not self._waiters:
            self.used += 1
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        try:
            await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self.release()  # granted and cancelled in the same step: hand it on
            elif fut in self._waiters:
                self._waiters.remove(fut)
            raise

    def release(self) -> None:
        self.used -= 1
        self._wake()

    def resize(self, cap: int) -> None:
        """A new cap; requests already in flight above it finish, none start until below it."""
        self.cap = cap
        self._wake()

    def _wake(self) -> None:
        while self._waiters and self.used < self.cap:
            fut = self._waiters.popleft()
            if not fut.done():
                self.used += 1
                fut.set_result(None)
