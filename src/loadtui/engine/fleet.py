"""The coordinator's roll of its workers: how many, which are ready, alive, finished, ended or
lost, and why.

A worker is *lost* when it ends without its final snapshot: killed, crashed, or ended by an
exception it reported (``Failed``, whose text is then the reason). The coordinator moves a lost
worker's share to the survivors with the ``Assign`` messages this roll hands out; whether the
run failed is the session's call (``failure`` says what happened).
"""

from __future__ import annotations

import os

from loadtui.engine.messages import Assign
from loadtui.model.plan import RunConfig

__all__ = ["Fleet", "auto_workers", "exit_reason"]


def auto_workers(config: RunConfig) -> int:
    """Workers when the config says 0: one per spare core, never more than there is work for."""
    if config.workers:
        return config.workers
    spare = max(1, (os.cpu_count() or 2) - 1)
    load = config.load
    if load.mode == "closed":
        return max(1, min(spare, load.users))
    return spare


def exit_reason(code: int | None) -> str:
    """Why a worker that sent no ``Failed`` ended, from its exit code."""
    if code is None:
        return "exited unexpectedly"
    if code < 0:
        return f"killed by signal {-code}"
    return f"exited unexpectedly (exit code {code})"


class Fleet:
    def __init__(self, n: int) -> None:
        self.n = n
        self.ready: set[int] = set()
        self.finals: set[int] = set()
        """Workers that sent their final snapshot."""
        self.exited: set[int] = set()
        """Workers whose process (or thread) has ended."""
        self.alive: list[int] = list(range(n))
        """Workers still running their share, in order; a lost one leaves this list."""
        self.lost: dict[int, str] = {}
        """Workers that ended mid-run, with why (their exception, or how they exited)."""
        self._failures: dict[int, str] = {}

    def failed(self, worker: int, why: str) -> None:
        self._failures[worker] = why

    def lose(self, worker: int, code: int | None) -> str | None:
        """Strike a worker that ended without its final snapshot; the reason, or None if it was
        no longer alive."""
        if worker not in self.alive:
            return None
        self.alive.remove(worker)
        reason = self._failures.pop(worker, None)
        if reason is None:
            reason = exit_reason(code)
        self.lost[worker] = reason
        return reason

    def assignments(self) -> list[tuple[int, Assign]]:
        """Each survivor's new place among the live workers."""
        return [(w, Assign(k, len(self.alive))) for k, w in enumerate(self.alive)]

    def start_failure(self) -> str | None:
        """Why starting failed, if a worker failed or ended before the run began."""
        for worker in sorted(self._failures.keys() | self.exited):
            why = self._failures.get(worker, "exited")
            return f"worker {worker} failed while starting: {why}"
        return None

    @property
    def all_ended(self) -> bool:
        return len(self.exited | self.finals) >= self.n

    @property
    def failure(self) -> str | None:
        """One line for the run's error when a worker was lost, else None."""
        if not self.lost:
            return None
        return "; ".join(f"worker {w} lost: {why}" for w, why in self.lost.items())
