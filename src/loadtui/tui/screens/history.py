"""Saved runs, newest first: open one, replay it, compare two, delete one (after a yes).

Run files are read on a worker thread so a data dir with hundreds of runs never freezes the UI.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.events import Resize
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from loadtui.errors import LoadtuiError
from loadtui.model.durations import format_duration
from loadtui.model.record import RunRecord
from loadtui.storage.removal import Removal, apply, plan_rm
from loadtui.storage.runfile import ListedRun, scan_records
from loadtui.tui.format import count, ms, rate
from loadtui.tui.screens.confirm import ConfirmScreen

__all__ = ["COLUMNS", "HistoryScreen", "headless_command", "history_columns", "history_row"]


def headless_command(run: RunRecord) -> str:
    """The command that replays ``run`` headlessly, shell-quoted. A replay goes to the recorded
    target by itself; the command never adds ``--url`` with the file's own target, which would
    wave through the check that a file this machine did not write names a host you chose."""
    return f"loadtui replay {shlex.quote(run.id)} --headless"


COLUMNS = (
    ("started", "started (UTC)"),
    ("run", "preset"),
    ("target", "target"),
    ("status", "status"),
    ("users", "users"),
    ("duration", "length"),
    ("requests", "requests"),
    ("errors", "err%"),
    ("rps", "req/s"),
    ("p95", "p95 ms"),
    ("ttft", "TTFT p95"),
)
"""Every column ``history_row`` fills, in its order."""
NARROW = ("started", "run", "status", "users", "rps", "errors", "p95", "ttft")
"""What fits 80 columns without a sideways scroll: the figures people compare runs by."""
WIDE_FROM = 110
"""From this width the table has every column."""


def history_columns(width: int) -> list[tuple[str, str]]:
    """The columns to show in a terminal ``width`` cells wide."""
    if width >= WIDE_FROM:
        return list(COLUMNS)
    return [c for c in COLUMNS if c[0] in NARROW]


def history_row(run: RunRecord) -> tuple[str, ...]:
    """One run as text for every column of ``COLUMNS`` (a replay's preset is marked ↻)."""
    s = run.summary
    lat, ttft = s.metrics.latency_ms, s.metrics.ttft_ms
    target = run.target
    where = "mock" if target.embedded_mock else target.url.split("://")[-1]
    peak = run.peak_users  # a listing reads the head only: the series may be absent
    if peak is None:
        peak = max((p.users for p in run.series), default=0)
    return (
        run.started_at[:16].replace("T", " "),
        (run.preset or "custom") + (" ↻" if run.replay_of else ""),
        where[:24],
        run.status,
        count(peak),
        format_duration(s.duration_s or 0),
        count(s.requests),
        f"{100 * s.error_rate:.1f}%",
        rate(s.rps),
        ms(lat.p95) if lat.count else "—",
        ms(ttft.p95) if ttft.count else "—",
    )


def _cells(run: RunRecord, keys: list[str], narrow: bool) -> list[Text]:
    """Plain-text cells (a run file's strings are never markup); dates shortened when narrow."""
    values = dict(zip([k for k, _ in COLUMNS], history_row(run), strict=True))
    if narrow:
        values["started"] = values["started"][5:]  # MM-DD HH:MM
        name, mark = values["run"].removesuffix(" ↻"), values["run"].endswith(" ↻")
        values["run"] = name[:8] + " ↻" if mark else name[:10]  # the mark is never cut off
    return [Text(values[k]) for k in keys]


def show_command(screen: Screen[Any], cmd: str) -> None:
    """Show ``cmd`` and ask the terminal to copy it. Textual sends OSC 52 and cannot learn
    whether the terminal took it, so the message says what was done, not that it worked."""
    screen.app.copy_to_clipboard(cmd)
    screen.notify(
        f"{cmd}\n(clipboard: sent to the terminal via OSC 52 — pasted only if your terminal"
        " allows it; else copy it from here)",
        title="headless replay command",
        timeout=15,
        markup=False,
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
            tooltip="Show the headless replay command (and offer it to the clipboard)",
        ),
        Binding(
            "d,delete",
            "delete",
            "delete",
            id="history.delete",
            tooltip="Delete this run, after a yes (a run saved with --out is only forgotten)",
        ),
        Binding("escape", "back", "back", id="history.back", tooltip="Back"),
    ]

    class OpenRun(Message):
        """A listed run to open (its series is read then, off the UI thread, if not yet)."""

        def __init__(self, entry: ListedRun) -> None:
            super().__init__()
            self.entry = entry

    class CompareRuns(Message):
        """Two listed runs to compare (their series are read then, off the UI thread, if not
        yet: the rates' noise is judged from them)."""

        def __init__(self, a: ListedRun, b: ListedRun) -> None:
            super().__init__()
            self.a, self.b = a, b

    class ReplayRun(Message):
        def __init__(self, run: RunRecord, path: Path) -> None:
            super().__init__()
            self.run, self.path = run, path

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.runs: dict[str, ListedRun] = {}
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
        self._columns: list[str] = []
        self._set_columns(self.app.size.width)
        self.load()

    def on_resize(self, event: Resize) -> None:
        self._set_columns(event.size.width)

    def _set_columns(self, width: int) -> None:
        keys = [k for k, _ in history_columns(width)]
        if keys == self._columns:
            return
        self._columns = keys
        table = self.query_one(DataTable)
        table.clear(columns=True)
        table.add_column(" ", key="mark", width=1)
        for key, label in history_columns(width):
            table.add_column(label, key=key)
        if self.runs:
            self._fill(list(self.runs.values()), focus=False)

    @work(thread=True, exclusive=True)
    def load(self) -> None:
        runs, skipped = scan_records()
        self.app.call_from_thread(self._fill, runs)
        if skipped:  # named, never silently dropped (a broken or huge file, an odd id)
            shown = "\n".join(skipped[:3]) + (
                f"\n… and {len(skipped) - 3} more" if len(skipped) > 3 else ""
            )
            self.app.call_from_thread(
                self.notify,
                shown,
                title=f"{len(skipped)} run file(s) skipped",
                severity="warning",
                timeout=8,
                markup=False,
            )

    def _fill(self, runs: list[ListedRun], focus: bool = True) -> None:
        table = self.query_one(DataTable)
        table.clear()
        self.runs = {}
        narrow = "target" not in self._columns
        for entry in runs:
            run = entry.record
            self.runs[run.id] = entry
            mark = "●" if run.id == self.marked else ""
            table.add_row(mark, *_cells(run, self._columns, narrow), key=run.id)
        hint = self.query_one("#history-hint", Static)
        if runs:
            hint.update(
                f"{len(runs)} runs · ↻ replay · enter open · space mark · c compare · r replay"
                " · y command · d delete"
            )
        else:
            hint.update("no saved runs yet: start one from the setup screen (F3)")
        if focus:
            table.focus()

    def refresh_runs(self) -> None:
        self.load()

    def _current(self) -> ListedRun | None:
        table = self.query_one(DataTable)
        if not self.runs or table.cursor_row < 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.runs.get(key or "")

    @on(DataTable.RowSelected)
    def action_open(self) -> None:
        current = self._current()
        if current:
            self.post_message(self.OpenRun(current))

    def action_mark(self) -> None:
        current = self._current()
        if not current:
            return
        table = self.query_one(DataTable)
        if self.marked in self.runs:
            table.update_cell(self.marked, "mark", "")
        run_id = current.record.id
        self.marked = None if self.marked == run_id else run_id
        if self.marked:
            table.update_cell(run_id, "mark", "●")
            self.notify(
                f"marked {run_id}: move to another run and press c to compare",
                timeout=4,
                markup=False,
            )

    def action_compare(self) -> None:
        current = self._current()
        if not current:
            return
        if not self.marked or self.marked == current.record.id:
            self.notify(
                "mark a run with space first, then press c on the other one", severity="warning"
            )
            return
        self.post_message(self.CompareRuns(self.runs[self.marked], current))

    def action_replay(self) -> None:
        current = self._current()
        if current:
            self.post_message(self.ReplayRun(current.record, current.path))

    def action_command(self) -> None:
        current = self._current()
        if current:
            show_command(self, headless_command(current.record))

    def action_delete(self) -> None:
        """Ask, then remove the run under the cursor as ``loadtui runs rm`` does: a file in the
        runs folder is deleted, a run saved with ``--out`` is only forgotten (its file kept)."""
        current = self._current()
        if current is None:
            return
        if current.record.status == "running" and getattr(self.app, "run_is_live", False):
            self.notify("a run is in progress: it may be this one; stop it first", markup=False)
            return
        try:
            (removal,) = plan_rm([str(current.path)])
        except LoadtuiError as exc:  # changed or broken since it was listed
            self.notify(str(exc), title="cannot delete", severity="error", markup=False)
            return

        def answer(yes: bool | None) -> None:
            if yes:
                self._remove(removal)

        self.app.push_screen(ConfirmScreen(_delete_question(removal), default=False), answer)

    def _remove(self, removal: Removal) -> None:
        failed = apply([removal])
        if removal.path in failed:
            self.notify(
                f"{removal.path}: {failed[removal.path]}",
                title="cannot delete",
                severity="error",
                markup=False,
            )
        else:
            done = "deleted" if removal.delete else "forgot (its file is kept)"
            self.notify(f"{done}: {removal.run_id}", timeout=4, markup=False)
        if self.marked == removal.run_id:
            self.marked = None
        self.load()

    def action_back(self) -> None:
        self.app.pop_screen()


def _delete_question(removal: Removal) -> str:
    """What the confirmation says will happen, naming the run and its file."""
    if removal.delete:
        return f"Delete run {removal.run_id}?\n\nIts file is deleted: {removal.path}"
    return (
        f"Forget run {removal.run_id}?\n\nIt was saved outside the runs folder (--out), at "
        f"{removal.path}: that file is kept, the run is no longer listed "
        "(loadtui runs rm --files deletes the file too)."
    )
