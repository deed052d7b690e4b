"""Saved runs, newest first: open one, replay it, compare two.

Run files are read on a worker thread so a data dir with hundreds of runs never freezes the UI.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from loadtui.storage.runfile import list_runs
from loadtui.tui.format import count, ms, rate

__all__ = ["HistoryScreen", "headless_command", "history_row"]


def headless_command(run: dict[str, Any]) -> str:
    """The command that replays ``run`` headlessly (the target URL only if it was not the mock)."""
    cmd = f"loadtui replay {shlex.quote(run['id'])} --headless"
    target = run.get("target", {})
    if target.get("url") and not target.get("embedded_mock"):
        cmd += f" --url {shlex.quote(target['url'])}"
    return cmd


def history_row(run: dict[str, Any]) -> tuple[str, ...]:
    s = run.get("summary", {})
    lat = s.get("metrics", {}).get("latency_ms", {})
    ttft = s.get("metrics", {}).get("ttft_ms", {})
    target = run.get("target", {})
    where = "mock" if target.get("embedded_mock") else target.get("url", "?").split("://")[-1]
    return (
        run.get("started_at", "?")[:16].replace("T", " "),
        run.get("preset") or "custom",
        where[:24],
        run.get("status", "?"),
        count(s.get("requests", 0)),
        f"{100 * s.get('error_rate', 0):.1f}%",
        rate(s.get("rps")),
        ms(lat.get("p95")) if lat.get("count") else "—",
        ms(ttft.get("p95")) if ttft.get("count") else "—",
    )


class HistoryScreen(Screen[None]):
    BINDINGS = [
        Binding(
            "enter",
            "open",
            "open",
            id="history.open",
            tooltip="Show the run's final tables and charts",
        ),
        Binding("space", "mark", "mark", id="history.mark", tooltip="Mark a run to compare"),
        Binding(
            "c",
            "compare",
            "compare",
            id="history.compare",
            tooltip="Compare the marked run with this one",
        ),
        Binding(
            "r",
            "replay",
            "replay",
            id="history.replay",
            tooltip="Replay this run here, with its live changes",
        ),
        Binding(
            "y",
            "command",
            "cmd",
            id="history.command",
            tooltip="Show (and copy) the headless replay command",
        ),
        Binding("escape", "back", "back", id="history.back", tooltip="Back"),
    ]

    class OpenRun(Message):
        def __init__(self, run: dict[str, Any], path: Path) -> None:
            super().__init__()
            self.run, self.path = run, path

    class CompareRuns(Message):
        def __init__(self, a: dict[str, Any], b: dict[str, Any]) -> None:
            super().__init__()
            self.a, self.b = a, b

    class ReplayRun(Message):
        def __init__(self, run: dict[str, Any], path: Path) -> None:
            super().__init__()
            self.run, self.path = run, path

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.runs: dict[str, tuple[Path, dict[str, Any]]] = {}
        self.marked: str | None = None

    def compose(self) -> ComposeResult:
        yield Static(
            "[b]History[/b] — saved runs, newest first (`loadtui runs` prints where they live)",
            id="history-title",
        )
        yield DataTable(id="runs", cursor_type="row", zebra_stripes=True)
        yield Static("loading…", id="history-hint")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column(" ", key="mark", width=1)
        for label in (
            "started (UTC)",
            "preset",
            "target",
            "status",
            "requests",
            "errors",
            "req/s",
            "p95 ms",
            "TTFT p95",
        ):
            table.add_column(label, key=label)
        self.load()

    @work(thread=True, exclusive=True)
    def load(self) -> None:
        runs = list_runs()
        self.app.call_from_thread(self._fill, runs)

    def _fill(self, runs: list[tuple[Path, dict[str, Any]]]) -> None:
        table = self.query_one(DataTable)
        table.clear()
        self.runs = {}
        for path, run in runs:
            self.runs[run["id"]] = (path, run)
            table.add_row("", *history_row(run), key=run["id"])
        hint = self.query_one("#history-hint", Static)
        if runs:
            hint.update(
                f"{len(runs)} runs · enter open · space mark · c compare · r replay · y headless command"
            )
        else:
            hint.update("no saved runs yet: start one from the setup screen (F3)")
        table.focus()

    def refresh_runs(self) -> None:
        self.load()

    def _current(self) -> tuple[Path, dict[str, Any]] | None:
        table = self.query_one(DataTable)
        if not self.runs or table.cursor_row < 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.runs.get(key or "")

    @on(DataTable.RowSelected)
    def action_open(self) -> None:
        current = self._current()
        if current:
            self.post_message(self.OpenRun(current[1], current[0]))

    def action_mark(self) -> None:
        current = self._current()
        if not current:
            return
        table = self.query_one(DataTable)
        if self.marked in self.runs:
            table.update_cell(self.marked, "mark", "")
        run_id = current[1]["id"]
        self.marked = None if self.marked == run_id else run_id
        if self.marked:
            table.update_cell(run_id, "mark", "●")
            self.notify(f"marked {run_id}: move to another run and press c to compare", timeout=4)

    def action_compare(self) -> None:
        current = self._current()
        if not current:
            return
        if not self.marked or self.marked == current[1]["id"]:
            self.notify(
                "mark a run with space first, then press c on the other one", severity="warning"
            )
            return
        self.post_message(self.CompareRuns(self.runs[self.marked][1], current[1]))

    def action_replay(self) -> None:
        current = self._current()
        if current:
            self.post_message(self.ReplayRun(current[1], current[0]))

    def action_command(self) -> None:
        current = self._current()
        if current:
            cmd = headless_command(current[1])
            self.app.copy_to_clipboard(cmd)
            self.notify(cmd, title="headless replay (copied)", timeout=15)

    def action_back(self) -> None:
        self.app.pop_screen()
