"""What a worker sends up to the coordinator, several times a second.

Fixed size whatever the run's length: counters, HdrHistogram-encoded interval histograms (exactly
mergeable, also across hosts), gauges, and one compact row per virtual user. It is plain data so
any transport — a pipe today, a Ray actor call later — can carry it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from loadtui.model.record import ErrorSample

__all__ = ["UserRow", "WorkerSnapshot"]


class UserRow(NamedTuple):
    """One virtual user as the users table shows it. A named tuple: read by name, pickled as
    small as a plain tuple (hundreds go up in every snapshot), sorted by user id first."""

    uid: int
    state: int
    """A ``UserState`` value."""
    age: float
    """Seconds since its current request started, or -1 between requests."""
    last_latency: float
    """Its last request's latency in ms, or -1 before the first."""
    last_ttft: float
    """Its last request's TTFT in ms, or -1."""
    requests: int
    errors: int


@dataclass(slots=True)
class WorkerSnapshot:
    worker: int
    t: float
    """Offset in seconds from the run's start at the end of this interval."""
    counters: dict[str, int] = field(default_factory=dict)
    """requests, ok, cancelled, output_tokens, input_tokens, bytes, arrivals, ..."""
    errors: dict[str, int] = field(default_factory=dict)
    status_codes: dict[int, int] = field(default_factory=dict)
    histograms: dict[str, bytes] = field(default_factory=dict)
    in_flight: int = 0
    users: int = 0
    loop_lag_ms: float = 0.0
    """Worst event-loop lag seen in the interval."""
    cpu_percent: float = 0.0
    users_rows: list[UserRow] = field(default_factory=list)
    labels: dict[str, tuple[int, int, bytes, bytes, bytes, bytes]] = field(default_factory=dict)
    """Per request label (kind, mix entry, ``direct``/``proxied``, batch step): requests,
    errors, then the encoded latency, TTFT, ITL and TPOT histograms (``b""``: no samples). An
    interval can hold ITL gaps of a label and no request: its stream ends in a later one."""
    checks: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Per check: (passed, failed)."""
    error_reasons: dict[str, list[str]] = field(default_factory=dict)
    """Per error class, the first few distinct exception messages of the interval (redacted,
    truncated: ``model.outcomes.reason_text``)."""
    error_samples: list[ErrorSample] = field(default_factory=list)
    """Failed responses kept as examples, each sent up once (``metrics/samples.py``)."""
    final: bool = False
    """The worker has stopped; this is its last snapshot."""
