"""The app's compare screen shows what ``loadtui compare`` prints: the configuration (what the
runs share, and what differs side by side), the not-alike warning, verdicts beyond the noise."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from textual.geometry import Region
from textual.widgets import DataTable, Static

from loadtui.model.record import RunRecord
from loadtui.storage.runfile import load_record
from loadtui.tui.app import LoadtuiApp
from loadtui.tui.screens.compare import CompareScreen
from loadtui.tui.settings import Settings

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
    config, warning, rows = asyncio.run(_shown(a, b))
    assert warning is None and "≠" not in config and "load stages" in config
    verdicts = {row[0]: row[-1] for row in rows}
    assert verdicts["TTFT p95"] == "not judged"  # these files have no histograms
