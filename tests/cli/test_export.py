"""Exports as a user makes them: at the end of a real headless run against the embedded mock
(``--csv``, ``--junit``, ``--summary-json``) and from the saved run (``loadtui export``), read
back with the csv module, junitparser and json, and held to the run file itself."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from junitparser import Failure, JUnitXml

from helpers import REPO, run_cli
from loadtui.cli import main
from loadtui.model.record import RunRecord
from loadtui.storage.runfile import load_record

# every test here starts processes; the group: one xdist worker makes the module's runs,
# once (pyproject: loadgroup)
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("export")]

DATA = Path(__file__).parents[1] / "data"

THRESHOLDS_PRESET = """
description = "exports: one threshold passes, one fails, half the chats answer 500"
[load]
users = 2
duration = "2s"
think_time = "0.05s"

[[requests]]
name = "chat"
kind = "chat"
stream = true
max_tokens = 8

[[requests]]
kind = "health"

[mock]
faults = { http_500 = 0.5 }

[thresholds]
error_rate = ["rate<0.99"]
ttft = ["p(95)<1"]
"""
"""The mock's TTFT is 50 ms: ``p(95)<1`` fails; half the chats fail, so ``rate<0.99`` passes."""


@dataclass
class Finished:
    """A headless run that wrote its exports when it ended."""

    proc: subprocess.CompletedProcess[str]
    folder: Path
    run_file: Path
    record: RunRecord

    @property
    def run_json(self) -> dict:
        return json.loads(self.run_file.read_text())


def _env(folder: Path) -> dict[str, str]:
    return {"LOADTUI_DATA_DIR": str(folder / "data"), "LOADTUI_CONFIG_DIR": str(folder / "cfg")}


def _run_with_exports(folder: Path, *args: str) -> Finished:
    run_file = folder / "run.json"
    proc = run_cli(
        "--headless",
        *args,
        "--out",
        str(run_file),
        "--csv",
        str(folder / "end"),
        "--junit",
        str(folder / "end.xml"),
        "--summary-json",
        str(folder / "end.json"),
        env=_env(folder),
    )
    assert run_file.exists(), proc.stdout + proc.stderr
    return Finished(proc, folder, run_file, load_record(run_file))


@pytest.fixture(scope="module")
def thresholds_run(tmp_path_factory: pytest.TempPathFactory) -> Finished:
    folder = tmp_path_factory.mktemp("thresholds")
    preset = folder / "exports.toml"
    preset.write_text(THRESHOLDS_PRESET)
    return _run_with_exports(folder, "--preset", str(preset))


@pytest.fixture(scope="module")
def mix_run(tmp_path_factory: pytest.TempPathFactory) -> Finished:
    return _run_with_exports(tmp_path_factory.mktemp("mix"), "--preset", "mix", "--duration", "2s")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _ms(cell: str) -> float:
    return float(cell)


def _cell(cell: str) -> float | None:
    """A figure cell: None when empty (no figure that second)."""
    return None if cell == "" else float(cell)


def _approx(value: float | None) -> object:
    return None if value is None else pytest.approx(value, abs=1e-3)


def test_a_failed_threshold_still_gets_every_file(thresholds_run: Finished):
    proc = thresholds_run.proc
    assert proc.returncode == 1, proc.stdout + proc.stderr  # the failing threshold decides
    assert proc.stdout.rstrip().splitlines()[-1] == f"run saved: {thresholds_run.run_file}"
    for name in ("end_stats.csv", "end_stats_history.csv", "end_failures.csv"):
        assert (thresholds_run.folder / name).is_file(), name
    assert (thresholds_run.folder / "end.xml").is_file()
    assert (thresholds_run.folder / "end.json").is_file()


