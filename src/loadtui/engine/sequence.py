"""Controls applied in the order they were sent, whatever order a pool delivers them in.

A pool only promises that every control reaches its worker once (``WorkerPool`` in
``channel.py``); a pipe keeps the order, a pool of Ray actors does not (one caller's async calls
overtake each other: 5–300 of 2,000 in the Ray prototype). Users set to 40 then to 10 must end
at 10, and a ``Resume`` must not overtake its ``Pause``. So the coordinator numbers what it sends
each worker (``Numbering``) and the worker holds a control that came early until the ones before
it have arrived (``InOrder``).
"""

from __future__ import annotations

from dataclasses import replace

from loadtui.engine.messages import Control

__all__ = ["InOrder", "Numbering"]


class Numbering:
    """The coordinator's side: each worker's controls numbered 1, 2, 3, … in the order sent."""

    def __init__(self, workers: int) -> None:
        self._sent = [0] * workers

    def stamp(self, worker: int, message: Control) -> Control:
        """``message`` with the next number of ``worker``'s sequence."""
        self._sent[worker] += 1
        return replace(message, seq=self._sent[worker])

    def sent(self, worker: int) -> int:
        """How many controls ``worker`` has been sent."""
        return self._sent[worker]


class InOrder:
    """The worker's side: hands back controls in their numbered order, holding early ones.

    A control numbered 0 is a pool's own (its pipe closed: ``Stop``) and passes at once. One
    numbered below the next expected was applied already (a pool that delivered twice) and is
    dropped: applying ``Burst`` twice would send its requests twice.
    """

    def __init__(self) -> None:
        self.next = 1
        """The number of the control to apply next."""
        self._held: dict[int, Control] = {}

    def accept(self, message: Control) -> list[Control]:
        """The controls that may be applied now, in order (none while a gap is open)."""
        if message.seq == 0:
            return [message]
        if message.seq < self.next or message.seq in self._held:
            return []
        self._held[message.seq] = message
        ready: list[Control] = []
        while (held := self._held.pop(self.next, None)) is not None:
            ready.append(held)
            self.next += 1
        return ready

    @property
    def held(self) -> int:
        """Controls that came early and wait for the gap before them to fill."""
        return len(self._held)
