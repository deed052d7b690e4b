"""``loadtui export RUN --report FILE.html`` with the other formats at once (audit of issue 11,
item 5): a headless run takes ``--csv``, ``--junit``, ``--summary-json`` and ``--report``
together, and ``export`` refused the last one ("unrecognized arguments")."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from loadtui.cli import main
from loadtui.storage.runfile import load_record

DATA = Path(__file__).parents[1] / "data"


def test_export_takes_report_beside_the_other_formats(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = DATA / "run-a.json"
    files = {"csv": tmp_path / "x", "junit": tmp_path / "j.xml", "report": tmp_path / "r.html"}
    args = ["export", str(run), "--csv", str(files["csv"]), "--junit", str(files["junit"])]
    assert main([*args, "--report", str(files["report"])]) == 0
    out = capsys.readouterr().out.splitlines()
    assert f"exported: {files['report']}" in out and f"exported: {files['junit']}" in out
    page = files["report"].read_text()
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page
    assert load_record(run).id in page
    with open(f"{files['csv']}_stats.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[-1]["Name"] == "Aggregated"


def test_export_report_is_checked_like_every_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = DATA / "run-a.json"
    same = tmp_path / "same.html"
    assert main(["export", str(run), "--report", str(same), "--junit", str(same)]) == 2
    assert main(["export", str(run), "--report", str(run)]) == 2  # never over the run read
    assert main(["export", str(run), "--report", " "]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 3 and "Traceback" not in err
    assert not same.exists()
    assert json.loads(run.read_text())["id"]  # the run file is untouched
