"""The review of issues 8 and 9 in the app: what each screen says must be true and plain.

Each test pins one finding: the users caption at scale, the sparkline's scale over the seconds
drawn, thresholds of a live run without streams, counters of a Batch run, ``--mock`` and the
credentials check on the setup screen, and a foreign run file replayed from History only after
a yes.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable, Input, Label

from loadtui.model.plan import RunConfig
from loadtui.model.record import ThresholdResult
from loadtui.model.snapshot import UserRow
from loadtui.run.frame import LiveFrame, frame_from_record
from loadtui.run.options import Overrides
from loadtui.storage.presets import load_preset
from loadtui.storage.record import record_from_json
from loadtui.storage.runfile import save_run
from loadtui.tui.app import LoadtuiApp, StartNow
from loadtui.tui.format import ms
from loadtui.tui.screens.confirm import ConfirmScreen
from loadtui.tui.settings import Settings
from loadtui.tui.widgets.sparks import Spark
from test_tui_hardening import FixedRun, RecordingApp, _live, _run_file, _show, _until
from waits import keys

# -- item 2: the users tab at scale -----------------------------------------------------------


def _users_caption(users: int, rows: list[UserRow]) -> str:
    """The Users tab's caption of a live run of ``users`` with these rows."""

    async def scenario() -> str:
        app = LoadtuiApp(settings=Settings())
        async with app.run_test(size=(120, 30)) as pilot:
            screen = await _show(pilot, FixedRun(_live(users=users, users_rows=rows)))
            await pilot.press("2")
            tab = screen.query_one("#users")
            await _until(pilot, lambda: tab.size.area)
            await pilot.wait_for_scheduled_animations()
            return str(tab.query_one(".users-caption").render())

    return asyncio.run(scenario())


def test_users_caption_says_the_true_total_when_rows_are_capped() -> None:
    """2 workers × 200 rows of 10,000 users: the caption gives 10,000, not 400."""
    rows = [UserRow(uid, 3, 0.1, 100.0, 50.0, 1, 0) for uid in (*range(200), *range(5000, 5200))]

    caption = _users_caption(10_000, rows)
    assert "400 listed of 10,000 users" in caption
    assert "up to 200 per worker" in caption


def test_users_caption_is_plain_when_every_user_has_a_row() -> None:
    rows = [UserRow(uid, 3, 0.1, 100.0, 50.0, 1, 0) for uid in range(30)]

    caption = _users_caption(30, rows)
    assert "of 30 ·" in caption and "listed" not in caption


# -- item 4: the sparkline's scale is the range of the bars ----------------------------------


def test_spark_scale_covers_exactly_the_seconds_drawn() -> None:
    """120 s of TTFT whose first 20 s were slow: at 80 columns the chart draws fewer than 100
    seconds, so its scale must not reach the slow ones it does not show."""
    values: list[float | None] = [900.0] * 20 + [50.0 + i % 30 for i in range(100)]
    frame = _live()
    frame = replace(frame, spark=replace(frame.spark, ttft_p50=tuple(values)))

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


@pytest.mark.slow
@pytest.mark.integration
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
            keys(pilot, "x")  # not pilot.press: its idle waits last up to 2 s in a live run
            await _until(pilot, lambda: app.bridge.finished, 60)
        return shown, failing

    shown, failing = asyncio.run(scenario())
    assert "ttft p(95)<2000 skipped" in shown and "no streams" in shown
    assert "✘" not in shown and not failing


def test_a_failing_threshold_says_why() -> None:
    thresholds = (
        ThresholdResult(
            metric="itl",
            expression="p(99)<200",
            passed=False,
            actual=None,
            reason="no samples (ITL exists only for streams)",
        ),
    )

    async def scenario() -> str:
        app = LoadtuiApp(settings=Settings())
        async with app.run_test(size=(100, 24)) as pilot:
            # the verdict of a finished run (live, a threshold without data is still waiting)
            frame = _live(thresholds=thresholds, phase="completed")
            screen = await _show(pilot, FixedRun(frame))
            return str(screen.query_one("#thresholds").render())

    shown = asyncio.run(scenario())
    assert "✘ itl p(99)<200 (no data: no samples (ITL exists only for streams))" in shown


