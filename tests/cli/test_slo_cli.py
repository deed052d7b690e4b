"""``--slo`` and ``[slo]`` as a user runs them: goodput and attainment in the run file and the
console, thresholds over them exit 0 or 1, bad input is one line and exit 2 before any load.

Short real runs against the shared mock (TTFT 50 ms, 10 ms between chunks, 8 tokens)."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from rich.console import Console

from helpers import run_cli
from loadtui.cli import main
from loadtui.cli.parser import build_parser
from loadtui.headless.console import progress_line, progress_panel
from loadtui.mock import MockProcess
from loadtui.model.record import RunSummary, SloSummary
from loadtui.run.exitcodes import ExitCode
from loadtui.run.frame import LiveFrame
from loadtui.run.options import Overrides, resolve_config

# the group: one xdist worker makes the module's runs, once (pyproject: loadgroup)
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("slo_cli")]


def _preset(tmp_path: Path, text: str) -> str:
    path = tmp_path / "slo.toml"
    path.write_text('[load]\nmode = "closed"\nusers = 2\nduration = "1s"\n\n' + text)
    return str(path)


def _resolve(*argv: str) -> dict[str, str]:
    ns = build_parser().parse_args(["--headless", *argv])
    return resolve_config(Overrides.from_namespace(ns)).slo


@dataclass(frozen=True)
class Ran:
    proc: subprocess.CompletedProcess[str]
    path: Path
    run: dict


@pytest.fixture(scope="module")
def runs(mock_upstream: MockProcess, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Ran]:
    """Two runs in one data folder: SLOs every request meets (a preset's ``[slo]`` and an
    option), and one every request misses — each with a threshold over them."""
    tmp = tmp_path_factory.mktemp("slo")
    env = {"LOADTUI_DATA_DIR": str(tmp / "data"), "LOADTUI_CONFIG_DIR": str(tmp / "config")}
    preset = _preset(tmp, '[slo]\nttft = "500ms"\n')
    args = {
        "met": ["--slo", "latency<10s", "--threshold", "slo_attainment rate>=0.9",
                "--threshold", "goodput_rate value>0"],
        "missed": ["--slo", "ttft<40ms", "--threshold", "slo_attainment rate>=0.9"],
    }  # fmt: skip
    out = {}
    for name, extra in args.items():
        path = tmp / f"{name}.json"
        proc = run_cli(
            "--headless", "--preset", preset, "--url", mock_upstream.url, "--out", str(path),
            *extra, env=env,
        )  # fmt: skip
        out[name] = Ran(proc, path, json.loads(path.read_text()))
    return out


def test_a_preset_s_slo_table_and_the_options_merge(tmp_path: Path):
    preset = _preset(tmp_path, '[slo]\nttft = "500ms"\nlatency = "<=10s"\n')
    assert _resolve("--preset", preset) == {"ttft": "<500ms", "latency": "<=10s"}
    merged = _resolve("--preset", preset, "--slo", "ttft<=0.2s", "--slo", "itl<50ms")
    assert merged == {"ttft": "<=200ms", "itl": "<50ms", "latency": "<=10s"}


def test_slos_met_pass_their_thresholds(runs: dict[str, Ran]):
    proc, run = runs["met"].proc, runs["met"].run
    assert proc.returncode == ExitCode.OK, proc.stdout + proc.stderr
    summary, slo = run["summary"], run["summary"]["slo"]
    assert run["config"]["slo"] == {"ttft": "<500ms", "latency": "<10s"}
    assert slo["judged"] == slo["ok"] == summary["requests"] > 0
    assert slo["attainment"] == 1.0 and slo["misses"] == {"ttft": 0, "latency": 0}
    assert slo["goodput_rps"] == pytest.approx(summary["rps"], abs=0.002)
    assert slo["goodput_tokens_per_s"] == pytest.approx(summary["output_tokens_per_s"], abs=0.002)
    points = run["series"]
    assert sum(p["slo_judged"] for p in points) == slo["judged"]
    assert sum(p["slo_ok"] for p in points) == slo["ok"]
    assert [t["passed"] for t in run["thresholds"]] == [True, True]
    assert re.search(r"attainment +100\.0% \(\d+/\d+\) met every SLO", proc.stdout)
    assert re.search(r"goodput +\d+\.\d req/s", proc.stdout)


def test_an_slo_every_request_misses_fails_its_threshold(runs: dict[str, Ran]):
    proc, run = runs["missed"].proc, runs["missed"].run
    assert proc.returncode == ExitCode.THRESHOLDS_FAILED, proc.stdout + proc.stderr
    slo = run["summary"]["slo"]
    assert slo["judged"] > 0 and slo["ok"] == 0 and slo["attainment"] == 0.0
    assert slo["misses"] == {"ttft": slo["judged"]}  # the option replaced the preset's ttft
    (result,) = run["thresholds"]
    assert result["actual"] == 0.0 and result["passed"] is False
    assert re.search(r"SLO misses +ttft<40ms [\d,]+ \(100\.0%\)", proc.stdout)


def test_show_compare_report_and_exports_carry_them(
    runs: dict[str, Ran], tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    met, missed = str(runs["met"].path), str(runs["missed"].path)
    assert main(["show", missed]) == ExitCode.OK
    shown = capsys.readouterr().out
    assert "SLOs ttft<40ms" in shown and re.search(r"attainment +0\.0% \(0/\d+\)", shown)
    assert main(["compare", met, missed]) == ExitCode.OK
    compared = capsys.readouterr().out
    assert re.search(r"SLO attainment +100\.00% +0\.00%", compared), compared
    assert "goodput" in compared
    assert "ttft<500ms latency<10s" in compared and "not alike: different SLOs" in compared
    html = tmp_path / "r.html"
    assert main(["report", missed, "-o", str(html)]) == ExitCode.OK
    page = html.read_text()
    assert "SLOs and goodput" in page and "ttft&lt;40ms" in page
    assert "Goodput (requests/s meeting every SLO)" in page and "SLO attainment per second" in page
    prefix = tmp_path / "c"
    assert main(["export", met, "--format", "csv", "-o", str(prefix)]) == ExitCode.OK
    stats = list(csv.DictReader((tmp_path / "c_stats.csv").open()))
    assert stats[-1]["Name"] == "Aggregated" and stats[-1]["SLO Attainment"] == "1"
    # each SLO the run set, how often it was missed; the others (and label rows) empty
    assert [stats[-1][f"{n} SLO Misses"] for n in ("TTFT", "ITL", "TPOT", "Latency")] == [
        "0", "", "", "0"
    ]  # fmt: skip
    assert all(row["TTFT SLO Misses"] == "" for row in stats[:-1])
    assert main(["export", missed, "--format", "csv", "-o", str(tmp_path / "m")]) == 0
    worst = list(csv.DictReader((tmp_path / "m_stats.csv").open()))[-1]
    assert worst["TTFT SLO Misses"] == str(runs["missed"].run["summary"]["slo"]["judged"])
    history = list(csv.DictReader((tmp_path / "c_stats_history.csv").open()))
    judged = runs["met"].run["summary"]["slo"]["judged"]
    assert sum(int(row["Goodput/s"]) for row in history) == judged
    summary = tmp_path / "s.json"
    assert main(["export", missed, "--format", "summary-json", "-o", str(summary)]) == 0
    assert json.loads(summary.read_text())["summary"]["slo"]["attainment"] == 0.0
    junit = tmp_path / "j.xml"
    assert main(["export", missed, "--format", "junit", "-o", str(junit)]) == ExitCode.OK
    assert "slo_attainment" in junit.read_text() and "<failure" in junit.read_text()


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


def test_the_live_line_and_panel_show_goodput_and_attainment():
    slo = SloSummary(judged=40, ok=30, attainment=0.75, goodput_rps=6.0, misses={"itl": 10})
    frame = LiveFrame(phase="running", elapsed=5.0, duration=10.0, totals=RunSummary(slo=slo))
    assert progress_line(frame).endswith(" goodput 6.0/s att 75.0% worst itl")
    buf = io.StringIO()
    Console(width=100, file=buf).print(progress_panel(frame))
    panel = buf.getvalue()
    assert "6.0 req/s" in panel and "75.0% (30/40) met; missed: itl 10 (25.0%)" in panel
    without = LiveFrame(phase="running", elapsed=5.0, duration=10.0)
    assert "goodput" not in progress_line(without)
