"""History deletes the run under the cursor after a yes (enter and escape answer no), as
``loadtui runs rm`` does: a runs-folder file is deleted, an ``--out`` run only forgotten."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path
from typing import Any

from textual.widgets import Button, DataTable

from loadtui.storage.runfile import load_run, save_run
from loadtui.storage.runindex import read_index
from loadtui.tui.app import LoadtuiApp
from loadtui.tui.screens.confirm import ConfirmScreen
from loadtui.tui.screens.history import HistoryScreen
from loadtui.tui.settings import Settings
from waits import until

DATA = Path(__file__).parents[1] / "data"
RUN_A, RUN_B = "20261123-151605-streaming-93b4", "20261123-151614-streaming-c859"
"""The ids in tests/data/run-a.json and run-b.json (run-b is the newer: listed first)."""


def _seed() -> Path:
    runs = Path(os.environ["LOADTUI_DATA_DIR"]) / "runs"
    runs.mkdir(parents=True)
    for name in ("run-a", "run-b"):
        shutil.copy(DATA / f"{name}.json", runs / f"{name}.json")
    return runs


async def _history(pilot: Any, n: int) -> HistoryScreen:
    await pilot.press("f2")
    await until(
        pilot,
        lambda: isinstance(pilot.app.screen, HistoryScreen) and len(pilot.app.screen.runs) == n,
    )
    screen = pilot.app.screen
    assert isinstance(screen, HistoryScreen)
    return screen


async def _ask_delete(pilot: Any) -> ConfirmScreen:
    await pilot.press("d")
    await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))
    confirm = pilot.app.screen
    assert isinstance(confirm, ConfirmScreen)
    return confirm


def test_delete_asks_defaults_to_no_and_refreshes_the_list() -> None:
    asyncio.run(_delete_asks_defaults_to_no_and_refreshes_the_list())


async def _delete_asks_defaults_to_no_and_refreshes_the_list() -> None:
    runs = _seed()
    app = LoadtuiApp(settings=Settings())
    async with app.run_test(size=(100, 24)) as pilot:
        history = await _history(pilot, 2)
        shown = history.active_bindings["d"].binding
        assert shown.show and shown.description == "delete"  # in the footer
        confirm = await _ask_delete(pilot)
        assert RUN_B in confirm.question and "deleted" in confirm.question
        assert isinstance(confirm.focused, Button) and confirm.focused.id == "no"
        await pilot.press("enter")  # the default: no
        await until(pilot, lambda: app.screen is history)
        await _ask_delete(pilot)
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is history)
        assert (runs / "run-a.json").is_file() and (runs / "run-b.json").is_file()
        await _ask_delete(pilot)
        await pilot.press("y")
        await until(pilot, lambda: list(history.runs) == [RUN_A], what="the list refreshed")
        assert not (runs / "run-b.json").exists() and (runs / "run-a.json").is_file()
        table = history.query_one(DataTable)
        assert table.row_count == 1


def test_deleting_an_out_run_forgets_it_and_keeps_its_file(private_dirs: Path) -> None:
    asyncio.run(_deleting_an_out_run_forgets_it_and_keeps_its_file(private_dirs))


async def _deleting_an_out_run_forgets_it_and_keeps_its_file(private_dirs: Path) -> None:
    _seed()
    run = load_run(DATA / "run-a.json")
    run.update(id="20261124-000000-smoke-0out", started_at="2026-11-24T00:00:00+00:00")
    out = save_run(run, private_dirs / "mine.json")  # as --out saves it: indexed
    app = LoadtuiApp(settings=Settings())
    async with app.run_test(size=(100, 24)) as pilot:
        history = await _history(pilot, 3)
        assert next(iter(history.runs)) == "20261124-000000-smoke-0out"  # newest: the cursor's
        confirm = await _ask_delete(pilot)
        assert "Forget run 20261124-000000-smoke-0out" in confirm.question
        assert "kept" in confirm.question
        await pilot.click("#yes")
        await until(pilot, lambda: len(history.runs) == 2, what="the list refreshed")
    assert out.is_file() and read_index()[0] == []
