"""The messages between the coordinator and its workers, one small type per command or event.

Down (coordinator → worker): ``ClockProbe``, ``Start``, ``SetUsers``, ``SetRate``,
``ThinkTime``, ``Pause``, ``Resume``, ``Burst``, ``Assign``, ``Stop``, ``UserPage``. Up (worker →
coordinator): ``Ready``, ``ClockReply``, ``Began``, ``Failed`` and, from the pool when a worker
has ended, ``Exited`` — beside the ``WorkerSnapshot`` a worker sends every interval. Each side
dispatches with one ``match`` on the type, so a message cannot be misspelt and mypy checks
every field.

Every control carries ``seq``, its number among the controls the coordinator sent that worker
(1, 2, 3, …): a pool may deliver them in any order (Ray does not keep one caller's calls in
order) and the worker applies them in the order sent (``engine/sequence.py``). A field rather
than an envelope, so a pool carries a ``Control`` without knowing of numbers; 0 is a pool's own
unnumbered ``Stop`` (its pipe closed, it is closing), applied at once.

They cross a process boundary (or a thread's queue in ``InProcessPool``), so they are plain
picklable data: frozen, slotted dataclasses of numbers and short strings — a few dozen bytes
pickled, nothing like a snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from loadtui.model.snapshot import WorkerSnapshot

__all__ = [
    "Assign",
    "Began",
    "Burst",
    "ClockProbe",
    "ClockReply",
    "Control",
    "Event",
    "Exited",
    "Failed",
    "Pause",
    "Ready",
    "Resume",
    "SetRate",
    "SetUsers",
    "Start",
    "Stop",
    "ThinkTime",
    "Up",
    "UserPage",
]


# -- down: what the coordinator tells a worker ------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Numbered:
    seq: int = field(default=0, kw_only=True)
    """Its place among the controls sent to this worker, from 1; 0: unnumbered, apply now."""


@dataclass(frozen=True, slots=True)
class ClockProbe(_Numbered):
    """Answer at once with your wall clock (``ClockReply``): ``sent`` is the coordinator's."""

    name: ClassVar[str] = "clock"
    sent: float


@dataclass(frozen=True, slots=True)
class Start(_Numbered):
    """Begin at ``at``, a wall-clock epoch on the coordinator's clock; this worker's clock reads
    ``clock_offset`` seconds ahead of it (measured with ``ClockProbe``), so hosts whose clocks
    disagree still begin together."""

    name: ClassVar[str] = "start"
    at: float
    clock_offset: float = 0.0


@dataclass(frozen=True, slots=True)
class SetUsers(_Numbered):
    """Run the users ``uid % count == index`` of ``total`` (closed loop and user stages)."""

    name: ClassVar[str] = "users"
    total: int


@dataclass(frozen=True, slots=True)
class SetRate(_Numbered):
    """This worker's share of the rate: arrivals/s (open loop) or a requests/s cap (closed
    loop; 0 lifts it)."""

    name: ClassVar[str] = "rate"
    per_worker: float


@dataclass(frozen=True, slots=True)
class ThinkTime(_Numbered):
    """Each user waits ``seconds`` (lo, hi; uniform between them) after each turn."""

    name: ClassVar[str] = "think_time"
    seconds: tuple[float, float]


@dataclass(frozen=True, slots=True)
class Pause(_Numbered):
    """Start nothing new until ``Resume``; requests in flight finish."""

    name: ClassVar[str] = "pause"


@dataclass(frozen=True, slots=True)
class Resume(_Numbered):
    name: ClassVar[str] = "resume"


@dataclass(frozen=True, slots=True)
class Burst(_Numbered):
    """Send this worker's share of ``total`` one-shot requests at once."""

    name: ClassVar[str] = "burst"
    total: int


@dataclass(frozen=True, slots=True)
class Assign(_Numbered):
    """Take place ``index`` among ``of`` live workers (sent when a worker is lost)."""

    name: ClassVar[str] = "assign"
    index: int
    of: int


@dataclass(frozen=True, slots=True)
class Stop(_Numbered):
    """Start nothing new; give requests in flight ``grace`` seconds, then send the last
    snapshot and end."""

    name: ClassVar[str] = "stop"
    grace: float


@dataclass(frozen=True, slots=True)
class UserPage(_Numbered):
    """Send the rows of the users ``first`` … ``first + count - 1`` that are this worker's (at
    most ``USER_ROWS_MAX``) instead of the lowest ids: the page a users table shows."""

    name: ClassVar[str] = "user_page"
    first: int
    count: int


Control = (
    ClockProbe
    | Start
    | SetUsers
    | SetRate
    | ThinkTime
    | Pause
    | Resume
    | Burst
    | Assign
    | Stop
    | UserPage
)


# -- up: what a worker (or its pool) tells the coordinator ------------------------------------
@dataclass(frozen=True, slots=True)
class Ready:
    """The worker's loop and HTTP session are up: it can take ``Start``."""

    worker: int
    node: str = ""
    """Where it runs when that is not this machine (a Ray actor: host and IP)."""


@dataclass(frozen=True, slots=True)
class Failed:
    """An exception outside any one request ended the worker; ``why`` says where and what."""

    worker: int
    why: str


@dataclass(frozen=True, slots=True)
class Exited:
    """The worker has ended (sent by the pool, not the worker): its exit code, negative for a
    signal, None when unknown."""

    worker: int
    code: int | None


@dataclass(frozen=True, slots=True)
class ClockReply:
    """The answer to ``ClockProbe``: the probe's ``sent`` and this worker's wall clock then."""

    worker: int
    sent: float
    clock: float


@dataclass(frozen=True, slots=True)
class Began:
    """The worker's load began: its wall clock at that moment (the start skew comes of it)."""

    worker: int
    clock: float


Event = Ready | ClockReply | Began | Failed | Exited
Up = WorkerSnapshot | Event