# -- item 10: a Batch run's counters say jobs, as the console does ---------------------------


def _counters_of(run: dict[str, Any] | LiveFrame) -> str:
    frame = run if isinstance(run, LiveFrame) else frame_from_record(record_from_json(run))

    async def scenario() -> str:
        app = LoadtuiApp(settings=Settings())
        async with app.run_test(size=(100, 24)) as pilot:
            screen = await _show(pilot, FixedRun(frame))
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
    frame = frame_from_record(record_from_json(json.loads(json.dumps(run))))
    shown = _counters_of(frame)
    assert "[/x]×2" in shown and "[b]×1" in shown


# -- items 5 and 6: the setup screen honours --mock and checks credentials --------------------


def test_mock_on_the_command_line_forces_the_embedded_mock(monkeypatch: Any) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")

    async def scenario() -> tuple[Any, str, str]:
        app = RecordingApp(prefill=Overrides(mock=True), settings=Settings())
        async with app.run_test(size=(100, 30)) as pilot:
            await _until(pilot, lambda: app.screen.query("#url"))
            placeholder = app.screen.query_one("#url", Input).placeholder
            title = str(app.screen.query_one("#setup-title").render())
            await pilot.press("ctrl+s")
            await _until(pilot, lambda: app.started is not None)
            return app.started, placeholder, title

    started, placeholder, title = asyncio.run(scenario())
    assert started.target.url is None  # the embedded mock, not $OPENAI_BASE_URL
    assert "--mock" in placeholder and "--mock" in title


def test_a_key_url_without_a_key_does_not_start(monkeypatch: Any) -> None:
    for var in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)

    async def scenario() -> tuple[Any, list[str], Any]:
        app = RecordingApp(settings=Settings())
        async with app.run_test(size=(100, 30)) as pilot:
            await _until(pilot, lambda: app.screen.query("#url"))
            app.screen.query_one("#url", Input).value = "http://127.0.0.1:9/k/{key}/v1"
            await pilot.press("ctrl+s")
            await _until(pilot, lambda: app._notifications)
            refused = app.started
            notes = [str(n.message) for n in app._notifications]
            app.screen.query_one("#api-key", Input).value = "sk-typed-here"
            await pilot.press("ctrl+s")
            await _until(pilot, lambda: app.started is not None)
            return refused, notes, app.started

    refused, notes, started = asyncio.run(scenario())
    assert refused is None
    assert any("{key}" in n and "no API key" in n for n in notes)
    assert started is not None  # with a key it starts


# -- item 8: History asks before replaying a run file from elsewhere --------------------------


def _aimed_at(url: str) -> dict[str, Any]:
    """run-a, re-aimed at ``url``: 1 user for 1 s, quick to end against a silent socket."""
    config = RunConfig.model_validate(
        {
            "target": {"url": url, "timeout": 2, "connect_timeout": 2},
            "load": {"users": 1, "duration": "1s", "graceful_stop": 0.5},
        }
    ).model_dump(mode="json")
    return {**_run_file(), "config": config, "controls": []}


def _knocked(listener: socket.socket) -> bool:
    try:
        conn, _ = listener.accept()
    except BlockingIOError:
        return False
    conn.close()
    return True


