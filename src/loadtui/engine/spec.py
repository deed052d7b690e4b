"""What a worker is started with, as plain data: the ``WorkerSpec`` and the snapshot interval.

The coordinator's process builds the specs and pickles them to the workers; it never runs a
worker. Kept apart from ``context.py`` (the worker's own state, its HTTP session and recorder),
so the parent does not import aiohttp and the worker's modules just to describe what a worker
should do: some 0.2–0.5 s of a run's start-up (docs/performance.md, "Start-up and exit").
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from loadtui.model.conversation import Script
from loadtui.model.plan import RunConfig
from loadtui.model.requests import Prompt
from loadtui.model.trace import TraceEntry
from loadtui.model.workflows import BatchInput

__all__ = ["SNAPSHOT_INTERVAL", "WorkerSpec", "basic_token", "in_flight_cap"]

SNAPSHOT_INTERVAL = 0.25


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker is started with (pickled to a worker process: plain data)."""

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
    record_requests: str | None = None
    """``--record-requests``: the file whose part this worker writes (``requestlog.py``)."""
    trace: tuple[TraceEntry, ...] | None = None
    """Trace replay: this worker's lines of the trace (line i goes to worker i mod count)."""
    conversations: tuple[Script, ...] | None = None
    """The conversations of ``[conversation] file`` (``storage.conversations``)."""


def basic_token(user: str, password: str) -> str:
    """What Basic auth sends for these credentials (a server echoing its Authorization header
    sends this back, not the password): a secret both the run and each worker scrub."""
    return base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def in_flight_cap(max_in_flight: int, workers: int) -> int:
    """Each worker's share of the open-loop in-flight cap (the coordinator judges the run's
    seconds at the cap by it, each worker enforces its own)."""
    return max(1, max_in_flight // workers)
