"""A saved search run's detail screen (History → enter) has the Capacity tab the run had live:
the curve and the capacity (issue 13 audit: the saved run showed neither)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from textual.widgets import DataTable, Static, TabbedContent

from loadtui.model.record import RunRecord
from loadtui.model.search import SearchView, StepView
from loadtui.storage.record import record_from_json
from loadtui.tui.app import LoadtuiApp
from loadtui.tui.screens.detail import DetailScreen
from loadtui.tui.settings import Settings
from waits import until

DATA = Path(__file__).parents[1] / "data"


def _step(index: int, load: float, attainment: float, verdict: str) -> StepView:
    return StepView(
        index=index, load=load, phase="probe", started_s=3.0 * index, duration_s=3.0,
        requests=60, attainment=attainment, attainment_ci=(attainment - 0.05, attainment),
        goodput_rate=load * attainment, error_rate=0.0, ttft_p50_ms=52.0, ttft_p95_ms=60.0,
        itl_p50_ms=10.0, itl_p95_ms=12.0, latency_p50_ms=240.0, latency_p95_ms=250.0,
        verdict=verdict, held=False,  # type: ignore[arg-type]
    )  # fmt: skip


SEARCH = SearchView(
    mode="rate", target=0.9, error_limit=0.01, step_factor=2.0,
    steps=(_step(0, 10, 1.0, "pass"), _step(1, 20, 0.95, "pass"), _step(2, 40, 0.2, "fail")),
    current=None, capacity=20.0, interval=(20.0, 40.0), outcome="capacity",
    message="capacity: 20 req/s (between 20 and 40) at attainment ≥ 0.90",
)  # fmt: skip


def _run(search: SearchView | None) -> RunRecord:
    return replace(record_from_json(json.loads((DATA / "run-a.json").read_text())), search=search)


async def _open(pilot: Any, run: RunRecord) -> DetailScreen:
    app = pilot.app
    await app.push_screen(DetailScreen(run, DATA / "run-a.json"))
    await until(pilot, lambda: isinstance(app.screen, DetailScreen) and app.screen.is_mounted)
    return app.screen


def test_a_saved_search_has_its_capacity_tab_and_a_plain_run_none() -> None:
    async def scenario() -> None:
        app = LoadtuiApp(settings=Settings())
        async with app.run_test(size=(120, 30)) as pilot:
            screen = await _open(pilot, _run(SEARCH))
            await pilot.press("4")
            tabs = screen.query_one(TabbedContent)
            await until(pilot, lambda: tabs.active == "tab-capacity")
            head = str(screen.query_one("#capacity-head", Static).content)
            assert "capacity: 20 req/s (between 20 and 40)" in head
            assert screen.query_one("#capacity-steps", DataTable).row_count == 3
            await pilot.press("escape")
            plain = await _open(pilot, _run(None))
            assert (
                not plain.query("#tab-capacity")
                and plain.check_action("tab", ("tab-capacity",)) is False
            )
            await pilot.press("4")  # nothing to show: the key does nothing
            await pilot.pause()
            assert plain.query_one(TabbedContent).active == "tab-overview"

    asyncio.run(scenario())