@pytest.mark.slow
@pytest.mark.integration
def test_a_foreign_run_file_is_replayed_only_after_a_yes(monkeypatch: Any) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "fake-local-secret-0123456789")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        host = f"127.0.0.1:{listener.getsockname()[1]}"
        runs = Path(os.environ["LOADTUI_DATA_DIR"]) / "runs"
        runs.mkdir(parents=True)
        (runs / "copied.json").write_text(json.dumps(_aimed_at(f"http://{host}")))

        async def scenario() -> tuple[str, bool, bool]:
            app = LoadtuiApp(settings=Settings())
            async with app.run_test(size=(100, 24)) as pilot:
                await pilot.press("f2")
                await _until(pilot, lambda: app.screen.query(DataTable) and app.screen.runs)
                await pilot.press("r")
                await _until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
                question = str(app.screen.query_one(Label).render())
                await pilot.press("n")
                await _until(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
                # a no must not connect: give a wrongly started run ample time to knock
                deadline = time.monotonic() + 2.0
                while time.monotonic() < deadline and not _knocked(listener):
                    await pilot.pause(0.1)
                after_no = _knocked(listener) or app.bridge is not None
                await pilot.press("r")
                await _until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
                await pilot.press("y")
                await _until(pilot, lambda: _knocked(listener), 30)
                await _until(pilot, lambda: app.bridge is not None and app.bridge.finished, 60)
                return question, after_no, True

        question, after_no, after_yes = asyncio.run(scenario())
    assert host in question and "copied.json" in question
    assert not after_no
    assert after_yes


@pytest.mark.slow
@pytest.mark.integration
def test_a_run_file_written_here_is_replayed_without_a_question() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        save_run(_aimed_at(f"http://127.0.0.1:{listener.getsockname()[1]}"))

        async def scenario() -> bool:
            app = LoadtuiApp(settings=Settings())
            async with app.run_test(size=(100, 24)) as pilot:
                await pilot.press("f2")
                await _until(pilot, lambda: app.screen.query(DataTable) and app.screen.runs)
                await pilot.press("r")
                await _until(pilot, lambda: _knocked(listener), 30)
                asked = any(isinstance(s, ConfirmScreen) for s in app.screen_stack)
                await _until(pilot, lambda: app.bridge is not None and app.bridge.finished, 60)
                return asked

        assert asyncio.run(scenario()) is False


def test_a_long_run_listed_by_its_head_shows_its_peak_and_opens_whole() -> None:
    """History reads only a run file's head (the series is written last); the users column
    comes from ``peak_users`` and the detail screen reads the whole file."""
    run = _run_file()
    point = run["series"][-1]
    run["series"] = [{**point, "t": t, "users": 7 if t == 4321 else 3} for t in range(6000)]
    path = save_run(run)
    assert path.stat().st_size > 1024 * 1024  # more than the head a listing reads

    async def scenario() -> tuple[list[str], int]:
        app = LoadtuiApp(settings=Settings())
        async with app.run_test(size=(140, 30)) as pilot:
            await pilot.press("f2")
            await _until(pilot, lambda: app.screen.query(DataTable) and app.screen.runs)
            history = app.screen
            row = [str(c) for c in history.query_one(DataTable).get_row_at(0)]
            listed = next(iter(history.runs.values()))
            assert listed.record.series == ()  # the listing never parsed the series
            await pilot.press("enter")
            await _until(pilot, lambda: type(app.screen).__name__ == "DetailScreen")
            return row, len(app.screen.run.series)

    row, points = asyncio.run(scenario())
    assert "7" in row
    assert points == 6000


def test_health_says_keeping_up_now_after_saturated_seconds() -> None:
    """Saturated seconds earlier and no warning now: the tick must not read as 'never behind'."""
    base = _live()
    frame = replace(base, warning=None, health=replace(base.health, saturated_seconds=3))

    async def scenario() -> str:
        app = LoadtuiApp(settings=Settings())
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await _show(pilot, FixedRun(frame))
            return str(screen.query_one("#health").render())

    health = asyncio.run(scenario())
    assert "saturated 3s" in health and "keeping up now" in health


def test_a_live_threshold_without_data_yet_waits_instead_of_failing() -> None:
    """At 00:00 nothing has been measured: a threshold is not red until there is a sample."""
    base = _live()
    waiting = ThresholdResult(metric="ttft", expression="p(95)<500", actual=None, passed=False)
    frame = replace(base, thresholds=(waiting,), phase="running")

    async def scenario() -> tuple[str, bool]:
        app = LoadtuiApp(settings=Settings())
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await _show(pilot, FixedRun(frame))
            panel = screen.query_one("#thresholds")
            return str(panel.render()), panel.has_class("-failing")

    text, failing = asyncio.run(scenario())
    assert "no data yet" in text and "✘" not in text and not failing
