"""Run management: ``--out`` runs listed through the runs index, ``runs --json``, ``runs rm`` and
``runs prune`` — what is deleted, what is only forgotten, and what is never touched."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from helpers import REPO, run_cli
from loadtui.locations import runs_dir, runs_index_file
from loadtui.mock import MockProcess
from loadtui.storage.runfile import find_run, load_run, save_run
from loadtui.storage.runindex import read_index

FIXTURE = REPO / "tests" / "data" / "run-a.json"


def _saved(path: Path | None, run_id: str, days_ago: float = 1.0, **keys: object) -> Path:
    """The fixture run saved as ``run_id`` (at ``path``, or in the runs folder), started
    ``days_ago`` days ago; saving outside the runs folder indexes it, as a run's save does."""
    run = load_run(FIXTURE)
    started = datetime.now(UTC) - timedelta(days=days_ago)
    run.update(id=run_id, started_at=started.isoformat(), **keys)
    return save_run(run, path)


def _listed_ids() -> list[str]:
    proc = run_cli("runs", "--json")
    assert proc.returncode == 0, proc.stderr
    return [entry["id"] for entry in json.loads(proc.stdout)]


def _index_paths() -> list[Path]:
    return [e.path for e in read_index()[0]]


@pytest.mark.integration
def test_an_out_run_is_listed_found_by_id_and_is_last(private_dirs: Path, mock: MockProcess):
    out = private_dirs / "mine" / "run.json"
    out.parent.mkdir()
    _saved(None, "20200101-000000-smoke-old0", days_ago=400)  # older, in the runs folder
    proc = run_cli(
        "--headless", "--url", mock.url, "--preset", "smoke", "--duration", "2s", "--out", str(out)
    )
    assert proc.returncode == 0, proc.stderr
    run_id = load_run(out)["id"]
    listing = run_cli("runs")
    assert listing.returncode == 0 and listing.stderr == ""
    assert listing.stdout.splitlines()[0].endswith(str(out))  # newest first, by where it went
    entries = json.loads(run_cli("runs", "--json").stdout)
    assert [e["id"] for e in entries] == [run_id, "20200101-000000-smoke-old0"]
    mine = entries[0]
    assert mine["path"] == str(out) and mine["in_runs_folder"] is False
    assert mine["status"] == "completed" and mine["preset"] == "smoke" and mine["passed"] is True
    assert mine["requests"] > 0 and mine["errors"] == 0 and mine["latency_p95_ms"] > 0
    assert set(mine) == {
        "id",
        "path",
        "in_runs_folder",
        "status",
        "preset",
        "started_at",
        "requests",
        "errors",
        "latency_p95_ms",
        "passed",
    }
    assert find_run(run_id) == out  # every command that takes a run id finds it
    assert find_run("last") == out


def test_rm_forgets_an_out_run_and_keeps_its_file_unless_files(private_dirs: Path):
    out = _saved(private_dirs / "kept.json", "20260101-000000-smoke-out1")
    assert _index_paths() == [out]
    proc = run_cli("runs", "rm", "20260101-000000-smoke-out1")
    assert proc.returncode == 0, proc.stderr
    assert (
        proc.stdout.startswith("forgot 20260101-000000-smoke-out1") and "file kept" in proc.stdout
    )
    assert out.is_file() and _index_paths() == [] and _listed_ids() == []
    _saved(out, "20260101-000000-smoke-out2")  # saved again: listed again
    assert _listed_ids() == ["20260101-000000-smoke-out2"]
    proc = run_cli("runs", "rm", "--files", "20260101-000000-smoke-out2")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"removed 20260101-000000-smoke-out2  {out}\n"
    assert not out.exists() and _index_paths() == []


