"""The app's compare screen shows what ``loadtui compare`` prints: the configuration (what the
runs share, and what differs side by side), the not-alike warning, verdicts beyond the noise."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path

from textual.geometry import Region
from textual.widgets import DataTable, Static

from loadtui.model.record import RunRecord
from loadtui.storage.runfile import HEAD_LIMIT, load_record
from loadtui.tui.app import LoadtuiApp
from loadtui.tui.screens.compare import CompareScreen
from loadtui.tui.screens.history import HistoryScreen
from loadtui.tui.settings import Settings
from waits import until

DATA = Path(__file__).parents[1] / "data"


def _with_users(run: RunRecord, users: int) -> RunRecord:
    load = run.config.load.model_copy(update={"stages": (), "users": users})
    return replace(
        run, id=f"{run.id}-u{users}", config=run.config.model_copy(update={"load": load})
    )


def _text(widget: Static) -> str:
    """What the widget shows on screen, line by line."""
    lines = widget.render_lines(Region(0, 0, widget.size.width, widget.size.height))
    return "\n".join(line.text for line in lines)


async def _shown(a: RunRecord, b: RunRecord) -> tuple[str, str | None, list[list[str]]]:
    app = LoadtuiApp(settings=Settings())
    async with app.run_test(size=(100, 40)) as pilot:
        screen = CompareScreen(a, b)
        await app.push_screen(screen)
        await pilot.pause()
        config = _text(screen.query_one("#compare-config", Static))
        warnings = screen.query("#compare-warning")
        warning = _text(warnings.first(Static)) if warnings else None
        table = screen.query_one("#comparison", DataTable)
        rows = [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]
        return config, warning, rows


def test_unlike_runs_show_what_differs_and_the_warning() -> None:
    base = load_record(DATA / "run-a.json")
    config, warning, rows = asyncio.run(_shown(_with_users(base, 3), _with_users(base, 9)))
    assert "same in all:" in config and "preset streaming" in config
    assert "≠ load" in config and "3 users" in config and "9 users" in config
    assert warning is not None and "runs are not alike: different load" in warning
    verdicts = {row[0]: row[-1] for row in rows}
    assert verdicts["TTFT p95"] == "same"  # the same run's figures: no difference
    assert verdicts["requests"] == ""


def test_alike_runs_have_no_warning_and_old_files_are_not_judged() -> None:
    a, b = load_record(DATA / "run-a.json"), load_record(DATA / "run-b.json")
    # run-b ran 8 closed-loop users, run-a 3 (their configs keep the preset's unused stages,
    # which an older description showed instead): give b a's load to make them alike
    b = replace(b, config=b.config.model_copy(update={"load": a.config.load}))
    config, warning, rows = asyncio.run(_shown(a, b))
    assert warning is None and "≠" not in config and "load 3 users" in config
    verdicts = {row[0]: row[-1] for row in rows}
    assert verdicts["TTFT p95"] == "not judged"  # these files have no histograms


def _long_run(folder: Path, name: str, rps: int) -> None:
    """run-a stretched to an hour of series: a file larger than what History reads of it."""
    raw = json.loads((DATA / "run-a.json").read_text())
    point = raw["series"][len(raw["series"]) // 2]
    del raw["series"]  # then last, as loadtui writes it: a listing reads up to it only
    raw["series"] = [{**point, "t": t, "rps": rps + t % 3} for t in range(3600)]
    raw["load_ended_s"] = 3600.0
    raw["summary"]["rps"] = float(rps + 1)  # the mean of its per-second values
    raw["id"] = name
    raw["started_at"] = f"2026-11-23T15:16:0{rps % 10}+00:00"
    (folder / f"{name}.json").write_text(json.dumps(raw, indent=2))


def test_history_compares_long_runs_whole_so_rates_are_judged(private_dirs: Path) -> None:
    runs = private_dirs / "data" / "runs"
    runs.mkdir(parents=True)
    _long_run(runs, "long-a", 4)
    _long_run(runs, "long-b", 5)
    assert (runs / "long-a.json").stat().st_size > HEAD_LIMIT  # listed from its head only

    async def scenario() -> tuple[int, str]:
        app = LoadtuiApp(settings=Settings())
        async with app.run_test(size=(100, 40)) as pilot:
            await pilot.press("f2")
            await until(
                pilot,
                lambda: isinstance(app.screen, HistoryScreen) and len(app.screen.runs) == 2,
            )
            await pilot.press("space", "down", "c")
            await until(pilot, lambda: isinstance(app.screen, CompareScreen), timeout=60)
            screen = app.screen
            assert isinstance(screen, CompareScreen)
            rows = {r.label: r for r in screen.comparison.against_baseline[0].rows}
            return len(screen.a.series), rows["req/s"].noise.method

    series, method = asyncio.run(scenario())
    assert series == 3600 and method == "per-second"  # judged from the whole series
