"""The app as a person uses it: Pilot drives real runs against the embedded mock; snapshots of
every screen fed fixed data (run files recorded once in tests/data); one tmux session that
types into the real ``loadtui`` command."""

from __future__ import annotations

import asyncio
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual.widgets import Input

from loadtui.model.plan import RunConfig
from loadtui.model.record import RunRecord
from loadtui.storage.presets import load_preset
from loadtui.storage.record import control_to_json, record_from_json
from loadtui.storage.runfile import list_runs
from loadtui.tui.app import LoadtuiApp, StartNow
from loadtui.tui.screens.compare import CompareScreen
from loadtui.tui.screens.confirm import ConfirmScreen
from loadtui.tui.screens.detail import DetailScreen
from loadtui.tui.screens.help import HelpScreen
from loadtui.tui.screens.history import HistoryScreen
from loadtui.tui.screens.run import RunScreen
from loadtui.tui.settings import Settings
from waits import keys
from waits import until as _until

DATA = Path(__file__).parents[1] / "data"


def _config(**load: Any) -> RunConfig:
    base = load_preset("baseline")
    return base.with_overrides(
        load={
            "mode": "closed",
            "users": 2,
            "spawn_rate": 0,
            "think_time": (0.05, 0.05),
            "duration": 60,
            **load,
        },
        mock={"latency": 0.01, "ttft": 0.02, "itl": 0.005, "tokens": 4},
        workers=1,
    )


@pytest.mark.slow
@pytest.mark.integration
def test_live_controls_land_in_the_saved_timeline() -> None:
    """Start a run, change users and rate, pause, resume, type an exact value, stop."""

    async def scenario() -> LoadtuiApp:
        app = LoadtuiApp(start=StartNow(_config()), settings=Settings())
        async with app.run_test(size=(100, 30)) as pilot:
            await _until(pilot, lambda: getattr(app.screen, "phase", "") == "running")
            screen = app.screen
            assert isinstance(screen, RunScreen)
            status = screen.query_one("#run-status")
            asked: list[tuple[int | None, int]] = []  # (asked users, controls the engine confirmed)
            screen.watch(
                status,
                "asked_users",
                lambda v: asked.append((v, len(screen._shown.controls))),
                False,
            )
            # keys, not pilot.press: its idle waits take up to 2 s a key during a live run
            keys(pilot, "w")  # 2 → 3 users
            # on screen at once, before the engine confirms (frames come every 0.5 s; a key
            # press on a loaded machine can take longer, so the moment it was shown is checked)
            await _until(pilot, lambda: asked)
            assert asked[0] == (3, 0)
            keys(pilot, "W", "s")  # 13, then 12
            await _until(pilot, lambda: len(app.bridge.frame.controls) >= 3)  # all confirmed
            keys(pilot, "r")  # closed loop: a rate cap, from the achieved rate
            await _until(pilot, lambda: len(app.bridge.frame.controls) >= 4)
            keys(pilot, "p")
            await _until(pilot, lambda: screen.phase == "paused")
            keys(pilot, "p")
            await _until(pilot, lambda: screen.phase == "running")
            keys(pilot, "equals_sign")
            await _until(pilot, lambda: isinstance(app.focused, Input))  # the dialog is up
            keys(pilot, *"users 4", "enter")
            await _until(pilot, lambda: len(app.bridge.frame.controls) >= 7)
            keys(pilot, "x")
            await _until(pilot, lambda: app.bridge.finished, timeout=30)
            await _until(pilot, lambda: app.saved)  # one redraw: the saved message reaches the app
            await pilot.press("ctrl+q")
        return app

    app = asyncio.run(scenario())
    assert app.bridge is not None and app.bridge.error is None
    run = app.bridge.run
    assert run is not None and run.status == "stopped"  # ended by x, not by the plan
    actions = [(c.action, c.value) for c in run.controls]
    assert [a for a, _ in actions] == [
        "users",
        "users",
        "users",
        "rate",
        "pause",
        "resume",
        "users",
        "stop",
    ]
    assert [v for a, v in actions if a == "users"] == [3, 13, 12, 4]
    assert actions[3][1] > 0
    offsets = [c.at for c in run.controls]
    assert offsets == sorted(offsets) and all(c.source == "live" for c in run.controls)
    saved = json.loads(Path(app.bridge.path).read_text())
    assert saved["controls"] == [control_to_json(c) for c in run.controls]
    assert max(p["users"] for p in saved["series"]) >= 12  # the engine really followed the keys
    assert app.saved == [str(app.bridge.path)]


