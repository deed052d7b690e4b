"""The ``--quiet`` verdict of a run an ``abort_on_fail`` threshold stopped says so (audit of
issue 11, item 8): before, it read like a whole run's, with a second's figures."""

from __future__ import annotations

from dataclasses import replace

from loadtui.headless.verdict import verdict_line
from loadtui.model.plan import RunConfig
from loadtui.model.record import RunRecord, RunSummary, TargetInfo, ThresholdResult
from loadtui.run.exitcodes import ExitCode

_RUN = RunRecord(
    id="20261201-120000-mix-abcd",
    status="stopped",
    started_at="2026-12-01T12:00:00+00:00",
    ended_at="2026-12-01T12:00:02+00:00",
    config=RunConfig(),
    target=TargetInfo(url="http://127.0.0.1:1"),
    summary=RunSummary(requests=20),
    load_ended_s=1.3,
)
_ABORTED = ThresholdResult(
    metric="latency", expression="p(95)<10", passed=False, actual=214.9, aborted=True
)
_FAILED = ThresholdResult(metric="error_rate", expression="rate<0.05", passed=False, actual=0.05)


def test_an_aborted_run_says_when_and_which_threshold_stopped_it() -> None:
    run = replace(_RUN, thresholds=(_FAILED, _ABORTED))
    line = verdict_line(run, ExitCode.THRESHOLDS_FAILED)
    assert line.startswith(
        "FAILED (stopped at 1.3s by abort_on_fail: latency p(95)<10): 2 of 2 thresholds "
    )


def test_a_run_whose_thresholds_failed_at_the_end_reads_as_before() -> None:
    run = replace(_RUN, status="completed", thresholds=(_FAILED,))
    assert verdict_line(run, ExitCode.THRESHOLDS_FAILED).startswith("FAILED: 1 of 1 thresholds")
