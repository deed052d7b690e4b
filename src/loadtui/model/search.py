"""The typed views of a capacity search: its steps, its result and the steering actions.

A capacity search raises the load step by step until the SLO attainment falls below a target,
then narrows in on the knee. The run service (``run/search.py``) fills these views; the app shows
``SearchView`` live from ``LiveFrame.search``, and the run file stores the final one as
``RunRecord.search``. Plain frozen dataclasses: no I/O, no validation beyond their types.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from loadtui.model.durations import parse_duration

__all__ = [
    "STEER",
    "Outcome",
    "SearchMode",
    "SearchSpec",
    "SearchView",
    "StepVerdict",
    "StepView",
    "load_unit",
]

SearchMode = Literal["rate", "users"]
StepVerdict = Literal["running", "pass", "fail", "saturated", "skipped"]
Outcome = Literal["capacity", "never_compliant", "ceiling", "generator_saturated", "stopped"]


def load_unit(mode: str) -> str:
    """The unit of a search's load: ``req/s`` (rate search) or ``users``."""
    return "users" if mode == "users" else "req/s"


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
    goodput_tokens_rate: float = 0.0
    """Output tokens/s of the requests that met every SLO (0 in files from before it)."""


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


_Seconds = Annotated[float, BeforeValidator(parse_duration)]


class SearchSpec(BaseModel):
    """``[search]`` of a preset, ``--search``: how a capacity search runs (docs/capacity.md)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False, defer_build=True)

    mode: SearchMode = "rate"
    """rate: open-loop arrivals per second; users: closed-loop concurrent users."""
    start: float = Field(default=1.0, gt=0, le=1_000_000)
    """The first step's load."""
    step_factor: float = Field(default=2.0, gt=1.0, le=10.0)
    """Each probe step's load is the previous one's times this."""
    attainment: float = Field(default=0.9, gt=0, le=1)
    """The share of requests that must meet every SLO for a step to pass."""
    error_limit: float = Field(default=0.01, ge=0, le=1)
    """A step whose error rate is above this fails."""
    max_load: float | None = Field(default=None, gt=0, le=1_000_000)
    """The ceiling (``--max-rate``, ``--max-users``): no step goes above it."""
    settle: _Seconds = Field(default=2.0, ge=0)
    """The first seconds of each step are not judged (queues fill, caches warm)."""
    min_requests: int = Field(default=100, ge=1, le=1_000_000)
    """A step ends only once it has judged at least this many requests..."""
    min_step: _Seconds = Field(default=5.0, ge=0)
    """...and has been judged for at least this long..."""
    max_step: _Seconds = Field(default=60.0, gt=0)
    """...and at the latest after this long (judged on what it has; the table says so)."""
    half_width: float = Field(default=0.05, gt=0, le=0.5)
    """A step may end once its attainment's 95 % interval is no wider than ± this."""
    precision: float = Field(default=0.1, gt=0, le=1)
    """Bisection ends once (first bad − last good) / last good is at most this."""
    refinements: int = Field(default=4, ge=0, le=20)
    """At most this many bisection steps."""

    @model_validator(mode="after")
    def _consistent(self) -> SearchSpec:
        if self.min_step > self.max_step:
            raise ValueError(
                f"min_step ({self.min_step:g}s) is longer than max_step ({self.max_step:g}s)"
            )
        if self.max_load is not None and self.start > self.max_load:
            ceiling = "--max-rate" if self.mode == "rate" else "--max-users"
            raise ValueError(
                f"the first step (--search-start {self.start:g}) is above the ceiling "
                f"({ceiling} {self.max_load:g})"
            )
        return self
