"""The run's one-line header: phase, clock, users and rate (what was asked, what is running).

The most useful figures come first and the title (a preset name, ``replay of <id>``) last, so
at 80 columns it is the title that gets cut, never the users or the rate. Once a run is over,
its figures say what they were (peak users, the time it took) rather than a live ``0→50``.
"""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from loadtui.run.frame import LiveFrame
from loadtui.tui.format import clock, count, rate

__all__ = ["RunStatus", "status_parts"]

_PHASE_CLASS = {
    "running": "-running",
    "paused": "-paused",
    "starting": "-starting",
    "stopping": "-paused",
    "completed": "-done",
    "stopped": "-done",
    "interrupted": "-paused",
    "failed": "-failed",
}
_LIVE = ("starting", "running", "paused", "stopping")


def _clock(f: LiveFrame) -> str:
    if f.mode == "burst" or not f.duration:
        return clock(f.elapsed)  # a burst has no planned length: just how long it has taken
    if f.until_budget:
        return f"{clock(f.elapsed)} · until {f.budget:,} requests are answered"
    if f.elapsed > f.duration + 0.5:
        return f"{clock(f.elapsed)} (planned {clock(f.duration)} + drain)"
    return f"{clock(f.elapsed)} / {clock(f.duration)}"


def status_parts(
    f: LiveFrame, asked_users: int | None = None, asked_rate: float | None = None, note: str = ""
) -> list[str]:
    """The header's figures after the phase, most useful first (the title is added last)."""
    parts = [_clock(f)]
    live = f.phase in _LIVE
    if live and f.warmup_left > 0:
        parts.append(f"warming up, {f.warmup_left:.0f}s left (not in the figures)")
    if f.mode == "burst":
        parts.append("burst")
    elif not live:
        parts.append(f"peak users {count(f.peak_users or f.users)}")
    else:
        users = f"users {count(f.users)}"
        want = asked_users if asked_users is not None else f.target_users
        if not f.open_loop:
            users += f"→{count(want)}"
        parts.append(users)
    if f.mode != "burst" and live:
        want_rate = asked_rate if asked_rate is not None else f.target_rate
        if f.open_loop or want_rate:
            label = "rate" if f.open_loop else "rate cap"
            parts.append(f"{label} {rate(want_rate)}/s")
    if note and live:
        parts.append(note)
    return parts


class RunStatus(Static):
    frame: reactive[LiveFrame | None] = reactive(None, always_update=True)
    asked_users: reactive[int | None] = reactive(None)
    """Set by the screen the moment a key changes users, before the engine confirms it."""
    asked_rate: reactive[float | None] = reactive(None)
    title: reactive[str] = reactive("")
    note: reactive[str] = reactive("")
    """A short live remark, e.g. that a staged run's next stage will replace a change."""

    def watch_frame(self, frame: LiveFrame | None) -> None:
        if frame is not None:  # colour by phase here, not in render (render only draws)
            for cls in set(_PHASE_CLASS.values()):
                self.set_class(_PHASE_CLASS.get(frame.phase) == cls, cls)

    def render(self) -> Content:
        f = self.frame
        if f is None:
            return Content(self.title)
        rest = status_parts(f, self.asked_users, self.asked_rate, self.note)
        return Content.from_markup(
            "[b]$phase[/b] · $rest",
            phase=f.phase.upper(),
            rest=" · ".join(p for p in [*rest, self.title] if p),
        )