def test_rm_deletes_runs_folder_runs_and_an_unknown_id_removes_nothing(private_dirs: Path):
    a = _saved(None, "20260101-000000-smoke-aaaa", days_ago=2)
    b = _saved(None, "20260101-000000-smoke-bbbb", days_ago=1)
    out = _saved(private_dirs / "o.json", "20260101-000000-smoke-oooo")
    ids = (a.stem, "20260101-000000-smoke-oooo", "20260101-000000-smoke-nope")
    proc = run_cli("runs", "rm", *ids, "--files")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "20260101-000000-smoke-nope" in proc.stderr
    assert a.is_file() and b.is_file() and out.is_file() and _index_paths() == [out]
    proc = run_cli("runs", "rm", "20260101-000000-smoke-aaaa", str(b))  # an id, a path
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        f"removed 20260101-000000-smoke-aaaa  {a}",
        f"removed 20260101-000000-smoke-bbbb  {b}",
    ]
    assert not a.exists() and not b.exists() and out.is_file()
    proc = run_cli("runs", "rm", "last")  # the out run is the one left
    assert proc.returncode == 0 and proc.stdout.startswith("forgot 20260101-000000-smoke-oooo")
    assert run_cli("runs", "rm", "last").returncode == 2  # no runs: one-line error


def test_only_run_files_are_ever_deleted(private_dirs: Path):
    not_a_run = private_dirs / "notes.json"
    not_a_run.write_text('{"schema_version": 1, "id": "x", "mine": true}\n')
    stray = runs_dir() / "broken.json"  # in the runs folder, but not a run
    stray.parent.mkdir(parents=True)
    stray.write_text("{ half a run")
    elsewhere = _saved(None, "20260101-000000-smoke-else")
    moved = elsewhere.rename(private_dirs / "moved.json")  # a run file, never indexed
    for args in ([str(not_a_run), "--files"], [str(stray)], [str(moved)]):
        proc = run_cli("runs", "rm", *args)
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1, (args, proc.stderr)
    assert "add --files" in proc.stderr  # the run file outside: named, refused without --files
    assert not_a_run.is_file() and stray.is_file() and moved.is_file()
    proc = run_cli("runs", "rm", "--files", str(moved))  # a run file named explicitly
    assert proc.returncode == 0 and not moved.exists()


def test_prune_keep_with_dry_run(private_dirs: Path):
    old = [_saved(None, f"20260101-00000{i}-smoke-aaaa", days_ago=10 - i) for i in range(3)]
    out = _saved(private_dirs / "out.json", "20260101-000009-smoke-oooo", days_ago=20)
    newest = _saved(None, "20260101-000010-smoke-aaaa", days_ago=0.5)
    proc = run_cli("runs", "prune", "--keep", "2", "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [  # newest first, like the listing
        f"would remove 20260101-000001-smoke-aaaa  {old[1]}",
        f"would remove 20260101-000000-smoke-aaaa  {old[0]}",
        f"would forget 20260101-000009-smoke-oooo  {out} (file kept; --files deletes it)",
    ]
    assert all(p.is_file() for p in [*old, out, newest]) and _index_paths() == [out]
    proc = run_cli("runs", "prune", "--keep", "2")
    assert proc.returncode == 0, proc.stderr
    assert not old[0].exists() and not old[1].exists() and old[2].is_file()
    assert out.is_file() and _index_paths() == []
    assert _listed_ids() == ["20260101-000010-smoke-aaaa", "20260101-000002-smoke-aaaa"]
    assert run_cli("runs", "prune", "--keep", "2").stdout == "nothing to prune\n"


def test_prune_older_than_by_started_at_else_mtime(private_dirs: Path):
    young = _saved(None, "20260101-000000-smoke-ynng", days_ago=5)
    aged = _saved(None, "20260101-000000-smoke-aged", days_ago=40)
    undated = _saved(None, "20260101-000000-smoke-nodt")
    run = load_run(undated)
    run["started_at"] = "not a date"
    save_run(run, undated)
    month_ago = time.time() - 31 * 86400
    os.utime(undated, (month_ago, month_ago))  # no readable start: the file's age counts
    out_old = _saved(private_dirs / "o.json", "20260101-000000-smoke-oold", days_ago=90)
    proc = run_cli("runs", "prune", "--older-than", "30d", "--files")
    assert proc.returncode == 0, proc.stderr
    assert sorted(proc.stdout.splitlines()) == sorted(
        [
            f"removed 20260101-000000-smoke-aged  {aged}",
            f"removed 20260101-000000-smoke-nodt  {undated}",
            f"removed 20260101-000000-smoke-oold  {out_old}",  # --files: the --out file too
        ]
    )
    assert young.is_file() and not aged.exists() and not undated.exists() and not out_old.exists()


