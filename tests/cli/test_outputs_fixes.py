"""``runs rm`` forgets an indexed ``--out`` file that no longer reads as a run (the file is kept)."""

from __future__ import annotations

from pathlib import Path

from helpers import REPO, run_cli
from loadtui.storage.runfile import load_run, save_run
from loadtui.storage.runindex import read_index

DATA = REPO / "tests" / "data"


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