@pytest.mark.slow
@pytest.mark.integration
def test_quitting_mid_run_asks_then_saves_it_as_interrupted() -> None:
    async def scenario() -> LoadtuiApp:
        app = LoadtuiApp(start=StartNow(_config()), settings=Settings())
        async with app.run_test(size=(80, 24)) as pilot:
            await _until(pilot, lambda: getattr(app.screen, "phase", "") == "running")
            keys(pilot, "ctrl+q")  # keys: no idle waits (up to 2 s a key during a live run)
            await _until(pilot, lambda: isinstance(app.screen, ConfirmScreen), timeout=5)
            keys(pilot, "n")  # changed my mind: the run goes on
            await _until(pilot, lambda: isinstance(app.screen, RunScreen), timeout=5)
            assert not app.bridge.finished
            keys(pilot, "ctrl+q")
            await _until(pilot, lambda: isinstance(app.screen, ConfirmScreen), timeout=5)
            keys(pilot, "y")
            await _until(pilot, lambda: app.bridge.finished, timeout=30)
            await _until(pilot, lambda: app.saved)
        return app

    app = asyncio.run(scenario())
    runs = list_runs()
    assert len(runs) == 1 and runs[0][1]["status"] == "interrupted"
    assert app.saved == [str(runs[0][0])]


# -- snapshots: every screen, fixed data --------------------------------------------------------


class FixedRun:
    """A run source that never runs: one fixed frame, for drawing the run screen."""

    def __init__(self, frame: Any) -> None:
        self.frame = frame
        self.messages: list[str] = []
        self.finished = False
        self.error = None
        self.path = None
        self.sent: list[Any] = []

    def start(self) -> None:
        pass

    def take(self) -> Any:
        return self.frame

    def send(self, change: Any) -> None:
        self.sent.append(change)


def _fixture_run(name: str = "run-a") -> dict[str, Any]:
    return json.loads((DATA / f"{name}.json").read_text())


def _fixture_record(name: str = "run-a") -> RunRecord:
    return record_from_json(_fixture_run(name))


def _live_frame() -> Any:
    from dataclasses import replace

    from loadtui.model.snapshot import UserRow
    from loadtui.run.frame import frame_from_record

    frame = frame_from_record(_fixture_record())
    states = [3, 3, 2, 4, 1, 5, 3, 4]
    rows = [
        UserRow(
            uid,
            states[uid % len(states)],
            0.1 * (uid % 7),
            180.0 + uid,
            200.0 + uid % 5,
            10 + uid,
            uid % 3,
        )
        for uid in range(40)
    ]
    return replace(
        frame,
        phase="running",
        elapsed=42.0,
        duration=150.0,
        users=40,
        target_users=50,
        in_flight=31,
        recent=frame.totals,
        window_s=10,
        users_rows=tuple(rows),
        cpu_now=37.0,
        lag_now_ms=1.2,
        warning=None,
    )


def _app(**settings: Any) -> LoadtuiApp:
    return LoadtuiApp(settings=Settings(**settings))


async def _show_run(pilot: Any, frame: Any = None) -> None:
    screen = RunScreen(FixedRun(frame or _live_frame()), "stress")  # type: ignore[arg-type]
    await pilot.app.push_screen(screen)
    await _until(pilot, lambda: screen.query_one("#run-status").frame is not None)


def test_snapshot_setup(snap_compare: Any) -> None:
    app = _app(recent_targets=["http://127.0.0.1:8000", "http://127.0.0.1:4000"])
    assert snap_compare(app, terminal_size=(80, 24))


def test_snapshot_run_80x24(snap_compare: Any) -> None:
    assert snap_compare(_app(), terminal_size=(80, 24), run_before=_show_run)


