"""One-line descriptions of a preset's plan for the setup screen (no Textual here); the words
come from ``run/describe.py``, which ``show``, ``compare`` and the report use too."""

from __future__ import annotations

from loadtui.model.plan import RunConfig
from loadtui.model.slo import slos_of
from loadtui.run.describe import describe_load, describe_thresholds
from loadtui.run.describe import describe_requests as requests_text

__all__ = ["describe_load", "describe_requests"]


def describe_requests(config: RunConfig) -> str:
    """The mix, its SLOs and thresholds under the plan line: ``health + models + chat stream
    max_tokens 32 · SLOs ttft<500ms · thresholds: error_rate rate<0.01`` (the words are
    ``run/describe.py``'s and ``show``'s)."""
    thresholds = describe_thresholds(config)
    mix = requests_text(config, " + ", tokens=True)
    if config.slo:  # what a capacity search (and goodput) judges each request against
        mix += " · SLOs " + " ".join(s.text for s in slos_of(config.slo))
    return mix + ("" if thresholds == "none" else f" · thresholds: {thresholds}")


def stage_end(config: RunConfig, elapsed: float) -> float | None:
    """When the stage running at ``elapsed`` ends, if another stage follows it; else None.

    A live users (or, with rate stages, rate) change in a staged run holds only until then: the
    engine (``engine/shape.py``) starts the next stage's ramp from its own plan.
    """
    load = config.load
    if load.mode != "stages":
        return None
    end = 0.0
    for i, stage in enumerate(load.stages):
        end += stage.duration
        if elapsed < end:
            return end if i < len(load.stages) - 1 else None
    return None