def test_prune_with_both_keeps_the_newest_whatever_their_age(private_dirs: Path):
    days = (100, 80, 75, 20)
    runs = [_saved(None, f"20260101-00000{i}-smoke-aaaa", days_ago=d) for i, d in enumerate(days)]
    proc = run_cli("runs", "prune", "--keep", "2", "--older-than", "70d")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        f"removed 20260101-000001-smoke-aaaa  {runs[1]}",
        f"removed 20260101-000000-smoke-aaaa  {runs[0]}",
    ]
    assert runs[2].is_file() and runs[3].is_file()  # 75 days old, but among the newest 2


def test_prune_keeps_a_run_that_may_still_be_running(private_dirs: Path):
    live = _saved(None, "20260101-000000-smoke-live", days_ago=0.001, status="running")
    proc = run_cli("runs", "prune", "--keep", "0")
    assert proc.returncode == 0 and proc.stdout == "nothing to prune\n"
    assert "may still be running" in proc.stderr and live.is_file()


@pytest.mark.parametrize(
    "args",
    [
        ("runs", "prune"),
        ("runs", "prune", "--dry-run"),
        ("runs", "prune", "--keep", "-1"),
        ("runs", "prune", "--older-than", "soon"),
    ],
)
def test_prune_refuses_bad_or_missing_options(private_dirs: Path, args: tuple[str, ...]):
    kept = _saved(None, "20260101-000000-smoke-kept", days_ago=365)
    proc = run_cli(*args)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "Traceback" not in proc.stderr and kept.is_file()


def test_a_corrupt_index_is_ignored_with_one_warning(private_dirs: Path):
    good = _saved(private_dirs / "good.json", "20260101-000000-smoke-good")
    index = runs_index_file()
    with index.open("ab") as fh:
        fh.write(b'\xff\xfe garbage\n{"id": 3}\n[1, 2]\n{"id": "x", "path": "relative.json"}\n')
    proc = run_cli("runs")
    assert proc.returncode == 0 and str(good) in proc.stdout
    assert proc.stderr == f"loadtui: skipped {index}: 4 unreadable line(s) ignored\n"
    index.unlink()
    index.mkdir()  # not even a file: the listing goes on, and a save is never lost over it
    proc = run_cli("runs", "--json")
    assert proc.returncode == 0 and json.loads(proc.stdout) == []
    assert proc.stderr.count("\n") == 1 and "runs index" in proc.stderr
    assert _saved(private_dirs / "next.json", "20260101-000000-smoke-next").is_file()


def test_an_indexed_run_whose_file_is_gone_is_named_and_forgotten(private_dirs: Path):
    gone = _saved(private_dirs / "gone.json", "20260101-000000-smoke-gone")
    gone.unlink()
    proc = run_cli("runs")
    assert proc.returncode == 0 and proc.stdout.startswith("no saved runs")
    assert "20260101-000000-smoke-gone" in proc.stderr and "is gone" in proc.stderr
    proc = run_cli("runs", "rm", "20260101-000000-smoke-gone")
    assert proc.returncode == 0
    assert proc.stdout.endswith("(its file was already gone)\n") and _index_paths() == []
    assert run_cli("runs").stderr == ""


def test_checkpoints_index_a_run_once_and_a_reused_out_path_lists_the_newest(private_dirs: Path):
    out = private_dirs / "again.json"
    for _ in range(3):  # a checkpoint rewrites the file every few seconds, then the final save
        _saved(out, "20260101-000000-smoke-frst")
    assert runs_index_file().read_text().count("\n") == 1
    _saved(out, "20260101-000000-smoke-scnd")  # another run with the same --out
    ((entry,), notes) = read_index()
    assert entry.id == "20260101-000000-smoke-scnd" and entry.path == out and notes == []
    assert _listed_ids() == ["20260101-000000-smoke-scnd"]
    assert find_run("20260101-000000-smoke-scnd") == out
    inside = _saved(runs_dir() / "in.json", "20260101-000000-smoke-insd")
    assert [e.path for e in read_index()[0]] == [out] and inside.is_file()  # listed by itself


def test_an_age_that_is_not_one_names_the_age_grammar() -> None:
    done = run_cli("runs", "prune", "--older-than", "3x")
    assert done.returncode == 2
    assert "expected an age like 30d" in done.stderr and "Traceback" not in done.stderr
