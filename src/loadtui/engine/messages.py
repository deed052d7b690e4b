"""The messages between the coordinator and its workers, one small type per command or event.

Down (coordinator → worker): ``Start``, ``SetUsers``, ``SetRate``, ``ThinkTime``, ``Pause``,
``Resume``, ``Burst``, ``Assign``, ``Stop``. Up (worker → coordinator): ``Ready``, ``Failed``
and, from the pool when a worker has ended, ``Exited`` — beside the ``WorkerSnapshot`` a
worker sends every interval. Each side dispatches with one ``match`` on the type, so a message
cannot be misspelt and mypy checks every field.

They cross a process boundary (or a thread's queue in ``InProcessPool``), so they are plain
picklable data: frozen, slotted dataclasses of numbers and short strings — a few dozen bytes
pickled, nothing like a snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from loadtui.model.snapshot import WorkerSnapshot

__all__ = [
    "Assign",
    "Burst",
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
]


# -- down: what the coordinator tells a worker ------------------------------------------------
@dataclass(frozen=True, slots=True)
class Start:
    """Begin at ``t0`` (a ``perf_counter`` time shared by every worker on this host)."""

    name: ClassVar[str] = "start"
    t0: float


@dataclass(frozen=True, slots=True)
class SetUsers:
    """Run the users ``uid % count == index`` of ``total`` (closed loop and user stages)."""

    name: ClassVar[str] = "users"
    total: int


@dataclass(frozen=True, slots=True)
class SetRate:
    """This worker's share of the rate: arrivals/s (open loop) or a requests/s cap (closed
    loop; 0 lifts it)."""

    name: ClassVar[str] = "rate"
    per_worker: float


@dataclass(frozen=True, slots=True)
class ThinkTime:
    """Each user waits ``seconds`` (lo, hi; uniform between them) after each turn."""

    name: ClassVar[str] = "think_time"
    seconds: tuple[float, float]


@dataclass(frozen=True, slots=True)
class Pause:
    """Start nothing new until ``Resume``; requests in flight finish."""

    name: ClassVar[str] = "pause"


@dataclass(frozen=True, slots=True)
class Resume:
    name: ClassVar[str] = "resume"


@dataclass(frozen=True, slots=True)
class Burst:
    """Send this worker's share of ``total`` one-shot requests at once."""

    name: ClassVar[str] = "burst"
    total: int


@dataclass(frozen=True, slots=True)
class Assign:
    """Take place ``index`` among ``of`` live workers (sent when a worker is lost)."""

    name: ClassVar[str] = "assign"
    index: int
    of: int


@dataclass(frozen=True, slots=True)
class Stop:
    """Start nothing new; give requests in flight ``grace`` seconds, then send the last
    snapshot and end."""

    name: ClassVar[str] = "stop"
    grace: float


Control = Start | SetUsers | SetRate | ThinkTime | Pause | Resume | Burst | Assign | Stop


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


Event = Ready | Failed | Exited
Up = WorkerSnapshot | Event
