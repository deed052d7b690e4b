"""Every file a run or command writes, checked by one function (outputs/destination.py
``check_outputs``); the verdict printed after the report and the exports are written, so it
matches the exit code; ``--report`` failing like an export; ``export`` without ``-o``; and an
indexed ``--out`` file that no longer reads as a run forgotten by ``runs rm``."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import REPO, run_cli
from loadtui.mock import MockProcess
from loadtui.storage.runfile import load_record, load_run, save_run
from loadtui.storage.runindex import read_index

DATA = REPO / "tests" / "data"


def _copy_of_run(tmp_path: Path) -> Path:
    copy = tmp_path / "run-a.json"
    shutil.copyfile(DATA / "run-a.json", copy)
    return copy


def _refused(done: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert fragment in done.stderr, done.stderr


@pytest.mark.parametrize(
    ("flags", "writer", "over"),
    [
        (["--out", "x.html", "--report", "x.html"], "--report", "--out"),
        (["--record-requests", "rr.json", "--out", "rr.json"], "--record-requests", "--out"),
        (["--record-requests", "X", "--junit", "X"], "--junit", "--record-requests"),
        (["--report", "X", "--summary-json", "d/../X"], "--summary-json", "--report"),
        (["--csv", "r", "--report", "r_stats.csv"], "--csv", "--report"),
    ],
)
def test_two_outputs_on_one_file_are_refused_before_any_load(
    tmp_path: Path, flags: list[str], writer: str, over: str
) -> None:
    (tmp_path / "d").mkdir()
    args = [a if a.startswith("-") else str(tmp_path / a) for a in flags]
    # no --url: a run that got past the check would start the embedded mock and send load
    done = run_cli("--headless", "--preset", "smoke", "--duration", "2s", *args)
    _refused(done, " would write over ")
    assert f"{writer} {tmp_path}" in done.stderr and f"would write over {over} " in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"]  # nothing written


def test_report_and_replay_never_write_over_the_run_they_read(tmp_path: Path) -> None:
    run = _copy_of_run(tmp_path)
    before = run.read_bytes()
    _refused(run_cli("report", str(run), "-o", str(run)), "would write over the run file")
    other = tmp_path / "sub" / ".." / "run-a.json"  # the same file, spelled otherwise
    (tmp_path / "sub").mkdir()
    _refused(run_cli("report", str(run), "-o", str(other)), "would write over the run file")
    replay = run_cli("replay", str(run), "--headless", "--out", str(run))
    _refused(replay, "would write over the run file")
    export = run_cli("export", str(run), "--format", "html", "-o", str(run))
    _refused(export, "would write over the run file")
    assert run.read_bytes() == before


def test_a_pipe_or_folder_is_never_replaced_by_any_output(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    run = str(_copy_of_run(tmp_path))
    cases = [
        ("report", run, "-o", str(fifo)),
        ("export", run, "--format", "html", "-o", str(fifo)),
        ("--headless", "--preset", "smoke", "--report", str(fifo)),
        ("--headless", "--preset", "smoke", "--record-requests", str(fifo)),
        ("--headless", "--preset", "smoke", "--out", str(fifo)),
        ("--start", "--preset", "smoke", "--out", str(fifo)),  # the app's start: same check
    ]
    for args in cases:
        _refused(run_cli(*args), "not a regular file")
        assert stat.S_ISFIFO(fifo.stat().st_mode), args
    _refused(run_cli("report", run, "-o", str(tmp_path)), "is a folder")
    _refused(run_cli("--start", "--out", "o.json", "--record-requests", "o.json"), "write over")
    assert tmp_path.is_dir()


def _start_run(tmp_path: Path, mock: MockProcess, *flags: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "loadtui",
            "--headless",
            "--url",
            mock.url,
            "--preset",
            "smoke",
            "--duration",
            "3s",
            "--out",
            str(tmp_path / "run.json"),
            "--record-requests",
            str(tmp_path / "rr.jsonl"),
            *flags,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )


def _remove_when_load_flows(tmp_path: Path, folder: Path, proc: subprocess.Popen[str]) -> None:
    """Take ``folder`` away once the run is sending load (past every check): its files can
    then only fail when the run ends."""
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob("rr.jsonl.part*")):
        assert proc.poll() is None and time.monotonic() < deadline, "the run never started"
        time.sleep(0.05)
    shutil.rmtree(folder)


@pytest.mark.integration
@pytest.mark.parametrize("mode", ["--quiet", "--json"])
def test_the_verdict_says_failed_when_the_outputs_fail(
    tmp_path: Path, mock: MockProcess, mode: str
) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()
    report, junit = gone / "r.html", gone / "j.xml"
    proc = _start_run(tmp_path, mock, mode, "--report", str(report), "--junit", str(junit))
    _remove_when_load_flows(tmp_path, gone, proc)
    stdout, stderr = proc.communicate(timeout=90)
    assert proc.returncode == 4, stderr
    assert f"cannot write --report {report}" in stderr and f"--junit {junit}" in stderr
    assert load_record(tmp_path / "run.json").passed  # the run itself is saved and passed
    if mode == "--quiet":
        verdict, path = stdout.splitlines()
        assert verdict.startswith("FAILED: the exports could not all be written (cannot write")
        assert path == f"run saved: {tmp_path / 'run.json'}"
    else:
        document = json.loads(stdout)
        assert document["passed"] is False and document["path"] == str(tmp_path / "run.json")


@pytest.mark.integration
def test_report_and_exports_are_quiet_and_made_from_the_saved_run(
    tmp_path: Path, mock: MockProcess
) -> None:
    report, junit = tmp_path / "r.html", tmp_path / "j.xml"
    proc = _start_run(tmp_path, mock, "--quiet", "--report", str(report), "--junit", str(junit))
    stdout, stderr = proc.communicate(timeout=90)
    assert proc.returncode == 0, stderr
    assert stdout.splitlines()[0].startswith("PASSED") and len(stdout.splitlines()) == 2
    assert "report saved" not in stderr and "exported" not in stderr  # --quiet: no notice
    run = load_record(tmp_path / "run.json")
    html = report.read_text(encoding="utf-8")
    assert run.id in html and f"{run.summary.requests:,}" in html and junit.is_file()


@pytest.mark.integration
def test_a_report_that_cannot_be_written_exits_4_as_an_export_does(
    tmp_path: Path, mock: MockProcess
) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()
    proc = _start_run(tmp_path, mock, "--report", str(gone / "r.html"))
    _remove_when_load_flows(tmp_path, gone, proc)
    stdout, stderr = proc.communicate(timeout=90)
    assert proc.returncode == 4, stderr
    assert "cannot write --report" in stderr
    assert stdout.splitlines()[-1] == f"run saved: {tmp_path / 'run.json'}"


def test_export_without_o_names_the_file_for_the_run(tmp_path: Path) -> None:
    run = load_record(DATA / "run-a.json")
    expected = {
        "junit": [f"{run.id}_junit.xml"],
        "summary-json": [f"{run.id}_summary.json"],
        "html": [f"{run.id}.html"],
        "csv": [f"{run.id}_stats.csv", f"{run.id}_stats_history.csv", f"{run.id}_failures.csv"],
    }
    for fmt, names in expected.items():
        done = subprocess.run(
            [sys.executable, "-m", "loadtui", "export", str(DATA / "run-a.json"), "--format", fmt],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines() == [f"exported: {name}" for name in names]
        assert all((tmp_path / name).is_file() for name in names)
    summary = json.loads((tmp_path / f"{run.id}_summary.json").read_text())
    assert summary["id"] == run.id


def test_runs_rm_forgets_an_indexed_file_that_is_no_longer_a_run(tmp_path: Path) -> None:
    out = tmp_path / "mine" / "run.json"
    out.parent.mkdir()
    saved = load_run(DATA / "run-a.json")
    save_run(saved, out)  # outside the runs folder: indexed, as an --out run is
    assert [e.path for e in read_index()[0]] == [out]
    out.write_text("{ not json", encoding="utf-8")
    assert "skipped" in run_cli("runs").stderr
    done = run_cli("runs", "rm", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"forgot {saved['id']}") and "not a readable run" in done.stdout
    assert out.read_text(encoding="utf-8") == "{ not json"  # the file is the user's: kept
    assert read_index()[0] == []
    listing = run_cli("runs")
    assert listing.returncode == 0 and "skipped" not in listing.stderr