def test_snapshot_run_wide(snap_compare: Any) -> None:
    """A large terminal gets the per-user table beside the figures."""
    assert snap_compare(_app(), terminal_size=(160, 48), run_before=_show_run)


def test_snapshot_run_users_tab(snap_compare: Any) -> None:
    async def users_tab(pilot: Any) -> None:
        await _show_run(pilot)
        pilot.app.screen.query_one("#run-tabs").active = "tab-users"
        await pilot.pause()  # the switch itself is immediate; let the screen lay it out

    assert snap_compare(_app(), terminal_size=(80, 24), run_before=users_tab)


def test_snapshot_run_saturated_light_theme(snap_compare: Any) -> None:
    from dataclasses import replace

    frame = _live_frame()
    frame = replace(
        frame,
        cpu_now=97.0,
        warning="generator saturated: worker 0 CPU at 97%",
    )

    async def show(pilot: Any) -> None:
        await _show_run(pilot, frame)

    assert snap_compare(_app(theme="loadtui-light"), terminal_size=(80, 24), run_before=show)


def test_snapshot_help_high_contrast(snap_compare: Any) -> None:
    async def help_over_run(pilot: Any) -> None:
        await _show_run(pilot)
        await pilot.press("f1")
        await _until(pilot, lambda: isinstance(pilot.app.screen, HelpScreen))

    assert snap_compare(
        _app(theme="loadtui-high-contrast"), terminal_size=(100, 34), run_before=help_over_run
    )


def _seed_runs() -> None:
    runs = Path(os.environ["LOADTUI_DATA_DIR"]) / "runs"
    runs.mkdir(parents=True)
    for name in ("run-a", "run-b"):
        shutil.copy(DATA / f"{name}.json", runs / f"{name}.json")


async def _open_history(pilot: Any) -> None:
    """F2, then wait for the two seeded runs: history reads run files on a worker thread."""
    await pilot.press("f2")
    await _until(
        pilot,
        lambda: isinstance(pilot.app.screen, HistoryScreen) and len(pilot.app.screen.runs) == 2,
    )


def test_snapshot_history(snap_compare: Any) -> None:
    _seed_runs()

    async def history(pilot: Any) -> None:
        await _open_history(pilot)

    assert snap_compare(_app(), terminal_size=(100, 24), run_before=history)


def test_snapshot_run_detail(snap_compare: Any) -> None:
    _seed_runs()

    async def detail(pilot: Any) -> None:
        await _open_history(pilot)
        await pilot.press("down", "enter")
        await _until(pilot, lambda: isinstance(pilot.app.screen, DetailScreen))  # read on a thread

    assert snap_compare(_app(), terminal_size=(80, 24), run_before=detail)


def test_snapshot_compare(snap_compare: Any) -> None:
    _seed_runs()

    async def compare(pilot: Any) -> None:
        await _open_history(pilot)
        await pilot.press("space", "down", "c")
        await _until(pilot, lambda: isinstance(pilot.app.screen, CompareScreen))

    assert snap_compare(_app(), terminal_size=(80, 24), run_before=compare)


# -- tmux: the real command, keystrokes, the screen as text ---------------------------------


