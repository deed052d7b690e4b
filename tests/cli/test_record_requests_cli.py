"""``--record-requests`` as a user types it: a path that cannot be written is one line and exit
2 before any load; the app refuses it without ``--start``; a replay records too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import run_cli


@pytest.mark.parametrize(
    ("where", "says"),
    [
        ("missing/requests.jsonl", "does not exist"),
        (".", "is a folder"),
    ],
)
def test_a_path_that_cannot_be_written_is_refused(private_dirs: Path, where: str, says: str):
    target = private_dirs / where
    proc = run_cli("--headless", "--preset", "smoke", "--record-requests", str(target))
    assert proc.returncode == 2
    assert says in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr
    assert not (private_dirs / "data" / "runs").exists()  # nothing ran


def test_the_app_needs_start_for_it(private_dirs: Path):
    proc = run_cli("--record-requests", str(private_dirs / "r.jsonl"))
    assert proc.returncode == 2
    assert "--record-requests needs --start" in proc.stderr


@pytest.mark.integration
def test_a_replay_records_its_requests(private_dirs: Path):
    first = private_dirs / "first.json"
    proc = run_cli("--headless", "--preset", "smoke", "--duration", "1s", "--out", str(first))
    assert proc.returncode == 0, proc.stderr
    lines = private_dirs / "replay.jsonl"
    replay_file = private_dirs / "replay.json"
    proc = run_cli(
        "replay",
        str(first),
        "--headless",
        "--out",
        str(replay_file),
        "--record-requests",
        str(lines),
    )
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in lines.read_text().splitlines()]
    replay = json.loads(replay_file.read_text())
    assert len(rows) == replay["summary"]["requests"] > 0
    assert {r["label"] for r in rows} == set(replay["summary"]["by_label"])
    assert "record_requests" not in json.dumps(replay["config"])  # never part of the config
