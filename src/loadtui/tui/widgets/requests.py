"""The Requests tab: per request label, checks and proxy overhead — the same tables as the
headless summary (``headless.sections``), from the frame's whole-run summary."""

from __future__ import annotations

from rich.console import Group
from textual.reactive import reactive
from textual.widgets import Static

from loadtui.headless.sections import workflow_sections
from loadtui.tui.frame import Frame

__all__ = ["RequestsPanel"]


class RequestsPanel(Static):
    frame: reactive[Frame | None] = reactive(None, always_update=True)

    def watch_frame(self, frame: Frame | None) -> None:
        if frame is None:
            return
        sections = workflow_sections(frame.totals)
        if sections:
            self.update(Group(*sections))
        else:
            self.update("one kind of request, no checks: everything is on the Overview tab")