def test_stats_csv_matches_the_run(thresholds_run: Finished):
    run = thresholds_run.record
    rows = {r["Name"]: r for r in _rows(thresholds_run.folder / "end_stats.csv")}
    assert list(rows) == [*run.summary.by_label, "Aggregated"]
    assert set(run.summary.by_label) == {"chat", "health"}
    for label, summary in run.summary.by_label.items():
        row = rows[label]
        assert int(row["Request Count"]) == summary.requests
        assert int(row["Failure Count"]) == summary.errors
        assert row["Type"] == label  # the kind: chat, health
        assert _ms(row["Median Response Time"]) == pytest.approx(summary.latency_ms.p50, abs=1e-3)
    total = rows["Aggregated"]
    s = run.summary
    assert int(total["Request Count"]) == s.requests > 0
    assert int(total["Failure Count"]) == s.errors_total > 0  # the mock's 500s
    assert float(total["Requests/s"]) == pytest.approx(s.rps, abs=1e-3)
    latency = s.metrics.latency_ms
    for column, value in (("50%", latency.p50), ("95%", latency.p95), ("99%", latency.p99)):
        assert _ms(total[column]) == pytest.approx(value, abs=1e-3), column
    assert _ms(total["100%"]) == pytest.approx(latency.max, abs=1e-3)
    assert _ms(total["TTFT p95 (ms)"]) == pytest.approx(s.metrics.ttft_ms.p95, abs=1e-3)
    assert _ms(total["TPOT Median (ms)"]) == pytest.approx(s.metrics.tpot_ms.p50, abs=1e-3)
    assert int(total["Output Tokens"]) == s.output_tokens
    assert rows["health"]["TTFT Median (ms)"] == ""  # not streamed: no TTFT, not a zero


def test_history_csv_has_one_row_per_second(thresholds_run: Finished):
    run = thresholds_run.record
    rows = _rows(thresholds_run.folder / "end_stats_history.csv")
    assert len(rows) == len(run.series) > 0
    for row, point in zip(rows, run.series, strict=True):
        assert int(row["Elapsed (s)"]) == point.t
        assert int(row["User Count"]) == point.users
        assert int(row["Requests/s"]) == point.rps
        assert int(row["Failures/s"]) == point.errors
        assert _cell(row["Latency p50 (ms)"]) == _approx(point.latency_ms.p50)
        assert _cell(row["TTFT p95 (ms)"]) == _approx(point.ttft_ms.p95)
        assert row["Target Rate (/s)"] == ""  # closed loop: no target rate, an empty cell
    stamps = [int(r["Timestamp"]) for r in rows]
    assert stamps == sorted(stamps) and abs(stamps[0] - time.time()) < 3600


def test_failures_csv_counts_each_error_class(thresholds_run: Finished):
    run = thresholds_run.record
    rows = _rows(thresholds_run.folder / "end_failures.csv")
    assert {r["Error Class"]: int(r["Occurrences"]) for r in rows} == dict(run.summary.errors)
    assert run.summary.errors.get("http_5xx", 0) > 0  # the mock's 500s


def test_junit_has_a_case_per_threshold_with_actual_vs_expected(thresholds_run: Finished):
    run = thresholds_run.record
    xml = JUnitXml.fromfile(str(thresholds_run.folder / "end.xml"))
    (suite,) = list(xml)
    assert suite.name == f"loadtui {run.preset}"
    assert suite.tests == len(run.thresholds) + 1 == 3  # + "run completed"
    assert suite.failures == 1 and suite.skipped == 0 and suite.errors == 0
    assert suite.time == pytest.approx(run.summary.duration_s, abs=1e-3)
    cases = {case.name: case for case in suite}
    ttft = next(t for t in run.thresholds if t.metric == "ttft")
    assert not ttft.passed and ttft.actual is not None
    (failure,) = cases["ttft p(95)<1"].result
    assert isinstance(failure, Failure)
    assert failure.message == f"actual {ttft.actual!r} ms vs expected p(95)<1"
    assert cases["ttft p(95)<1"].classname == "loadtui.thresholds"
    assert cases["error_rate rate<0.99"].is_passed
    assert cases["run completed"].is_passed and cases["run completed"].classname == "loadtui.run"
    props = {p.name: p.value for p in suite.properties()}
    assert props["run_id"] == run.id and props["run_file"] == str(thresholds_run.run_file)


def test_summary_json_is_the_run_files_summary(thresholds_run: Finished):
    doc = json.loads((thresholds_run.folder / "end.json").read_text())
    saved = thresholds_run.run_json
    assert doc["summary"] == saved["summary"]
    assert doc["thresholds"] == saved["thresholds"]
    assert doc["id"] == saved["id"] and doc["passed"] is False
    assert doc["path"] == str(thresholds_run.run_file)


