"""Live control changes and the timeline a run records of them.

The same ``ControlChange`` flows from a key press in the app, a ``--control-file`` entry or a
replayed run file into the coordinator, and is written into the run's ``controls`` timeline with
its offset from the start, so a replay can apply it again at the same moment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from loadtui.model.durations import parse_duration, parse_range
from loadtui.model.plan import MAX_RATE, MAX_USERS, LoadSpec

__all__ = ["ACTIONS", "ControlChange", "parse_control", "refusal"]

ACTIONS = ("users", "rate", "think_time", "pause", "resume", "stop", "search")


@dataclass(frozen=True, slots=True)
class ControlChange:
    """One change to a running engine. ``value`` is users (int), rate (float, requests/s: the
    arrival rate in open loop, a cap over all users in closed loop, where 0 lifts the cap), think
    time (low, high) seconds, or None for pause/resume/stop."""

    action: str
    value: Any = None
    at: float | None = None
    """Offset in seconds from the run's start: when to apply it (scheduled) or when it was applied."""
    source: str = "live"


def parse_control(raw: object, *, source: str) -> ControlChange:
    """Validate one control entry (from a control file or a run file's timeline).

    Its ``source`` becomes ``source`` (``control-file``, ``replay``): a recorded ``live`` change
    applied again by a replay is the replay's doing, as docs/run-format.md says."""
    if not isinstance(raw, dict):
        raise ValueError(f"a control change must be a table, got a {type(raw).__name__}")
    unknown = set(raw) - {"action", "value", "at", "source"}
    if unknown:
        raise ValueError(f"unknown key(s) in control change: {', '.join(sorted(unknown))}")
    action = raw.get("action")
    if not isinstance(action, str) or action not in ACTIONS:
        shown = repr(action)[:40] if isinstance(action, str) else f"a {type(action).__name__}"
        raise ValueError(f"control action must be one of {', '.join(ACTIONS)}, got {shown}")
    if "at" not in raw:
        raise ValueError(f"control change {action!r} needs 'at' (offset from the start, e.g. 5s)")
    at = parse_duration(raw["at"])
    return ControlChange(
        action=action, value=_value(action, raw.get("value")), at=at, source=source
    )


def _value(action: str, value: object) -> int | float | str | tuple[float, float] | None:
    """A control's value, checked for its action."""
    if action == "users":
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_USERS:
            raise ValueError(f"'users' needs a whole number ≥ 0 (at most {MAX_USERS:,})")
        return value
    if action == "rate":
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or not isinstance(value, int | float) or not 0 <= value <= MAX_RATE:
            raise ValueError(f"'rate' needs a number ≥ 0 (at most {MAX_RATE:,.0f})")  # and nan
        return float(value)
    if action == "think_time":
        return parse_range(value)
    if action == "search":
        return _steer(value)
    if value is not None:
        raise ValueError(f"{action!r} takes no value")
    return None


def _steer(value: object) -> str:
    """A capacity search's steering value: hold, skip, back, accept, or step:FACTOR."""
    steer = ("hold", "skip", "back", "accept")
    if isinstance(value, str) and value in steer:
        return value
    if isinstance(value, str) and value.startswith("step:"):
        try:
            factor = float(value[5:])
        except ValueError:
            factor = 0.0
        if 1.0 < factor <= 10.0:
            return value
    raise ValueError("'search' needs hold, skip, back, accept or step:F (1 < F ≤ 10)")


def refusal(load: LoadSpec, action: str) -> str | None:
    """Why a change of ``action`` cannot apply to a run of ``load``, or None when it can. The
    one rule for a control file (refused before any load) and a live or replayed change
    (refused with a message, not applied): a run must never accept a change and ignore it."""
    if load.mode == "trace" and action in ("users", "think_time", "rate"):
        return (
            "cannot apply: a trace run's arrivals follow the trace (--trace-speedup sets its pace)"
        )
    if action in ("users", "think_time"):
        if load.open_loop:
            return "has no effect in an open-loop run (arrivals per second); use 'rate'"
        if load.mode == "burst":
            return "has no effect in a burst (its requests all start at once)"
    if action == "rate" and load.mode == "burst":
        return (
            "has no effect in a burst (its requests all start at once): a rate means arrivals "
            "per second in open loop and a cap on the users' pace in closed loop"
        )
    return None