class Tmux:
    """One private tmux server (its own socket) running one command in an 80×24 pane."""

    def __init__(self, command: str) -> None:
        self.sock = f"loadtui-test-{os.getpid()}-{time.monotonic_ns()}"
        env = " ".join(
            f"{k}={os.environ[k]}"
            for k in ("LOADTUI_DATA_DIR", "LOADTUI_CONFIG_DIR")
            if k in os.environ
        )
        self.run(
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            "80",
            "-y",
            "24",
            f"env {env} TERM=xterm-256color {command}",
        )

    def run(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", "-L", self.sock, *args], capture_output=True, text=True, timeout=10, check=True
        ).stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "t")

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "t", *keys)

    def wait_for(self, text: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shown = self.screen()
            if text in shown:
                return shown
            time.sleep(0.25)
        raise AssertionError(f"{text!r} never appeared; the screen was:\n{self.screen()}")

    def kill(self) -> None:
        subprocess.run(["tmux", "-L", self.sock, "kill-server"], capture_output=True, timeout=10)


LOADTUI = Path(sys.executable).parent / "loadtui"
needs_tmux = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


@pytest.mark.slow
@pytest.mark.integration
@needs_tmux
def test_tmux_start_smoke_with_keystrokes(private_dirs: Path) -> None:
    """``loadtui`` in an 80×24 tmux pane: ctrl+s starts the preselected smoke preset, the run
    screen shows it running then completed, ctrl+q quits, and the saved file's path is printed."""
    tmux = Tmux(f"{LOADTUI}; echo LOADTUI-EXIT=$?; sleep 60")
    try:
        setup = tmux.wait_for("Presets", 30)
        assert "smoke" in setup and "ctrl+s" in setup
        tmux.keys("C-s")
        running = tmux.wait_for("RUNNING", 30)
        assert "latency" in running and "TTFT" in running
        done = tmux.wait_for("COMPLETED", 40)
        assert "requests" in done
        tmux.keys("C-q")
        after = tmux.wait_for("LOADTUI-EXIT=", 30)
        assert "LOADTUI-EXIT=0" in after and "run saved:" in after
    finally:
        tmux.kill()
    runs = list_runs()
    assert len(runs) == 1
    assert runs[0][1]["preset"] == "smoke" and runs[0][1]["status"] == "completed"


def _alive(pid: int) -> bool:
    """Running, not just an unreaped zombie (an orphan's reaper may be slow in a container)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return False


@pytest.mark.slow
@pytest.mark.integration
@needs_tmux
@pytest.mark.parametrize("how", ["SIGTERM", "SIGHUP"])
def test_signals_save_the_run_and_end_the_app(private_dirs: Path, how: str) -> None:
    """SIGTERM (terminal alive) and a dropped session (tmux gone: SIGHUP) both save the run as
    interrupted, and the process really ends."""
    pidfile = private_dirs / "app.pid"
    tmux = Tmux(
        f"sh -c 'echo $$ > {pidfile}; exec {LOADTUI} --preset baseline --start'; "
        "echo LOADTUI-EXIT=$?; sleep 60"
    )
    try:
        tmux.wait_for("RUNNING", 40)
        pid = int(pidfile.read_text())
        if how == "SIGTERM":
            os.kill(pid, signal.SIGTERM)
            after = tmux.wait_for("LOADTUI-EXIT=", 40)
            assert "LOADTUI-EXIT=130" in after and "run saved:" in after
        else:
            tmux.kill()
        deadline = time.monotonic() + 40
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.25)
        assert not _alive(pid), "the app outlived its terminal"
    finally:
        tmux.kill()
    runs = list_runs()
    assert len(runs) == 1 and runs[0][1]["status"] == "interrupted"


@pytest.mark.integration
@needs_tmux
def test_sigterm_on_the_setup_screen_exits_130(private_dirs: Path) -> None:
    """No run is live, but a signal still ended the app: the README's 130, not 0."""
    pidfile = private_dirs / "app.pid"
    tmux = Tmux(f"sh -c 'echo $$ > {pidfile}; exec {LOADTUI}'; echo LOADTUI-EXIT=$?; sleep 60")
    try:
        tmux.wait_for("ctrl+s", 40)  # the setup form is up
        os.kill(int(pidfile.read_text()), signal.SIGTERM)
        after = tmux.wait_for("LOADTUI-EXIT=", 40)
        assert "LOADTUI-EXIT=130" in after, after
    finally:
        tmux.kill()


# -- the app's plain functions -------------------------------------------------------------


def test_user_rows_sort_by_state_latency_age() -> None:
    from loadtui.model.snapshot import UserRow
    from loadtui.tui.widgets.users import sort_rows

    rows = [
        UserRow(0, 4, 1.0, 10.0, 5.0, 1, 0),
        UserRow(1, 5, 3.0, 50.0, 5.0, 1, 1),
        UserRow(2, 3, 2.0, 30.0, 5.0, 1, 0),
    ]
    assert [r[0] for r in sort_rows(rows, "state")] == [1, 2, 0]  # error, streaming, thinking
    assert [r[0] for r in sort_rows(rows, "latency")] == [1, 2, 0]
    assert [r[0] for r in sort_rows(rows, "age")] == [1, 2, 0]
    assert [r[0] for r in sort_rows(rows[::-1], "user")] == [0, 1, 2]


def test_theme_choice_is_remembered(private_dirs: Path) -> None:
    async def scenario() -> None:
        app = LoadtuiApp(settings=Settings.load())
        async with app.run_test() as pilot:
            app.theme = "loadtui-high-contrast"
            await pilot.pause()

    asyncio.run(scenario())
    assert Settings.load().theme == "loadtui-high-contrast"


def test_setup_form_errors_are_one_line_and_nothing_starts() -> None:
    async def scenario() -> LoadtuiApp:
        app = LoadtuiApp(settings=Settings())
        async with app.run_test(size=(80, 24)) as pilot:
            await _until(pilot, lambda: app.screen.query("#users"))  # the setup form is up
            app.screen.query_one("#users").value = "lots"
            await pilot.press("ctrl+s")
            await _until(pilot, lambda: len(app._notifications) >= 1)
            notes = [n.message for n in app._notifications]
            assert notes == ["Users must be a number, got 'lots'"]
            app.screen.query_one("#users").value = "3"
            app.screen.query_one("#duration").value = "soon"
            await pilot.press("ctrl+s")
            await _until(pilot, lambda: len(app._notifications) >= 2)
            assert "soon" in [n.message for n in app._notifications][-1]
            assert app.bridge is None
        return app

    asyncio.run(scenario())


def test_saved_run_frame_and_history_row() -> None:
    from loadtui.run.frame import frame_from_record
    from loadtui.tui.screens.history import headless_command, history_row

    run = _fixture_run()
    record = record_from_json(run)
    frame = frame_from_record(record)
    assert frame.phase == "completed" and frame.totals.requests == run["summary"]["requests"]
    assert [control_to_json(c) for c in frame.controls] == run["controls"] and not frame.open_loop
    assert list(frame.spark.rps) == [float(p["rps"]) for p in run["series"]]
    row = history_row(record)
    assert row[1] == "streaming" and row[2] == "mock" and row[3] == "completed"
    assert headless_command(record) == f"loadtui replay {run['id']} --headless"
    remote = {**run, "target": {"url": "http://127.0.0.1:8000", "embedded_mock": False}}
    # the recorded target is the default
    assert "--url" not in headless_command(record_from_json(remote))


def test_snapshot_requests_tab_of_a_mix(snap_compare: Any) -> None:
    """Issue 4's figures in the app: per request, checks (a saved mix run)."""

    async def requests_tab(pilot: Any) -> None:
        run = _fixture_record("run-mix")
        await pilot.app.push_screen(DetailScreen(run, DATA / "run-mix.json"))
        await pilot.pause()
        await pilot.press("right")
        tabs = pilot.app.screen.query_one("#detail-tabs")
        await _until(pilot, lambda: tabs.active == "tab-requests")

    assert snap_compare(_app(), terminal_size=(80, 30), run_before=requests_tab)


@pytest.mark.slow
@pytest.mark.integration
def test_overhead_run_shows_in_the_app() -> None:
    """The overhead preset started in the app: the Requests tab shows the overhead table."""
    config = load_preset("overhead").with_overrides(load={"duration": 2}, workers=1)

    async def scenario() -> str:
        app = LoadtuiApp(start=StartNow(config), settings=Settings())
        async with app.run_test(size=(100, 40)) as pilot:
            await _until(pilot, lambda: app.bridge is not None and app.bridge.finished, timeout=40)
            await _until(pilot, lambda: app.saved)  # the screen has drawn the final frame
            screen = app.screen
            screen.query_one("#run-tabs").active = "tab-requests"
            await pilot.pause()
            panel = screen.query_one("#requests")
            console = Console(width=100, record=True, file=io.StringIO())
            console.print(panel.content)
            return console.export_text()

    shown = asyncio.run(scenario())
    assert "proxy overhead" in shown and "direct" in shown and "proxied" in shown
