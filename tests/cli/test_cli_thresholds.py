"""``--threshold``, per-label thresholds and ``abort_on_fail``, as a user runs them.

Real short runs against the mock over loopback: a command-line threshold that passes exits 0,
one that fails exits 1; a label's threshold reads that label's figures; an ``abort_on_fail``
threshold stops a 30 s run within seconds, saves it and exits 1; a threshold with nothing to
judge says why; bad grammar is one line and exit 2 before any load; a replay takes them too.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from helpers import run_cli
from loadtui.cli.parser import build_parser
from loadtui.mock import MockProcess
from loadtui.run.exitcodes import ExitCode
from loadtui.run.options import Overrides, resolve_config

pytestmark = pytest.mark.integration


def _runs(private_dirs: Path) -> list[dict]:
    folder = private_dirs / "data" / "runs"
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]


def _result(run: dict, metric: str, expression: str) -> dict:
    (found,) = [
        t for t in run["thresholds"] if (t["metric"], t["expression"]) == (metric, expression)
    ]
    return found


def _preset(tmp_path: Path, text: str) -> str:
    path = tmp_path / "slow.toml"
    path.write_text(text)
    return str(path)


def test_a_command_line_threshold_that_passes_exits_0(mock: MockProcess, private_dirs: Path):
    proc = run_cli(
        "--headless", "--preset", "smoke", "--url", mock.url, "--duration", "1s",
        "--threshold", "ttft p(95)<5000",
    )  # fmt: skip
    assert proc.returncode == ExitCode.OK, proc.stdout + proc.stderr
    (run,) = _runs(private_dirs)
    ttft = _result(run, "ttft", "p(95)<5000")
    # the mock's TTFT is 50 ms (its timers may fire up to 1 ms early)
    assert ttft["passed"] is True and ttft["actual"] >= 49
    assert _result(run, "latency", "p(95)<5000")["passed"]  # the preset's stay
    assert run["config"]["thresholds"]["ttft"] == ["p(95)<5000"]


def test_a_command_line_threshold_that_fails_exits_1(mock: MockProcess, private_dirs: Path):
    proc = run_cli(
        "--headless", "--preset", "smoke", "--url", mock.url, "--duration", "1s",
        "--threshold", "ttft p(95)<1",
    )  # fmt: skip
    assert proc.returncode == ExitCode.THRESHOLDS_FAILED, proc.stdout + proc.stderr
    (run,) = _runs(private_dirs)
    ttft = _result(run, "ttft", "p(95)<1")
    assert ttft["passed"] is False and ttft["actual"] >= 49
    (line,) = [ln for ln in proc.stdout.splitlines() if "p(95)<1 " in ln]
    assert "FAIL" in line


def test_label_thresholds_read_each_labels_figures(private_dirs: Path):
    proc = run_cli(
        "--headless", "--preset", "mix", "--duration", "2s",
        "--threshold", "latency{label:health} p(99)<60000",
        "--threshold", "ttft{label:chat stream} p(95)<60000",
        "--threshold", "error_rate{label:chat stream} rate<1.5",
        "--threshold", "error_rate{label:nope} rate<0.5",
    )  # fmt: skip
    assert proc.returncode in (ExitCode.OK, ExitCode.THRESHOLDS_FAILED), proc.stderr
    (run,) = _runs(private_dirs)
    by_label = run["summary"]["by_label"]
    health = _result(run, "latency{label:health}", "p(99)<60000")
    assert health["passed"] and health["actual"] == by_label["health"]["latency_ms"]["p99"]
    ttft = _result(run, "ttft{label:chat stream}", "p(95)<60000")
    assert ttft["passed"] and ttft["actual"] == by_label["chat stream"]["ttft_ms"]["p95"]
    errors = _result(run, "error_rate{label:chat stream}", "rate<1.5")
    chat = by_label["chat stream"]
    assert errors["actual"] == pytest.approx(chat["errors"] / chat["requests"])
    missing = _result(run, "error_rate{label:nope}", "rate<0.5")
    assert missing["passed"] is False and missing["actual"] is None
    assert missing["reason"].startswith("no requests with label nope")
    assert proc.returncode == ExitCode.THRESHOLDS_FAILED  # the label the run never had
    assert "no requests with label nope" in proc.stdout


def test_abort_on_fail_stops_a_30s_run_within_seconds(mock: MockProcess, private_dirs: Path):
    started = time.monotonic()
    proc = run_cli(
        "--headless", "--url", mock.url, "--users", "4", "--duration", "30s",
        "--threshold", "ttft p(95)<10", "--abort-on-fail",
    )  # fmt: skip
    took = time.monotonic() - started
    assert proc.returncode == ExitCode.THRESHOLDS_FAILED, proc.stdout + proc.stderr
    assert took < 25, f"a 30 s run should have stopped within seconds, took {took:.1f}s"
    (run,) = _runs(private_dirs)
    assert run["status"] == "stopped" and run["load_ended_s"] < 10
    ttft = _result(run, "ttft", "p(95)<10")
    assert ttft["aborted"] is True and ttft["passed"] is False
    assert ttft["reason"].startswith("abort_on_fail: failed at")
    assert [(c["action"], c["source"]) for c in run["controls"]] == [("stop", "threshold")]
    assert "by threshold ttft p(95)<10 (abort_on_fail)" in proc.stdout
    assert proc.stdout.rstrip().splitlines()[-1].startswith("run saved: ")


def test_a_presets_abort_on_fail_waits_for_its_delay(tmp_path: Path, private_dirs: Path):
    preset = _preset(
        tmp_path,
        '[load]\nusers = 4\nduration = "30s"\n[[requests]]\nkind = "chat"\nstream = true\n'
        '[mock]\nttft = "300ms"\n[thresholds]\n'
        'ttft = [{threshold = "p(95)<100", abort_on_fail = true, delay_abort_eval = "2s"}]\n',
    )
    proc = run_cli("--headless", "--preset", preset)
    assert proc.returncode == ExitCode.THRESHOLDS_FAILED, proc.stdout + proc.stderr
    (run,) = _runs(private_dirs)
    assert run["status"] == "stopped" and 2 <= run["load_ended_s"] < 10
    assert _result(run, "ttft", "p(95)<100")["aborted"] is True
    assert run["config"]["thresholds"]["ttft"][0]["abort_on_fail"] is True


def test_a_threshold_without_samples_says_why(tmp_path: Path, private_dirs: Path):
    preset = _preset(
        tmp_path,
        '[load]\nusers = 2\nduration = "1s"\n[[requests]]\nkind = "chat"\nstream = true\n'
        "[mock]\nfaults = { http_500 = 1.0 }\n",
    )
    proc = run_cli("--headless", "--preset", preset, "--threshold", "ttft p(95)<1000")
    assert proc.returncode == ExitCode.THRESHOLDS_FAILED, proc.stdout + proc.stderr
    (run,) = _runs(private_dirs)
    ttft = _result(run, "ttft", "p(95)<1000")
    failed = run["summary"]["requests"]
    assert ttft["actual"] is None and ttft["passed"] is False
    assert ttft["reason"] == f"no TTFT samples: all {failed} requests failed"
    assert "no TTFT samples: all" in proc.stdout


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--threshold", "ttft p95<500"], "--threshold 'ttft p95<500': threshold ttft: 'p95<500'"),
        (["--threshold", "tfft p(95)<500"], "unknown threshold metric 'tfft'"),
        (["--threshold", "latency_actual{label:chat} p(95)<5"], "a label filter applies to"),
        (["--abort-on-fail"], "--abort-on-fail applies to --threshold"),
    ],
)
def test_bad_grammar_is_one_line_and_exit_2_before_any_load(
    private_dirs: Path, args: list[str], says: str
):
    proc = run_cli("--headless", "--duration", "1s", *args)
    assert proc.returncode == ExitCode.USAGE, proc.stdout + proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("loadtui: error: ") and says in line
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert not any((private_dirs / "data" / "runs").glob("*.json"))  # nothing ran


def test_a_replay_takes_command_line_thresholds(mock: MockProcess, private_dirs: Path):
    first = run_cli("--headless", "--preset", "smoke", "--url", mock.url, "--duration", "1s")
    assert first.returncode == ExitCode.OK, first.stdout + first.stderr
    bad = run_cli("replay", "last", "--headless", "--threshold", "latency p(95)<")
    assert bad.returncode == ExitCode.USAGE and "not k6 syntax" in bad.stderr
    proc = run_cli("replay", "last", "--headless", "--threshold", "latency p(99)<0.001")
    assert proc.returncode == ExitCode.THRESHOLDS_FAILED, proc.stdout + proc.stderr
    original, replay = sorted(_runs(private_dirs), key=lambda r: r["started_at"])
    assert replay["replay_of"] == original["id"]
    assert _result(replay, "latency", "p(99)<0.001")["passed"] is False
    assert _result(replay, "latency", "p(95)<5000")["passed"]  # the recorded ones stay


def test_the_app_started_at_once_gets_the_command_line_thresholds():
    """``loadtui --start --threshold …`` resolves the same config the app's run is given."""
    args = build_parser().parse_args(
        ["--start", "--threshold", "ttft p(95)<500", "--abort-on-fail", "--abort-delay", "2s"]
    )
    config = resolve_config(Overrides.from_namespace(args))
    (spec,) = config.thresholds["ttft"]
    assert (spec.threshold, spec.abort_on_fail, spec.delay_abort_eval) == ("p(95)<500", True, 2.0)
