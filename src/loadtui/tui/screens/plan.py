"""One-line descriptions of a preset's plan for the setup screen (no Textual here)."""

from __future__ import annotations

from loadtui.model.durations import format_duration
from loadtui.model.plan import RunConfig

__all__ = ["describe_load", "describe_requests"]


def describe_load(config: RunConfig) -> str:
    load = config.load
    length = format_duration(load.total_duration)
    if load.mode == "closed":
        think = load.think_time
        thinking = f", think {think[0]:g}–{think[1]:g}s" if think[1] else ""
        users = f"{load.users} user{'s' if load.users != 1 else ''}"
        spawn = f" (spawn {load.spawn_rate:g}/s)" if load.spawn_rate else ""
        return f"closed loop: {users}{spawn}{thinking}, {length}"
    if load.mode == "open":
        return f"open loop: {load.rate:g} req/s {load.arrival}, max {load.max_in_flight} in flight, {length}"
    if load.mode == "burst":
        return f"burst: {load.burst_requests} requests at once"
    key = "rate" if load.stages_are_rate else "users"
    steps = "→".join(f"{getattr(s, key):g}" for s in load.stages)
    return f"stages of {key}: 0→{steps} over {length}"


def describe_requests(config: RunConfig) -> str:
    parts = []
    for r in config.requests:
        if r.kind == "chat":
            parts.append(f"chat{' (stream)' if r.stream else ''} max_tokens {r.max_tokens}")
        else:
            parts.append(r.kind)
    thresholds = "; ".join(
        f"{m} {' '.join(t.threshold + (' (abort)' if t.abort_on_fail else '') for t in e)}"
        for m, e in config.thresholds.items()
    )
    return " + ".join(parts) + (f" · thresholds: {thresholds}" if thresholds else "")


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
