"""The typed live frame: what a saved run's frame holds, and what the console prints from one."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from loadtui.headless.console import progress_line, progress_panel
from loadtui.model.record import RunRecord, SeriesPoint
from loadtui.run.frame import SPARK_SECONDS, LiveFrame, frame_from_record
from loadtui.run.units import fmt_ms
from loadtui.storage.record import record_from_json

DATA = Path(__file__).parents[1] / "data"


def _record(name: str = "run-a") -> RunRecord:
    return record_from_json(json.loads((DATA / f"{name}.json").read_text()))


def _live(record: RunRecord, **changes: object) -> LiveFrame:
    frame = frame_from_record(record)
    live = {
        "phase": "running",
        "elapsed": 42.0,
        "duration": 150.0,
        "users": 40,
        "target_rate": None,
    }
    return replace(frame, **{**live, "target_users": 50, "in_flight": 7, **changes})  # type: ignore[arg-type]


def test_a_saved_run_s_frame_reads_the_record() -> None:
    record = _record()
    frame = frame_from_record(record)
    assert frame.phase == record.status and not frame.live
    assert frame.totals is record.summary and frame.health is record.generator
    assert frame.controls == record.controls and frame.thresholds == record.thresholds
    assert frame.last == record.series[-1] and frame.run_id == record.id
    assert frame.peak_users == max(p.users for p in record.series)
    assert frame.cpu_now is None and frame.recent is None  # nothing "now" in a saved run
    assert list(frame.spark.rps) == [float(p.rps) for p in record.series]
    assert list(frame.spark.ttft_p95) == [p.ttft_ms.p95 for p in record.series]


def test_a_frame_keeps_two_minutes_of_series_however_long_the_run() -> None:
    record = _record()
    long = tuple(SeriesPoint(t=t, users=5, rps=t) for t in range(3600))
    frame = frame_from_record(replace(record, series=long))
    assert len(frame.spark.rps) == SPARK_SECONDS
    assert frame.spark.rps[-1] == 3599.0 and frame.spark.rps[0] == 3600.0 - SPARK_SECONDS


def test_the_console_line_reads_the_frame() -> None:
    record = _record()
    lat, ttft = record.summary.metrics.latency_ms, record.summary.metrics.ttft_ms
    line = progress_line(_live(record), open_loop=False)
    assert line.startswith("[  42.0s/2m30s] users 40/50 in-flight 7 ")
    assert f"req {record.summary.requests} ({record.series[-1].rps}/s)" in line
    assert f"err {record.summary.errors_total} " in line
    assert f"latency p50 {fmt_ms(lat.p50)} p95 {fmt_ms(lat.p95)} ms" in line
    assert f"ttft p50 {fmt_ms(ttft.p50)} p95 {fmt_ms(ttft.p95)} ms" in line
    assert "PAUSED" not in line and "!" not in line


def test_the_console_says_paused_and_the_generator_s_warning() -> None:
    frame = _live(_record(), phase="paused", warning="generator saturated: CPU at 97%")
    line = progress_line(frame, open_loop=False)
    assert line.endswith(" PAUSED ! generator saturated: CPU at 97%")
    cells = [str(c) for col in progress_panel(frame, open_loop=False).columns for c in col.cells]
    assert "PAUSED" in cells and "generator saturated: CPU at 97%" in cells


def test_the_console_shows_an_open_loop_rate_from_the_frame() -> None:
    record = _record()
    frame = _live(record, target_rate=20.0, target_users=0)
    assert f"rate {record.series[-1].arrivals}/20/s " in progress_line(frame)  # guessed open


def test_a_figure_from_ten_seconds_up_carries_its_own_unit() -> None:
    record = _record()
    slow = replace(record.summary.metrics.latency_ms, count=5, p50=12_000.0, p95=15_500.0)
    metrics = replace(record.summary.metrics, latency_ms=slow)
    frame = _live(record, totals=replace(record.summary, metrics=metrics))
    assert "latency p50 12.0s p95 15.5s ttft" in progress_line(frame, open_loop=False)
