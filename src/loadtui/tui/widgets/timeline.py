"""The run's control timeline: every live change, when it landed and where it came from."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import DataTable

from loadtui.model.controls import ControlChange
from loadtui.tui.format import clock

__all__ = ["Timeline", "describe"]


def describe(change: ControlChange) -> str:
    action, value = change.action, change.value
    if action == "users":
        return f"users → {value}"
    if action == "rate" and not value and change.source == "search":
        return "rate → 0/s (drain)"  # a capacity search empties the queue after a failed step
    if action == "rate":
        return f"rate → {value:g}/s" if value else "rate cap lifted"
    if action == "think_time":
        lo, hi = value
        return f"think time → {lo:g}–{hi:g}s"
    if action == "search":  # steering a capacity search: hold, skip, back, accept, step:F
        steer = str(value)
        return f"search step ×{steer[5:]}" if steer.startswith("step:") else f"search: {steer}"
    return action


class Timeline(DataTable[str | Text]):
    controls: reactive[tuple[ControlChange, ...]] = reactive((), always_update=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self._shown = 0

    def on_mount(self) -> None:
        self.add_column("at", width=9)
        self.add_column("change", width=24)
        self.add_column("source", width=8)

    def watch_controls(self, controls: tuple[ControlChange, ...]) -> None:
        if not self.is_mounted:
            return
        if len(controls) < self._shown:
            self.clear()
            self._shown = 0
        for change in controls[self._shown :]:  # append only: cost per new change, not per frame
            at = change.at or 0.0
            # a run file may hold anything: its strings are shown as text, never as markup
            self.add_row(
                f"{clock(at)}.{int(at * 10) % 10}",
                Text(describe(change)),
                Text(change.source),
            )
        self._shown = len(controls)
