"""The failure detail view: **e** on a saved run's detail and on the run screen shows each error
class and its samples, as plain text (a body that looks like markup shows as typed)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import OptionList, Static

from loadtui.model.controls import ControlChange
from loadtui.model.record import ErrorSample, RunRecord
from loadtui.run.frame import LiveFrame, frame_from_record
from loadtui.storage.presets import load_preset
from loadtui.storage.record import record_from_json
from loadtui.storage.runfile import load_record
from loadtui.tui.app import LoadtuiApp, StartNow
from loadtui.tui.screens.detail import DetailScreen
from loadtui.tui.screens.failures import FailureScreen
from loadtui.tui.screens.run import RunScreen
from loadtui.tui.settings import Settings
from waits import until

DATA = Path(__file__).parents[1] / "data"

SAMPLES = (
    ErrorSample(
        error_class="http_5xx",
        at_s=0.25,
        status=500,
        label="chat",
        reason="HTTP 500",
        headers={"Content-Type": "text/plain", "X-Trace": "[red]t[/]"},
        body="[bold]x[/] upstream exploded",
        body_truncated=True,
    ),
    ErrorSample(error_class="reset", at_s=0.5, reason="ServerDisconnectedError"),
)


def _record() -> RunRecord:
    run = record_from_json(json.loads((DATA / "run-a.json").read_text()))
    summary = replace(run.summary, errors={"http_5xx": 40, "reset": 2}, errors_total=42)
    return replace(run, summary=summary, error_samples=SAMPLES)


def _shown(app: Any) -> str:
    """The samples on show; "" while the view is pushed but not yet composed (a starved
    machine does the one well before the other)."""
    found = app.screen.query("#failure-samples")
    return str(found.first(Static).content) if found else ""


async def _check_failure_view(pilot: Any) -> None:
    """The view is open on the most frequent class; ↓ moves to the next one."""
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, FailureScreen))
    await until(pilot, lambda: "upstream exploded" in _shown(app))
    text = _shown(app)
    assert "[bold]x[/] upstream exploded" in text  # as typed, not bold
    assert "X-Trace: [red]t[/]" in text
    assert "status 500" in text and "cut to its first 4 KB" in text
    options = app.screen.query_one(OptionList)
    assert [str(options.get_option_at_index(i).prompt) for i in range(2)] == [
        "http_5xx 40 (1 kept)",
        "reset 2 (1 kept)",
    ]
    await pilot.press("down")
    await until(pilot, lambda: "ServerDisconnectedError" in _shown(app))
    assert "no response" in _shown(app)
    await pilot.press("escape")
    await until(pilot, lambda: not isinstance(app.screen, FailureScreen))


def test_detail_screen_shows_the_samples_of_each_class() -> None:
    async def scenario() -> None:
        app = LoadtuiApp(settings=Settings())
        async with app.run_test(size=(100, 30)) as pilot:
            await app.push_screen(DetailScreen(_record(), DATA / "run-a.json"))
            await until(pilot, lambda: isinstance(app.screen, DetailScreen))
            await pilot.press("e")
            await _check_failure_view(pilot)
            assert isinstance(app.screen, DetailScreen)

    asyncio.run(scenario())


class _FixedRun:
    """A run source that never runs: one fixed frame, for driving the run screen."""

    def __init__(self, frame: LiveFrame) -> None:
        self.frame = frame
        self.config = load_preset("baseline")
        self.messages: list[str] = []
        self.finished = False
        self.error = None
        self.path = None
        self.sent: list[ControlChange] = []

    def start(self) -> None:
        pass

    def take(self) -> LiveFrame:
        return self.frame

    def send(self, change: ControlChange) -> None:
        self.sent.append(change)


def test_run_screen_shows_the_samples_kept_so_far() -> None:
    async def scenario() -> None:
        frame = replace(frame_from_record(_record()), phase="running")
        app = LoadtuiApp(settings=Settings())
        async with app.run_test(size=(100, 30)) as pilot:
            screen = RunScreen(_FixedRun(frame), "stress")  # type: ignore[arg-type]
            await app.push_screen(screen)
            await until(pilot, lambda: screen.query_one("#run-status").frame is not None)
            await pilot.press("e")
            await _check_failure_view(pilot)
            assert app.screen is screen

    asyncio.run(scenario())


def test_a_run_without_errors_says_so() -> None:
    async def scenario() -> None:
        run = record_from_json(json.loads((DATA / "run-a.json").read_text()))
        run = replace(run, summary=replace(run.summary, errors={}), error_samples=())
        app = LoadtuiApp(settings=Settings())
        async with app.run_test(size=(80, 24)) as pilot:
            await app.push_screen(DetailScreen(run, DATA / "run-a.json"))
            await until(pilot, lambda: isinstance(app.screen, DetailScreen))
            await pilot.press("e")
            await until(pilot, lambda: isinstance(app.screen, FailureScreen))
            await until(pilot, lambda: _shown(app) == "no errors in this run")

    asyncio.run(scenario())


@pytest.mark.integration
def test_started_app_run_records_requests_and_keeps_samples(tmp_path: Path) -> None:
    """``--start --record-requests`` in the app: a run against the embedded mock with faults
    writes one line per request, and its error samples are on its failure view."""
    out = tmp_path / "app.jsonl"
    config = load_preset("smoke").with_overrides(
        load={"duration": 1.0},
        mock={"latency": 0, "ttft": 0.005, "itl": 0.002, "faults": {"http_500": 1.0}},
    )

    async def scenario() -> LoadtuiApp:
        app = LoadtuiApp(start=StartNow(config, record_requests=out), settings=Settings())
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: app.bridge is not None and app.bridge.finished, 60)
            await until(pilot, lambda: app.saved)
            shown = lambda: getattr(app.screen, "_shown", None)  # noqa: E731 - the newest frame
            await until(pilot, lambda: shown() is not None and shown().error_samples)
            await pilot.press("e")
            await until(pilot, lambda: isinstance(app.screen, FailureScreen))
            await until(pilot, lambda: "injected fault" in _shown(app))
        return app

    app = asyncio.run(scenario())
    run = load_record(app.saved[0])
    lines = out.read_text().splitlines()
    assert len(lines) == run.summary.requests > 0
    assert sum('"error":"http_5xx"' in line for line in lines) == run.summary.errors["http_5xx"]
    assert {s.error_class for s in run.error_samples} == {"http_5xx"}