def test_export_command_gives_the_same_files_as_the_end_of_the_run(
    thresholds_run: Finished, tmp_path: Path
):
    run_file, folder = str(thresholds_run.run_file), thresholds_run.folder
    for fmt, out in (("csv", "again"), ("junit", "again.xml"), ("summary-json", "again.json")):
        proc = run_cli("export", run_file, "--format", fmt, "-o", str(tmp_path / out))
        assert proc.returncode == 0, proc.stderr  # a report of a failed run is not a failure
        assert f"exported: {tmp_path / out}" in proc.stdout
    for end, again in (
        ("end_stats.csv", "again_stats.csv"),
        ("end_stats_history.csv", "again_stats_history.csv"),
        ("end_failures.csv", "again_failures.csv"),
        ("end.xml", "again.xml"),
        ("end.json", "again.json"),
    ):
        assert (tmp_path / again).read_bytes() == (folder / end).read_bytes(), end


def test_several_formats_at_once_and_by_last(thresholds_run: Finished, tmp_path: Path):
    runs = tmp_path / "data" / "runs"
    runs.mkdir(parents=True)
    shutil.copy(thresholds_run.run_file, runs / f"{thresholds_run.record.id}.json")
    proc = run_cli(
        "export",
        "last",
        "--junit",
        str(tmp_path / "j.xml"),
        "--summary-json",
        str(tmp_path / "s.json"),
        env=_env(tmp_path),
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        f"exported: {tmp_path / 'j.xml'}",
        f"exported: {tmp_path / 's.json'}",
    ]
    assert json.loads((tmp_path / "s.json").read_text())["id"] == thresholds_run.record.id


def test_a_replay_writes_its_exports_too(thresholds_run: Finished, tmp_path: Path):
    proc = run_cli(
        "replay",
        str(thresholds_run.run_file),
        "--headless",
        "--out",
        str(tmp_path / "replay.json"),
        "--junit",
        str(tmp_path / "replay.xml"),
        "--csv",
        str(tmp_path / "replay"),
        env=_env(thresholds_run.folder),  # the machine that wrote the run replays it
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr  # the same impossible TTFT threshold
    replay = load_record(tmp_path / "replay.json")
    assert replay.replay_of == thresholds_run.record.id
    suite = next(iter(JUnitXml.fromfile(str(tmp_path / "replay.xml"))))
    assert {p.name: p.value for p in suite.properties()}["run_id"] == replay.id
    assert suite.failures == 1
    assert len(_rows(tmp_path / "replay_stats_history.csv")) == len(replay.series)


def test_mix_preset_has_one_stats_row_per_label(mix_run: Finished):
    run = mix_run.record
    assert mix_run.proc.returncode in (0, 1), mix_run.proc.stderr
    rows = _rows(mix_run.folder / "end_stats.csv")
    labels = [r["Name"] for r in rows]
    assert labels == [*run.summary.by_label, "Aggregated"]
    assert set(run.summary.by_label) == {"chat", "chat stream", "chat + system", "health"}
    by_name = {r["Name"]: r for r in rows}
    assert sum(int(by_name[label]["Request Count"]) for label in run.summary.by_label) == int(
        by_name["Aggregated"]["Request Count"]
    )
    assert by_name["chat stream"]["Type"] == "chat" and by_name["health"]["Type"] == "health"
    assert by_name["chat"]["TTFT Median (ms)"] == ""  # not streamed
    assert by_name["chat stream"]["TTFT Median (ms)"] != ""


def test_an_old_run_file_without_histograms_exports(tmp_path: Path):
    old = DATA / "run-a.json"
    proc = run_cli(
        "export",
        str(old),
        "--csv",
        str(tmp_path / "old"),
        "--junit",
        str(tmp_path / "old.xml"),
        "--summary-json",
        str(tmp_path / "old.json"),
    )
    assert proc.returncode == 0, proc.stderr
    run = load_record(old)
    assert run.histograms is None
    (total,) = [r for r in _rows(tmp_path / "old_stats.csv") if r["Name"] == "Aggregated"]
    latency = run.summary.metrics.latency_ms
    assert _ms(total["95%"]) == latency.p95 and _ms(total["99.9%"]) == latency.p999
    assert total["66%"] == total["99.99%"] == ""  # only a histogram could tell
    assert len(_rows(tmp_path / "old_stats_history.csv")) == len(run.series)
    suite = next(iter(JUnitXml.fromfile(str(tmp_path / "old.xml"))))
    assert suite.tests == 4 and suite.failures == 0
    saved = json.loads(old.read_text())["summary"]  # keys newer files have are added
    exported = json.loads((tmp_path / "old.json").read_text())["summary"]
    assert {key: exported[key] for key in saved} == saved


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--headless", "--junit", "/nonexistent-dir/j.xml"], "does not exist"),
        (["--headless", "--csv", "/tmp/"], "is a folder"),
        (["--headless", "--summary-json", "/"], "is a folder"),
        (["--headless", "--out", "r.json", "--summary-json", "./r.json"], "would write over"),
        (["--headless", "--junit", "x.xml", "--summary-json", "x.xml"], "would write over"),
        (["--junit", "x.xml"], "written at the end of a headless run"),
        (["export", "last", "--format", "junit", "-o", "x.xml"], "no saved runs"),
        (["export", str(DATA / "run-a.json")], "nothing to export"),
        (["export", str(DATA / "run-a.json"), "--format", "xlsx", "-o", "x"], "unknown --format"),
        (["export", str(DATA / "run-a.json"), "--format", "csv", "-o", " "], "needs a path"),
        (["export", str(DATA / "run-a.json"), "-o", "x.xml"], "needs --format"),
        (["export", str(DATA / "run-a.json"), "--format", "junit", "-o", "/dev/null"], "regular"),
        (
            [
                "export",
                str(DATA / "run-a.json"),
                "--format",
                "summary-json",
                "-o",
                str(DATA / "run-a.json"),
            ],
            "would write over the run file",
        ),
    ],
)
def test_bad_destinations_are_one_line_and_exit_2(
    args: list[str],
    fragment: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
):
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2  # in-process: each is refused before any run starts
    err = capsys.readouterr().err
    assert fragment in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "x.xml").exists() and not list(tmp_path.glob("*.json"))


