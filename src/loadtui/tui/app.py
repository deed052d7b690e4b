"""The Textual app: it wires screens together.

Screens post messages about what happened (a start was asked, a run was saved, a run was picked
in history); the app answers by pushing the next screen, and asks before quitting a live run.
The run itself — one at a time, saved as interrupted on quit or SIGTERM/SIGHUP, the watchdog —
is ``lifecycle.RunLifecycle``'s; the run's thread is ``bridge``'s.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from loadtui.errors import LoadtuiError
from loadtui.model.controls import ControlChange
from loadtui.model.plan import RunConfig
from loadtui.run.metrics_server import MetricsServer
from loadtui.run.options import Overrides, default_api_key
from loadtui.storage.runfile import (
    ListedRun,
    load_listed_record,
    load_record_checked,
    run_config,
    run_controls,
)
from loadtui.storage.trust import key_destinations
from loadtui.tui.bridge import RunBridge
from loadtui.tui.lifecycle import RunLifecycle
from loadtui.tui.screens.compare import CompareScreen
from loadtui.tui.screens.confirm import ConfirmScreen
from loadtui.tui.screens.detail import DetailScreen
from loadtui.tui.screens.help import HelpScreen
from loadtui.tui.screens.history import HistoryScreen
from loadtui.tui.screens.run import RunScreen
from loadtui.tui.screens.setup import SetupScreen
from loadtui.tui.settings import Settings
from loadtui.tui.themes import load_themes

__all__ = ["LoadtuiApp", "StartNow"]


@dataclass
class StartNow:
    """A run to start as soon as the app opens (``--start``, ``loadtui replay X``)."""

    config: RunConfig
    api_key: str | None = None
    schedule: list[ControlChange] | None = None
    replay_of: str | None = None
    out: Path | None = None
    """Where to write the run file (``--out``); the data dir when None."""
    record_requests: Path | None = None
    """``--record-requests``: one JSON line per request to this file."""


def _hosts(urls: list[str]) -> list[str]:
    """``host:port`` of each URL, without any ``user:password@``, each once."""
    hosts: list[str] = []
    for url in urls:
        host = urlsplit(url).netloc.rpartition("@")[2] or url
        if host not in hosts:
            hosts.append(host)
    return hosts


class LoadtuiApp(App[list[str]]):
    TITLE = "loadtui"
    CSS_PATH = [
        "css/app.tcss",
        "css/setup.tcss",
        "css/run.tcss",
        "css/history.tcss",
        "css/dialogs.tcss",
    ]
    BINDINGS = [
        Binding("f1", "help", "help", id="app.help", tooltip="Every key on this screen"),
        Binding(
            "question_mark",
            "help",
            "help",
            show=False,
            id="app.help_q",
            tooltip="Every key on this screen",
        ),
        Binding(
            "f2",
            "history",
            "runs",
            id="app.history",
            tooltip="Saved runs: open, compare, replay",
        ),
        Binding("f3", "new_run", "new", id="app.new_run", tooltip="New run: back to setup"),
        Binding(
            "ctrl+q",
            "quit",
            "quit",
            id="app.quit",
            tooltip="Quit (asks first during a run)",
            priority=True,
        ),
        Binding(
            "ctrl+c",
            "quit",
            "quit",
            show=False,
            id="app.quit_c",
            tooltip="Quit (asks first during a run)",
            priority=True,
        ),
    ]

    def __init__(
        self,
        prefill: Overrides | None = None,
        api_key: str | None = None,
        start: StartNow | None = None,
        settings: Settings | None = None,
        metrics: MetricsServer | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.runs = RunLifecycle(metrics)
        self.prefill, self.api_key, self.start_now = prefill, api_key, start
        self.settings = settings or Settings.load()

    @property
    def bridge(self) -> RunBridge | None:
        """The newest run's bridge (a test may set a stand-in)."""
        return self.runs.bridge

    @bridge.setter
    def bridge(self, bridge: RunBridge | None) -> None:
        self.runs.bridge = bridge

    @property
    def saved(self) -> list[str]:
        """Paths of the runs saved while the app was open: printed after it closes."""
        bridge = self.runs.bridge
        if bridge is not None and bridge.path is not None:  # saved; its screen may not know yet
            self.runs.remember(str(bridge.path))
        return self.runs.saved

    @property
    def interrupted_by(self) -> str | None:
        """``quit`` or a signal's name when the app ended a live run (or a signal ended it)."""
        return self.runs.interrupted_by

    def on_mount(self) -> None:
        themes, problems = load_themes()
        for theme in themes:
            self.register_theme(theme)
        self.theme = (
            self.settings.theme if self.settings.theme in self.available_themes else "loadtui-dark"
        )
        for problem in problems:
            self.notify(problem, severity="warning", markup=False)
        self.runs.catch_signals(asyncio.get_running_loop(), self._on_signal)
        self.push_screen(SetupScreen(self.settings.recent_targets, self.prefill, self.api_key))
        if self.start_now:
            s = self.start_now
            self.start_run(s.config, s.api_key, s.schedule, s.replay_of, s.out, s.record_requests)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # one run at a time: the footer drops "new run" until the live one is saved
        return not (action == "new_run" and self.run_is_live)

    def watch_theme(self, theme: str) -> None:
        if theme.startswith("loadtui-") or theme in self.available_themes:
            self.settings.theme = theme
            self.settings.save()

    # -- runs ----------------------------------------------------------------------------
    @property
    def run_is_live(self) -> bool:
        return self.runs.live

    def start_run(
        self,
        config: RunConfig,
        api_key: str | None = None,
        schedule: list[ControlChange] | None = None,
        replay_of: str | None = None,
        out: Path | None = None,
        record_requests: Path | None = None,
    ) -> None:
        bridge = self.runs.begin(config, api_key, schedule, replay_of, out, record_requests)
        if bridge is None:
            self.notify("a run is in progress: stop it (x) first", severity="warning")
            return
        title = f"{'replay of ' + replay_of if replay_of else config.preset or 'custom'}"
        self.push_screen(RunScreen(bridge, title))

    def on_setup_screen_start_requested(self, event: SetupScreen.StartRequested) -> None:
        self.settings.remember_target(event.config.target.url or "", event.api_key)
        self.settings.save()
        self.start_run(event.config, event.api_key)

    def on_run_screen_saved(self, event: RunScreen.Saved) -> None:
        self.runs.remember(event.path)

    def on_history_screen_open_run(self, event: HistoryScreen.OpenRun) -> None:
        self._open_run(event.entry)

    @work(thread=True, exclusive=True, group="open-run")
    def _open_run(self, entry: ListedRun) -> None:
        """History lists only a file's head; the detail screen draws the whole run, read here
        off the UI thread (a day-long run file takes a second or two)."""
        try:
            whole = load_listed_record(entry)
        except LoadtuiError as exc:
            self.call_from_thread(
                self.notify, str(exc), title="cannot open", severity="error", markup=False
            )
            return
        self.call_from_thread(self.push_screen, DetailScreen(whole, entry.path))

    def on_history_screen_compare_runs(self, event: HistoryScreen.CompareRuns) -> None:
        self._compare_runs(event.a, event.b)

    @work(thread=True, exclusive=True, group="compare-runs")
    def _compare_runs(self, a: ListedRun, b: ListedRun) -> None:
        """Both runs whole (History lists a long file's head only), read off the UI thread."""
        try:
            runs = load_listed_record(a), load_listed_record(b)
        except LoadtuiError as exc:
            self.call_from_thread(
                self.notify, str(exc), title="cannot compare", severity="error", markup=False
            )
            return
        self.call_from_thread(self.push_screen, CompareScreen(*runs))

    def on_history_screen_replay_run(self, event: HistoryScreen.ReplayRun) -> None:
        """Replay a saved run; a file this machine did not write that names a host (where the
        local API key would go) is replayed only after a yes naming the host(s)."""
        if self.run_is_live:
            self.notify("a run is in progress: stop it (x) first", severity="warning")
            return
        if any(isinstance(s, ConfirmScreen) for s in self.screen_stack):
            return  # one question at a time
        try:
            # read again, and judge the bytes that are replayed, not those listed earlier
            run, written_here = load_record_checked(event.path)
            config = run_config(run, event.path)
            schedule = run_controls(run, event.path)
        except LoadtuiError as exc:
            self.notify(str(exc), title="cannot replay", severity="error", markup=False)
            return
        hosts = _hosts(key_destinations(config))
        if written_here or not hosts:
            self.start_run(config, default_api_key(config), schedule, run.id)
            return

        def answer(yes: bool | None) -> None:
            if yes:
                self.start_run(config, default_api_key(config), schedule, run.id)

        question = (
            f"{event.path.name} was not written on this machine. Replaying it sends load and "
            f"your API key to {', '.join(hosts)}. Replay it?"
        )
        self.push_screen(ConfirmScreen(question), answer)

    # -- actions -------------------------------------------------------------------------
    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def action_history(self) -> None:
        if not isinstance(self.screen, HistoryScreen):
            self.push_screen(HistoryScreen())

    def action_new_run(self) -> None:
        if self.run_is_live:
            self.notify("a run is in progress: stop it (x) first", severity="warning")
            return
        while not isinstance(self.screen, SetupScreen) and len(self.screen_stack) > 2:
            self.pop_screen()

    async def action_quit(self) -> None:
        if not self.run_is_live:
            self.exit(self.saved)
            return
        if any(isinstance(s, ConfirmScreen) for s in self.screen_stack) or self.interrupted_by:
            return  # one question at a time: a second ctrl+c is not a second question

        def answer(yes: bool | None) -> None:
            if yes:
                self.run_worker(self._save_and_exit(None))

        self.push_screen(
            ConfirmScreen("A run is in progress. Quit and save it as interrupted?"), answer
        )

    def _on_signal(self, name: str) -> None:
        self.run_worker(self._save_and_exit(name))

    async def _save_and_exit(self, signal_name: str | None) -> None:
        if self.run_is_live:
            self.notify("saving the run…", timeout=30)
        await self.runs.end(signal_name)
        self.exit(self.saved)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand(
            "New run", "Back to setup: pick a preset and start", self.action_new_run
        )
        yield SystemCommand("History", "Saved runs: open, compare, replay", self.action_history)
        yield SystemCommand("Keys", "Every key on this screen", self.action_help)
        if isinstance(screen, RunScreen) and self.run_is_live:
            yield SystemCommand("Stop the run", "Stop the load, drain, save", screen.action_stop)
            yield SystemCommand("Pause or resume", "Hold or release the load", screen.action_pause)
            yield SystemCommand(
                "Set users, rate or think time", "Exact live value", screen.action_set_value
            )
