"""A worker's share of the run's request budget (``[load] requests``, ``--requests N``).

The coordinator splits N among its workers once, at the start (``share``); each worker's users
and arrivals take one unit before each turn they start, and a worker whose share is spent starts
no more. No message is exchanged per request: the count is exact because the shares add up to N
and nothing else starts a turn. A run without a budget has none (``WorkerContext.budget`` is
None), so the hot path pays one ``is None`` test per turn.
"""

from __future__ import annotations

__all__ = ["Budget", "share"]


def share(total: int, index: int, workers: int) -> int:
    """Worker ``index``'s part of ``total`` among ``workers``: the remainder goes to the first."""
    return total // workers + (1 if index < total % workers else 0)


class Budget:
    """Turns this worker may still start."""

    __slots__ = ("left",)

    def __init__(self, left: int) -> None:
        self.left = left

    def take(self) -> bool:
        """One turn may start (True, and it is counted) or the share is spent (False)."""
        if self.left <= 0:
            return False
        self.left -= 1
        return True

    @property
    def spent(self) -> bool:
        return self.left <= 0
