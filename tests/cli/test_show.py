"""``loadtui show RUN``: a saved run's summary as its headless run printed it, and ``--json``.

Real runs against the embedded mock, the fixture files of older versions, and files a newer
loadtui could write; every case through the real command line.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import run_cli

pytestmark = pytest.mark.integration  # every test here starts processes

DATA = Path(__file__).parents[1] / "data"


def _summary_part(stdout: str) -> list[str]:
    """From the summary's head line (``loadtui PRESET against ...``) to the generator line."""
    lines = stdout.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("loadtui "))
    end = next(i for i, ln in enumerate(lines) if ln.startswith("generator: "))
    return lines[start : end + 1]


def _saved(stdout: str) -> Path:
    (line,) = [ln for ln in stdout.splitlines() if ln.startswith("run saved: ")]
    return Path(line.removeprefix("run saved: "))


def test_show_prints_what_the_headless_run_printed_at_its_end(private_dirs: Path):
    proc = run_cli("--headless", "--preset", "smoke", "--duration", "2s")
    assert proc.returncode == 0, proc.stderr
    path = _saved(proc.stdout)
    run = json.loads(path.read_text())
    # by path, by id and as the newest run: the same output
    shown = [run_cli("show", ref) for ref in (str(path), run["id"], "last")]
    for out in shown:
        assert out.returncode == 0, out.stderr
        assert out.stdout == shown[0].stdout
    text = shown[0].stdout
    assert _summary_part(text) == _summary_part(proc.stdout)  # the very same summary
    first, setup, plan = text.splitlines()[:3]
    assert first.startswith(f"run {run['id']} · completed · started 20")
    assert setup == "preset smoke · target the embedded mock (model mock-model)"
    assert (
        plan == "load closed loop: 1 user, think 0.2s, 2s · requests health, models, chat stream"
        " · streaming yes"
    )


@pytest.mark.parametrize("name", ["run-a.json", "run-b.json", "run-mix.json"])
def test_old_fixture_files_show(name: str):
    fixture = json.loads((DATA / name).read_text())
    proc = run_cli("show", str(DATA / name))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    out = proc.stdout
    assert out.startswith(f"run {fixture['id']} · {fixture['status']}")
    assert f"preset {fixture['preset']}" in out
    requests = fixture["summary"]["requests"]
    assert f"requests      {requests:,} (" in out
    for t in fixture["thresholds"]:
        assert t["expression"] in out


def test_json_before_the_command_counts_too():
    proc = run_cli("--json", "show", str(DATA / "run-a.json"))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["id"] == json.loads((DATA / "run-a.json").read_text())["id"]


def test_failed_thresholds_are_shown_not_gated(private_dirs: Path):
    fixture = json.loads((DATA / "run-a.json").read_text())
    fixture["thresholds"][0]["passed"] = False
    path = private_dirs / "failed.json"
    path.write_text(json.dumps(fixture))
    proc = run_cli("show", str(path))
    assert proc.returncode == 0, proc.stderr
    assert "FAIL" in proc.stdout
    as_json = run_cli("show", str(path), "--json")
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout)["passed"] is False
    assert "does not gate" in " ".join(run_cli("show", "--help").stdout.split())


def test_show_json_is_the_runs_summary_document(private_dirs: Path):
    out = private_dirs / "r.json"
    ran = run_cli(
        "--headless", "--preset", "smoke", "--duration", "2s", "--json", "--out", str(out)
    )
    assert ran.returncode == 0, ran.stderr
    proc = run_cli("show", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc == json.loads(ran.stdout)  # the same document the run printed
    run = json.loads(out.read_text())
    assert doc["path"] == str(out)
    assert (doc["id"], doc["status"], doc["passed"]) == (run["id"], "completed", True)
    assert doc["summary"] == run["summary"]
    assert doc["thresholds"] == run["thresholds"]
    assert doc["generator"] == run["generator"]


def test_an_old_file_and_a_newer_versions_config_show_what_they_have(private_dirs: Path):
    """An old file without its optional keys, whose config holds a key a newer loadtui wrote
    (``config_error``): the summary it has is shown, and why it cannot be replayed."""
    fixture = json.loads((DATA / "run-a.json").read_text())
    for key in ("generator", "thresholds", "series", "target", "started_at", "ended_at", "preset"):
        del fixture[key]
    fixture["config"]["load"]["future_knob"] = 3
    path = private_dirs / "old-and-new.json"
    path.write_text(json.dumps(fixture))
    proc = run_cli("show", str(path))
    assert proc.returncode == 0, proc.stderr
    assert "cannot be run again here" in proc.stdout and "future_knob" in proc.stdout
    assert f"requests      {fixture['summary']['requests']:,} (" in proc.stdout
    assert "generator: not recorded in this run file" in proc.stdout
    as_json = run_cli("show", str(path), "--json")
    assert as_json.returncode == 0, as_json.stderr
    doc = json.loads(as_json.stdout)
    assert doc["summary"]["requests"] == fixture["summary"]["requests"]
    assert doc["thresholds"] == [] and doc["started_at"] == ""


@pytest.mark.parametrize(
    ("ref", "fragment"),
    [
        ("20991231-000000-smoke-ffff", "no saved run"),
        ("./missing.json", "no such run file"),
        ("README.md", "no saved run 'README.md'"),
        ("last", "no saved runs"),
        ("not a run id", "is not a run id"),
    ],
)
def test_unknown_or_unreadable_run_is_one_line_exit_2(ref: str, fragment: str):
    extra = ("--json",) if ref == "last" else ()  # --json fails the same way
    proc = run_cli("show", ref, *extra)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout == ""
    (line,) = proc.stderr.splitlines()
    assert line.startswith("loadtui: error: ") and fragment in line


def test_a_file_that_is_not_a_run_is_one_line_exit_2(private_dirs: Path):
    path = private_dirs / "notes.json"
    path.write_text("not json at all")
    proc = run_cli("show", str(path))
    assert proc.returncode == 2
    (line,) = proc.stderr.splitlines()
    assert "not valid JSON" in line
