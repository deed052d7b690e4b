"""One saved run: its final tables, charts, health, thresholds and control timeline — and a
capacity search's curve — drawn by the same widgets as a live run, from ``frame_from_record``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, TabbedContent, TabPane

from loadtui.model.record import RunRecord
from loadtui.run.frame import frame_from_record
from loadtui.tui.screens.failures import FailureScreen
from loadtui.tui.screens.history import HistoryScreen, headless_command, show_command
from loadtui.tui.widgets.capacity import CapacityPanel
from loadtui.tui.widgets.overview import RunOverview
from loadtui.tui.widgets.requests import RequestsPanel
from loadtui.tui.widgets.status import RunStatus
from loadtui.tui.widgets.timeline import Timeline

__all__ = ["DetailScreen"]

_TABS = Binding.Group("tabs", compact=True)


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
        Binding(
            "e",
            "failures",
            "failures",
            show=False,  # the footer is full at 80 columns: F1 lists it (docs/tui.md)
            id="detail.failures",
            tooltip="Each error class and the responses kept as its samples",
        ),
        Binding("escape", "back", "back", id="detail.back", tooltip="Back to history"),
        *(
            Binding(
                key,
                f"tab('{pane}')",
                label,
                id=f"detail.tab_{label.lower()}",
                tooltip=f"Show the {label} tab",
                group=_TABS,
            )
            for key, pane, label in (
                ("1", "tab-overview", "Overview"),
                ("2", "tab-requests", "Requests"),
                ("3", "tab-timeline", "Timeline"),
                ("4", "tab-capacity", "Capacity"),
            )
        ),
    ]

    def __init__(self, run: RunRecord, path: Path, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.run, self.path = run, path

    def compose(self) -> ComposeResult:
        yield RunStatus(id="run-status")
        with TabbedContent(id="detail-tabs"):
            with TabPane("1 Overview", id="tab-overview"):
                yield RunOverview(id="overview")
            with TabPane("2 Requests", id="tab-requests"), VerticalScroll():
                yield RequestsPanel(id="requests")
            with TabPane("3 Timeline", id="tab-timeline"):
                yield Timeline(id="timeline")
            if self.run.search is not None:  # the curve, as the Capacity tab drew it live
                with TabPane("4 Capacity", id="tab-capacity"):
                    yield CapacityPanel(self.run.search, id="capacity")
        yield Footer(compact=True)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The Capacity tab's key only for a run with a capacity search."""
        capacity_tab = action == "tab" and parameters == ("tab-capacity",)
        return self.run.search is not None or not capacity_tab

    def on_mount(self) -> None:
        frame = frame_from_record(self.run)
        status = self.query_one(RunStatus)
        status.title = f"{self.run.preset or 'custom'} · {self.run.id}"
        status.frame = frame
        self.query_one(RunOverview).frame = frame
        self.query_one(Timeline).controls = frame.controls
        self.query_one(RequestsPanel).frame = frame

    def action_replay(self) -> None:
        self.post_message(HistoryScreen.ReplayRun(self.run, self.path))

    def action_command(self) -> None:
        show_command(self, headless_command(self.run))

    def action_failures(self) -> None:
        self.app.push_screen(FailureScreen(self.run.summary.errors, self.run.error_samples))

    def action_tab(self, pane: str) -> None:
        self.query_one(TabbedContent).active = pane

    def action_back(self) -> None:
        self.app.pop_screen()
