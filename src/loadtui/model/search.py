"""The typed views of a capacity search: its steps, its result and the steering actions.

A capacity search raises the load step by step until the SLO attainment falls below a target,
then narrows in on the knee. The run service (``run/search.py``) fills these views; the app shows
``SearchView`` live from ``LiveFrame.search``, and the run file stores the final one as
``RunRecord.search``. Plain frozen dataclasses: no I/O, no validation beyond their types.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["STEER", "Outcome", "SearchMode", "SearchView", "StepVerdict", "StepView"]

SearchMode = Literal["rate", "users"]
StepVerdict = Literal["running", "pass", "fail", "saturated", "skipped"]
Outcome = Literal["capacity", "never_compliant", "ceiling", "generator_saturated", "stopped"]

STEER = ("hold", "skip", "back", "accept", "step")
"""Steering values of ``ControlChange(action="search", value=...)``; "step" is sent as "step:1.5"."""


@dataclass(frozen=True, slots=True)
class StepView:
    """One step of the search: a load held for a while and what it achieved."""

    index: int
    load: float
    """Requests/s (rate search) or users (users search)."""
    phase: Literal["probe", "refine"]
    """probe: multiplying the load up to the first failure; refine: bisecting the knee."""
    started_s: float
    """Offset from the run's start when the step began."""
    duration_s: float
    requests: int
    """Requests judged in the step (after its settling part)."""
    attainment: float | None
    attainment_ci: tuple[float, float] | None
    """Wilson 95 % interval of the attainment."""
    goodput_rate: float
    error_rate: float
    ttft_p50_ms: float | None
    ttft_p95_ms: float | None
    itl_p50_ms: float | None
    itl_p95_ms: float | None
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    verdict: StepVerdict
    held: bool
    """The user asked to hold this step."""


@dataclass(frozen=True, slots=True)
class SearchView:
    """The whole search as it stands: its settings, its steps and, once over, its result."""

    mode: SearchMode
    target: float
    """Attainment a step must reach to pass (e.g. 0.9)."""
    error_limit: float
    """Error rate above which a step fails (e.g. 0.01)."""
    step_factor: float
    steps: tuple[StepView, ...]
    current: int | None
    """Index of the running step, None once the search is over."""
    capacity: float | None
    interval: tuple[float, float] | None
    """[last good load, first bad load] around the capacity."""
    outcome: Outcome | None
    message: str
