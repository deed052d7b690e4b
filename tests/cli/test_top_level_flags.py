"""``--json`` and ``--quiet`` given before ``compare``, ``runs`` and ``show`` (where the top-level
parser takes them): ``--json`` works exactly as after the command, ``--quiet`` is refused in
one line (exit 2) instead of being silently ignored."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from helpers import run_cli

pytestmark = pytest.mark.integration  # every test here starts processes

DATA = Path(__file__).parents[1] / "data"
A, B = str(DATA / "run-a.json"), str(DATA / "run-b.json")


def _json(*args: str) -> object:
    proc = run_cli(*args)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_json_before_compare_is_the_same_as_after(private_dirs: Path):
    before = _json("--json", "compare", A, B)
    assert before == _json("compare", A, B, "--json")
    assert isinstance(before, dict) and before["config"]["load"] == ["3 users", "8 users"]


def test_json_before_runs_is_the_same_as_after(private_dirs: Path):
    runs = private_dirs / "data" / "runs"
    runs.mkdir(parents=True)
    shutil.copy(DATA / "run-a.json", runs / "run-a.json")
    before = _json("--json", "runs")
    assert before == _json("runs", "--json")
    assert isinstance(before, list) and len(before) == 1


def test_json_before_show_is_the_same_as_after(private_dirs: Path):
    before = _json("--json", "show", A)
    assert before == _json("show", A, "--json")
    assert isinstance(before, dict) and before["path"] == A


def test_json_before_runs_rm_is_refused_as_after(private_dirs: Path):
    proc = run_cli("--json", "runs", "rm", "last")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "loadtui: error: --json goes with the listing (loadtui runs --json), not with rm"
    ]


@pytest.mark.parametrize(("command", "args"), [("compare", (A, B)), ("runs", ()), ("show", (A,))])
def test_quiet_before_a_command_that_prints_no_run_is_refused(
    private_dirs: Path, command: str, args: tuple[str, ...]
):
    proc = run_cli("--quiet", command, *args)
    assert proc.returncode == 2, proc.stdout
    assert proc.stdout == ""
    (line,) = proc.stderr.strip().splitlines()
    assert f"--quiet goes with a headless run or replay, not with {command}" in line
