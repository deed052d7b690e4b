"""The run's one-line header: phase, clock, users and rate (what was asked, what is running)."""

from __future__ import annotations

from textual.reactive import reactive
from textual.widgets import Static

from loadtui.tui.format import clock, count, rate
from loadtui.tui.frame import Frame

__all__ = ["RunStatus"]

_PHASE_CLASS = {
    "running": "-running",
    "paused": "-paused",
    "starting": "-starting",
    "stopping": "-paused",
    "completed": "-done",
    "interrupted": "-paused",
    "failed": "-failed",
}


class RunStatus(Static):
    frame: reactive[Frame | None] = reactive(None, always_update=True)
    asked_users: reactive[int | None] = reactive(None)
    """Set by the screen the moment a key changes users, before the engine confirms it."""
    asked_rate: reactive[float | None] = reactive(None)
    title: reactive[str] = reactive("")

    def watch_frame(self, frame: Frame | None) -> None:
        if frame is not None:  # colour by phase here, not in render (render only draws)
            for cls in set(_PHASE_CLASS.values()):
                self.set_class(_PHASE_CLASS.get(frame.phase) == cls, cls)

    def render(self) -> str:
        f = self.frame
        if f is None:
            return self.title
        parts = [
            f"[b]{f.phase.upper()}[/b]",
            self.title,
            f"{clock(f.elapsed)} / {clock(f.duration)}",
        ]
        if f.mode != "burst":
            users = f"users {count(f.users)}"
            want = self.asked_users if self.asked_users is not None else f.target_users
            if not f.open_loop:
                users += f"→{count(want)}"
            parts.append(users)
            want_rate = self.asked_rate if self.asked_rate is not None else f.target_rate
            if f.open_loop or want_rate:
                label = "rate" if f.open_loop else "rate cap"
                parts.append(f"{label} {rate(want_rate)}/s")
        return " · ".join(p for p in parts if p)
