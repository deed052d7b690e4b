"""One saved run: its final tables, charts, health, thresholds and control timeline — drawn by
the same widgets as a live run, from ``frame_from_run``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, TabbedContent, TabPane

from loadtui.tui.frame import frame_from_run
from loadtui.tui.screens.history import HistoryScreen, headless_command, show_command
from loadtui.tui.widgets.overview import RunOverview
from loadtui.tui.widgets.requests import RequestsPanel
from loadtui.tui.widgets.status import RunStatus
from loadtui.tui.widgets.timeline import Timeline

__all__ = ["DetailScreen"]


class DetailScreen(Screen[None]):
    BINDINGS = [
        Binding(
            "r",
            "replay",
            "replay",
            id="detail.replay",
            tooltip="Replay this run here, with its live changes",
        ),
        Binding(
            "y",
            "command",
            "cmd",
            id="detail.command",
            tooltip="Show the headless replay command (and offer it to the clipboard)",
        ),
        Binding("escape", "back", "back", id="detail.back", tooltip="Back to history"),
    ]

    def __init__(self, run: dict[str, Any], path: Path, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.run, self.path = run, path

    def compose(self) -> ComposeResult:
        yield RunStatus(id="run-status")
        with TabbedContent():
            with TabPane("Overview"):
                yield RunOverview(id="overview")
            with TabPane("Requests"), VerticalScroll():
                yield RequestsPanel(id="requests")
            with TabPane("Timeline"):
                yield Timeline(id="timeline")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        frame = frame_from_run(self.run)
        status = self.query_one(RunStatus)
        status.title = f"{self.run.get('preset') or 'custom'} · {self.run['id']}"
        status.frame = frame
        self.query_one(RunOverview).frame = frame
        self.query_one(Timeline).controls = frame.controls
        self.query_one(RequestsPanel).frame = frame

    def action_replay(self) -> None:
        self.post_message(HistoryScreen.ReplayRun(self.run, self.path))

    def action_command(self) -> None:
        show_command(self, headless_command(self.run))

    def action_back(self) -> None:
        self.app.pop_screen()