def _popen(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "loadtui", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        cwd=REPO,
    )


@pytest.fixture()
def proc_cleanup() -> Iterator[list[subprocess.Popen[str]]]:
    procs: list[subprocess.Popen[str]] = []
    yield procs
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait(timeout=30)


def test_an_export_that_cannot_be_written_warns_and_exits_4(
    private_dirs: Path, tmp_path: Path, proc_cleanup: list[subprocess.Popen[str]]
):
    gone = tmp_path / "gone"
    gone.mkdir()
    run_file = tmp_path / "run.json"
    proc = _popen(
        "--headless",
        "--preset",
        "smoke",
        "--duration",
        "2s",
        "--out",
        str(run_file),
        "--junit",
        str(gone / "j.xml"),
        "--summary-json",
        str(tmp_path / "s.json"),
    )
    proc_cleanup.append(proc)
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()  # "target: ...": the destinations were checked, load starts
    assert first.startswith("target:"), first + proc.stderr.read()
    gone.rmdir()  # the folder goes away while the run is under way
    out, err = proc.communicate(timeout=90)
    assert proc.returncode == 4, out + err
    assert f"loadtui: cannot write --junit {gone / 'j.xml'}" in err
    assert len([line for line in err.splitlines() if "cannot write" in line]) == 1
    assert out.rstrip().splitlines()[-1] == f"run saved: {run_file}"
    assert load_record(run_file).status == "completed"  # the run itself is saved whole
    assert json.loads((tmp_path / "s.json").read_text())["id"] == load_record(run_file).id


def test_export_format_html_writes_the_report(tmp_path: Path) -> None:
    """``export --format html`` is the HTML report of ``loadtui report`` (docs/report.md)."""
    out = tmp_path / "r.html"
    done = run_cli(
        "export", str(REPO / "tests" / "data" / "run-a.json"), "--format", "html", "-o", str(out)
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"exported: {out}"
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page
