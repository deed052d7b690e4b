"""The review of issues 8 and 9 in the app: what each screen says must be true and plain.

Each test pins one finding: the users caption at scale, the sparkline's scale over the seconds
drawn, thresholds of a live run without streams, counters of a Batch run, ``--mock`` and the
credentials check on the setup screen, and a foreign run file replayed from History only after
a yes.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from typing import Any

from loadtui.storage.presets import load_preset
from loadtui.tui.app import LoadtuiApp, StartNow
from loadtui.tui.format import ms
from loadtui.tui.frame import frame_from_run
from loadtui.tui.settings import Settings
from loadtui.tui.widgets.sparks import Spark
from test_tui_hardening import FixedRun, _live, _run_file, _show, _until

# -- item 2: the users tab at scale -----------------------------------------------------------


def test_users_caption_says_the_true_total_when_rows_are_capped() -> None:
    """2 workers × 200 rows of 10,000 users: the caption gives 10,000, not 400."""
    rows = [(uid, 3, 0.1, 100.0, 50.0, 1, 0) for uid in (*range(200), *range(5000, 5200))]

    async def scenario() -> str:
        app = LoadtuiApp(settings=Settings())
        async with app.run_test(size=(120, 30)) as pilot:
            screen = await _show(pilot, FixedRun(_live(users=10_000, users_rows=rows)))
            await pilot.press("2")
            users = screen.query_one("#users")
            await _until(pilot, lambda: users.size.area)
            await pilot.wait_for_scheduled_animations()
            return str(users.query_one(".users-caption").render())

    caption = asyncio.run(scenario())
    assert "400 listed of 10,000 users" in caption
    assert "up to 200 per worker" in caption


def test_users_caption_is_plain_when_every_user_has_a_row() -> None:
    rows = [(uid, 3, 0.1, 100.0, 50.0, 1, 0) for uid in range(30)]

    async def scenario() -> str:
        app = LoadtuiApp(settings=Settings())
        async with app.run_test(size=(120, 30)) as pilot:
            screen = await _show(pilot, FixedRun(_live(users=30, users_rows=rows)))
            await pilot.press("2")
            users = screen.query_one("#users")
            await _until(pilot, lambda: users.size.area)
            await pilot.wait_for_scheduled_animations()
            return str(users.query_one(".users-caption").render())

    caption = asyncio.run(scenario())
    assert "of 30 ·" in caption and "listed" not in caption


# -- item 4: the sparkline's scale is the range of the bars ----------------------------------


def test_spark_scale_covers_exactly_the_seconds_drawn() -> None:
    """120 s of TTFT whose first 20 s were slow: at 80 columns the chart draws fewer than 100
    seconds, so its scale must not reach the slow ones it does not show."""
    values: list[float | None] = [900.0] * 20 + [50.0 + i % 30 for i in range(100)]
    frame = _live()
    frame = replace(frame, spark={**frame.spark, "ttft_p50": values})

    async def scenario() -> tuple[int, str]:
        app = LoadtuiApp(settings=Settings())
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await _show(pilot, FixedRun(frame))
            spark = screen.query_one("#spark-ttft-p50", Spark)
            await _until(pilot, lambda: spark.size.width)
            await pilot.wait_for_scheduled_animations()
            return spark.size.width, str(screen.query_one("#scale-ttft-p50").render())

    width, scale = asyncio.run(scenario())
    assert 0 < width < 100, width  # the test means something only if the slow part is cut
    drawn = [v for v in values[-width:] if v is not None]
    assert scale == f"{ms(min(drawn))}–{ms(max(drawn))}"
    assert ms(900.0) not in scale


# -- item 7: thresholds of a live run without streams ----------------------------------------


def test_a_live_run_without_streams_skips_its_ttft_threshold() -> None:
    """A real run on the embedded mock with streaming off: TTFT is skipped (dim, with the
    reason), as the saved run will say, and the panel is not marked failing."""
    base = load_preset("baseline")
    config = base.with_overrides(
        load={"mode": "closed", "users": 1, "spawn_rate": 0, "think_time": (0.05, 0.05)},
        requests=[{**r.model_dump(), "stream": False} for r in base.requests],
        thresholds={"ttft": ["p(95)<2000"], "error_rate": ["rate<0.5"]},
        mock={"latency": 0.01, "ttft": 0.02, "itl": 0.005, "tokens": 4},
        workers=1,
    )
    config = config.with_overrides(load={"duration": 30})

    async def scenario() -> tuple[str, bool]:
        app = LoadtuiApp(start=StartNow(config), settings=Settings())
        async with app.run_test(size=(100, 30)) as pilot:
            await _until(pilot, lambda: app.screen.query("#thresholds"), 60)
            panel = app.screen.query_one("#thresholds")
            # wait for a frame with finished requests: error_rate is judged by then
            await _until(pilot, lambda: "(0)" in str(panel.render()), 60)
            shown, failing = str(panel.render()), panel.has_class("-failing")
            await pilot.press("x")
            await _until(pilot, lambda: app.bridge.finished, 60)
        return shown, failing

    shown, failing = asyncio.run(scenario())
    assert "ttft p(95)<2000 skipped" in shown and "no streams" in shown
    assert "✘" not in shown and not failing


def test_a_failing_threshold_says_why() -> None:
    thresholds = [
        {
            "metric": "itl",
            "expression": "p(99)<200",
            "passed": False,
            "actual": None,
            "reason": "no samples (ITL exists only for streams)",
        },
    ]

    async def scenario() -> str:
        app = LoadtuiApp(settings=Settings())
        async with app.run_test(size=(100, 24)) as pilot:
            screen = await _show(pilot, FixedRun(_live(thresholds=thresholds)))
            return str(screen.query_one("#thresholds").render())

    shown = asyncio.run(scenario())
    assert "✘ itl p(99)<200 (no data: no samples (ITL exists only for streams))" in shown


# -- item 10: a Batch run's counters say jobs, as the console does ---------------------------


def _counters_of(run: dict[str, Any]) -> str:
    async def scenario() -> str:
        app = LoadtuiApp(settings=Settings())
        async with app.run_test(size=(100, 24)) as pilot:
            screen = await _show(pilot, FixedRun(frame_from_run(run)))
            return str(screen.query_one("#counters").render())

    return asyncio.run(scenario())


def test_counters_name_jobs_in_a_batch_run() -> None:
    run = _run_file()
    batch = {**run, "config": {**run["config"], "requests": [{"kind": "batch"}]}}
    mixed = {**run, "config": {**run["config"], "requests": [{"kind": "chat"}, {"kind": "batch"}]}}
    done = run["summary"]["requests"]
    assert f"jobs {done:,} done" in _counters_of(batch)
    assert f"requests + jobs {done:,} done" in _counters_of(mixed)
    assert f"requests {done:,} done" in _counters_of(run)


def test_status_codes_from_a_run_file_are_plain_text() -> None:
    run = _run_file()
    run = {**run, "summary": {**run["summary"], "status_codes": {"[/x]": 2, "[b]": 1}}}
    shown = _counters_of(json.loads(json.dumps(run)))
    assert "[/x]×2" in shown and "[b]×1" in shown
