"""The ``--quiet`` verdict line: its first word is the exit code's meaning, then the figures."""

from __future__ import annotations

from dataclasses import replace

from loadtui.headless.verdict import verdict_line
from loadtui.model.plan import RunConfig
from loadtui.model.record import (
    Metrics,
    MetricSummary,
    RunRecord,
    RunSummary,
    TargetInfo,
    ThresholdResult,
)
from loadtui.run.exitcodes import ExitCode

_SUMMARY = RunSummary(
    requests=1234,
    ok=1231,
    errors_total=3,
    error_rate=3 / 1234,
    metrics=Metrics(
        latency_ms=MetricSummary(count=1234, p95=45.12),
        ttft_ms=MetricSummary(count=1234, p95=12_345.0),
    ),
)
_RUN = RunRecord(
    id="20261130-120000-smoke-abcd",
    status="completed",
    started_at="2026-11-30T12:00:00+00:00",
    ended_at="2026-11-30T12:00:05+00:00",
    config=RunConfig(),
    target=TargetInfo(url="http://127.0.0.1:1"),
    summary=_SUMMARY,
)
_FIGURES = "1,234 requests, 3 errors (0.24%), latency p95 45.1 ms, TTFT p95 12.3s"


def test_passed_names_the_figures_and_units():
    assert verdict_line(_RUN, ExitCode.OK) == f"PASSED: {_FIGURES}"


def test_no_streamed_request_leaves_ttft_out_and_no_error_rate_at_zero():
    quiet = replace(
        _SUMMARY,
        errors_total=0,
        error_rate=0.0,
        metrics=Metrics(latency_ms=MetricSummary(count=3, p95=200.4)),
    )
    line = verdict_line(replace(_RUN, summary=quiet), ExitCode.OK)
    assert line == "PASSED: 1,234 requests, 0 errors, latency p95 200 ms"


def test_stopped_run_that_passed_says_when_it_stopped():
    run = replace(_RUN, status="stopped", load_ended_s=3.5)
    assert verdict_line(run, ExitCode.OK) == f"PASSED (stopped at 3.5s): {_FIGURES}"


def test_failed_thresholds_name_which_of_how_many():
    run = replace(
        _RUN,
        thresholds=(
            ThresholdResult("ttft", "p(95)<500", 12_345.0, False),
            ThresholdResult("error_rate", "rate<0.01", 0.0024, True),
            ThresholdResult("latency", "p(99)<40", 50.0, False),
        ),
    )
    line = verdict_line(run, ExitCode.THRESHOLDS_FAILED)
    assert line == f"FAILED: 2 of 3 thresholds (ttft p(95)<500, latency p(99)<40); {_FIGURES}"


def test_a_failed_run_gives_its_error_on_one_line():
    run = replace(_RUN, status="failed", error="RuntimeError: worker 1\nexited")
    line = verdict_line(run, ExitCode.RUN_FAILED)
    assert line == f"FAILED: the run failed (RuntimeError: worker 1 exited); {_FIGURES}"
    assert "\n" not in line


def test_not_saved_and_saved_elsewhere_are_failures():
    assert verdict_line(_RUN, ExitCode.RUN_FAILED, saved=False).startswith(
        "FAILED: the run could not be saved (see stderr); "
    )
    assert verdict_line(_RUN, ExitCode.RUN_FAILED).startswith(
        "FAILED: the run was not saved where asked (see stderr); "
    )


def test_interrupted_names_the_signal():
    run = replace(_RUN, status="interrupted")
    assert verdict_line(run, ExitCode.INTERRUPTED, "SIGTERM") == (
        f"INTERRUPTED by SIGTERM: {_FIGURES}"
    )


def test_outputs_not_written_say_so_on_one_line():
    why = "cannot write --junit j.xml: No such file or directory; internal error\nValueError: x"
    line = verdict_line(_RUN, ExitCode.RUN_FAILED, unwritten=why)
    assert line == (
        "FAILED: the exports could not all be written (cannot write --junit j.xml: No such "
        f"file or directory; internal error ValueError: x); {_FIGURES}"
    )
