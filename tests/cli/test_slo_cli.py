"""``--slo`` and ``[slo]`` as a user runs them: goodput and attainment in the run file and the
console, thresholds over them exit 0 or 1, bad input is one line and exit 2 before any load.

Short real runs against the shared mock (TTFT 50 ms, 10 ms between chunks, 8 tokens)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from helpers import run_cli
from loadtui.cli import main
from loadtui.cli.parser import build_parser
from loadtui.mock import MockProcess
from loadtui.run.exitcodes import ExitCode
from loadtui.run.options import Overrides, resolve_config

pytestmark = pytest.mark.integration


def _run_file(private_dirs: Path) -> dict:
    (path,) = (private_dirs / "data" / "runs").glob("*.json")
    return json.loads(path.read_text())


def _preset(tmp_path: Path, text: str) -> str:
    path = tmp_path / "slo.toml"
    path.write_text('[load]\nmode = "closed"\nusers = 2\nduration = "1s"\n\n' + text)
    return str(path)


def _resolve(*argv: str) -> dict[str, str]:
    ns = build_parser().parse_args(["--headless", *argv])
    return resolve_config(Overrides.from_namespace(ns)).slo


def test_a_preset_s_slo_table_and_the_options_merge(tmp_path: Path):
    preset = _preset(tmp_path, '[slo]\nttft = "500ms"\nlatency = "<=10s"\n')
    assert _resolve("--preset", preset) == {"ttft": "<500ms", "latency": "<=10s"}
    merged = _resolve("--preset", preset, "--slo", "ttft<=0.2s", "--slo", "itl<50ms")
    assert merged == {"ttft": "<=200ms", "itl": "<50ms", "latency": "<=10s"}


def test_slos_met_pass_their_thresholds(mock: MockProcess, tmp_path: Path, private_dirs: Path):
    preset = _preset(tmp_path, '[slo]\nttft = "500ms"\n')
    proc = run_cli(
        "--headless", "--preset", preset, "--url", mock.url, "--slo", "latency<10s",
        "--threshold", "slo_attainment rate>=0.9", "--threshold", "goodput_rate value>0",
    )  # fmt: skip
    assert proc.returncode == ExitCode.OK, proc.stdout + proc.stderr
    run = _run_file(private_dirs)
    summary, slo = run["summary"], run["summary"]["slo"]
    assert run["config"]["slo"] == {"ttft": "<500ms", "latency": "<10s"}
    assert slo["judged"] == slo["ok"] == summary["requests"] > 0
    assert slo["attainment"] == 1.0 and slo["misses"] == {"ttft": 0, "latency": 0}
    assert slo["goodput_rps"] == pytest.approx(summary["rps"], abs=0.002)
    assert slo["goodput_tokens_per_s"] == pytest.approx(summary["output_tokens_per_s"], abs=0.002)
    points = run["series"]
    assert sum(p["slo_judged"] for p in points) == slo["judged"]
    assert sum(p["slo_ok"] for p in points) == slo["ok"]
    assert re.search(r"attainment +100\.0% \(\d+/\d+\) met every SLO", proc.stdout)
    assert re.search(r"goodput +\d+\.\d req/s", proc.stdout)


def test_an_slo_every_request_misses_fails_its_threshold(
    mock: MockProcess, tmp_path: Path, private_dirs: Path
):
    proc = run_cli(
        "--headless", "--preset", _preset(tmp_path, ""), "--url", mock.url,
        "--slo", "ttft<40ms", "--threshold", "slo_attainment rate>=0.9",
    )  # fmt: skip
    assert proc.returncode == ExitCode.THRESHOLDS_FAILED, proc.stdout + proc.stderr
    run = _run_file(private_dirs)
    slo = run["summary"]["slo"]
    assert slo["judged"] > 0 and slo["ok"] == 0 and slo["attainment"] == 0.0
    assert slo["misses"] == {"ttft": slo["judged"]}
    (result,) = run["thresholds"]
    assert result["actual"] == 0.0 and result["passed"] is False
    assert re.search(r"SLO misses +ttft<40ms [\d,]+ \(100\.0%\)", proc.stdout)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--slo", "ttft<500"], "--slo: SLO ttft: expected a bound like"),
        (["--slo", "ttfb<1s"], "--slo: unknown SLO 'ttfb'"),
        (["--slo", "ttft>1s"], "--slo: an SLO is NAME<BOUND"),
        (["--threshold", "slo_attainment rate>=0.9"], "judges SLOs and the run has none"),
        (["--slo", "ttft<1s", "--threshold", "goodput_rate p(95)>1"], "use 'value>=x'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
):
    # in-process (the CLI's own ``main``): refused before any load, nothing to start
    code = main(["--headless", "--preset", "smoke", "--url", "http://127.0.0.1:9", *args])
    err = capsys.readouterr().err
    assert code == ExitCode.USAGE, err
    assert message in err and len(err.strip().splitlines()) == 1


def test_a_bad_slo_table_names_the_file_and_key(tmp_path: Path):
    proc = run_cli("--headless", "--preset", _preset(tmp_path, '[slo]\nttft = "fast"\n'))
    assert proc.returncode == ExitCode.USAGE
    assert "slo.toml: slo: SLO ttft: expected a bound" in proc.stderr
