"""A report or an export is never written over a saved run (the trial lost one that way);
only ``--out``, itself a run, may replace a run file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from loadtui.errors import UsageError
from loadtui.outputs.destination import check_outputs

DATA = Path(__file__).parents[1] / "data"


def test_an_output_over_a_saved_run_is_refused(tmp_path: Path) -> None:
    run = tmp_path / "run.json"
    shutil.copy(DATA / "run-a.json", run)
    for flag in ("--report", "--junit", "--summary-json", "--record-requests", "-o"):
        with pytest.raises(UsageError, match="is a saved run"):
            check_outputs([(flag, run)])
    check_outputs([("--out", run)])  # a new run replaces it, as asked


def test_other_existing_files_are_written_over(tmp_path: Path) -> None:
    for name, text in (("old.html", "<html></html>"), ("other.json", '{"a": 1}')):
        path = tmp_path / name
        path.write_text(text)
        check_outputs([("--report", path)])
