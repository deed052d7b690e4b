"""``--warmup`` and ``--requests`` as a user types them, and the controls a run refuses.

Two short real runs against the shared mock (the CLI's own ``main``, in this process: the
workers are processes as ever): one open-loop run with a budget and no duration, which ends
when the mock has answered exactly that many; one with a warm-up, whose run file and report say
what the warm-up was; what the console and the app's header say meanwhile. Bad input is one
line and exit 2 before any load.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loadtui.cli import main
from loadtui.cli.parser import build_parser
from loadtui.headless.console import progress_line, progress_panel
from loadtui.metrics.runhist import decode_run
from loadtui.mock import MockProcess
from loadtui.model.durations import MAX_DURATION
from loadtui.model.plan import LoadSpec
from loadtui.run.exitcodes import ExitCode
from loadtui.run.frame import LiveFrame
from loadtui.run.options import Overrides, resolve_config
from loadtui.storage.runfile import load_record

pytestmark = pytest.mark.integration


def test_requests_without_a_duration_runs_until_they_are_answered(
    mock: MockProcess, private_dirs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = private_dirs / "budget.json"
    argv = ["--headless", "--url", mock.url, "--rate", "80", "--requests", "37"]
    code = main([*argv, "--workers", "1", "--out", str(out)])
    assert code == ExitCode.OK, capsys.readouterr()
    assert mock.stats()["served"] == 37
    run = json.loads(out.read_text())
    assert run["status"] == "completed" and run["summary"]["requests"] == 37
    assert run["config"]["load"]["requests"] == 37


def test_a_warm_up_is_left_out_of_the_summary_and_shaded_in_the_report(
    mock: MockProcess, private_dirs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, report = private_dirs / "warm.json", private_dirs / "warm.html"
    argv = ["--headless", "--url", mock.url, "--users", "2", "--duration", "2s", "--warmup", "1s"]
    code = main([*argv, "--workers", "1", "--out", str(out), "--report", str(report)])
    said = capsys.readouterr()
    assert code == ExitCode.OK, said
    run = json.loads(out.read_text())
    assert run["config"]["load"]["warmup"] == 1.0
    warm = sum(p["rps"] for p in run["series"] if p["t"] < 1)
    assert warm > 0 and run["summary"]["requests"] == mock.stats()["served"] - warm
    saved = load_record(out)
    measured = saved.summary.duration_s  # the measured part: the run less its warm-up
    assert measured >= (saved.load_ended_s or 0.0) - 1.0 - 0.01  # (the drain is measured)
    assert saved.summary.rps == pytest.approx(saved.summary.requests / measured, rel=0.01)
    assert saved.histograms is not None  # the exact histograms saved: the measured part's too
    assert decode_run(saved.histograms).whole["latency_ms"].count == saved.summary.requests
    page = report.read_text()
    assert 'class="warmup"' in page and "Shaded: the warm-up (first 1s)" in page


def test_the_console_and_the_app_say_while_the_run_warms_up() -> None:
    from rich.console import Console

    from loadtui.tui.widgets.status import status_parts

    frame = LiveFrame(phase="running", elapsed=2.0, duration=10.0, warmup_left=3.0)
    assert progress_line(frame).endswith("WARMING UP (3s left, not counted)")
    console = Console(width=100, record=True)
    console.print(progress_panel(frame))
    assert "WARMING UP: 3s left, not in the figures" in console.export_text()
    assert "warming up, 3s left (not in the figures)" in status_parts(frame)
    done = LiveFrame(phase="completed", elapsed=10.0, duration=10.0)
    assert "WARMING" not in progress_line(done)
    budget = LiveFrame(phase="running", elapsed=2.0, duration=MAX_DURATION, budget=37)
    assert progress_line(budget).startswith("[   2.0s/37 req]")
    assert status_parts(budget)[0] == "00:02 · until 37 requests are answered"


def _load(*argv: str) -> LoadSpec:
    ns = build_parser().parse_args(["--headless", *argv])
    return resolve_config(Overrides.from_namespace(ns)).load


def test_the_options_resolve_to_the_run_shape_asked_for() -> None:
    budget = _load("--requests", "10")
    assert budget.requests == 10 and budget.duration == MAX_DURATION  # until answered
    assert _load("--requests", "10", "--time-scale", "2").duration == MAX_DURATION
    both = _load("--users", "3", "--requests", "5", "--duration", "4s")
    assert (both.mode, both.duration, both.requests) == ("closed", 4.0, 5)
    # stages fitted to --duration keep the warm-up asked for; --time-scale scales the plan
    staged = _load("--preset", "streaming", "--duration", "2m", "--warmup", "15s")
    assert (staged.mode, staged.total_duration, staged.warmup) == ("stages", 120.0, 15.0)
    scaled = _load("--duration", "10s", "--warmup", "2s", "--time-scale", "0.5")
    assert (scaled.duration, scaled.warmup) == (5.0, 1.0)


@pytest.mark.parametrize(
    ("args", "control", "message"),
    [
        (["--duration", "10s", "--warmup", "10s"], None, "warmup (10s) must be shorter than"),
        (["--requests", "0"], None, "--requests must be at least 1, got 0"),
        (["--preset", "burst", "--requests", "5"], None, "requests does not apply to a burst"),
        (
            ["--rate", "5"],
            '[[control]]\nat = "1s"\naction = "users"\nvalue = 4\n',
            "the 'users' control at 1s has no effect in an open-loop run",
        ),
        (
            ["--preset", "burst"],
            '[[control]]\nat = "1s"\naction = "rate"\nvalue = 4\n',
            "the 'rate' control at 1s has no effect in a burst",
        ),
        (
            ["--duration", "3s"],
            '[[control]]\nat = "5s"\naction = "users"\nvalue = 4\n',
            "comes at or after the end of the run (3s)",
        ),
    ],
)
def test_what_cannot_apply_is_refused_before_any_load(
    args: list[str],
    control: str | None,
    message: str,
    private_dirs: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if control is not None:
        (private_dirs / "c.toml").write_text(control)
        args = [*args, "--control-file", str(private_dirs / "c.toml")]
    assert main(["--headless", *args]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
