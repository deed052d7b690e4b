"""The ``--quiet`` verdict's "stopped at" (review item 12): a run with no end of load read
"stopped at 0s"; the time is printed as recorded (0.4s), or not at all when there is none."""

from __future__ import annotations

from dataclasses import replace

from loadtui.headless.verdict import verdict_line
from loadtui.model.plan import RunConfig
from loadtui.model.record import RunRecord, RunSummary, TargetInfo, ThresholdResult
from loadtui.run.exitcodes import ExitCode

_ABORTED = ThresholdResult("latency", "p(95)<10", 214.9, passed=False, aborted=True)
_RUN = RunRecord(
    id="20261201-120000-mix-abcd",
    status="stopped",
    started_at="2026-12-01T12:00:00+00:00",
    ended_at="2026-12-01T12:00:01+00:00",
    config=RunConfig(),
    target=TargetInfo(url="http://127.0.0.1:1"),
    summary=RunSummary(requests=3),
    thresholds=(_ABORTED,),
    load_ended_s=0.4,
)


def test_a_run_stopped_under_a_second_says_when() -> None:
    failed = verdict_line(_RUN, ExitCode.THRESHOLDS_FAILED)
    assert failed.startswith("FAILED (stopped at 0.4s by abort_on_fail: latency p(95)<10): ")
    stopped = replace(_RUN, thresholds=(), load_ended_s=0.4)
    assert verdict_line(stopped, ExitCode.OK).startswith("PASSED (stopped at 0.4s): ")


def test_a_run_with_no_end_of_load_does_not_claim_0s() -> None:
    failed = verdict_line(replace(_RUN, load_ended_s=None), ExitCode.THRESHOLDS_FAILED)
    assert failed.startswith("FAILED (stopped by abort_on_fail: latency p(95)<10): ")
    stopped = replace(_RUN, thresholds=(), load_ended_s=None)
    assert verdict_line(stopped, ExitCode.OK).startswith("PASSED (stopped): ")
    assert "0s" not in failed
