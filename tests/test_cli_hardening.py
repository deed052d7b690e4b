"""Issue 8, the command line and console: nothing crashes, hangs or misleads a user.

Each test runs ``python -m loadtui`` as a user would, against the embedded mock, for 1-2 s.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from helpers import run_cli


def runs_in(data: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((data / "runs").glob("*.json"))]


def saved_path(stdout: str) -> Path:
    (line,) = [ln for ln in stdout.splitlines() if ln.startswith("run saved: ")]
    return Path(line.removeprefix("run saved: "))


# 16. piped output: the run path whole on one line, table cells never cut


def test_piped_output_keeps_the_run_path_whole_and_cells_uncut(private_dirs: Path):
    # a long --out path in a folder with a bracket (markup must not eat it) and a narrow COLUMNS
    folder = private_dirs / ("a-rather-long-folder-name-[for]-wrapping-" + "x" * 40)
    folder.mkdir()
    out = folder / "run-with-a-long-file-name-that-would-be-split.json"
    proc = run_cli("--headless", "--duration", "1s", "--out", str(out), env={"COLUMNS": "60"})
    assert proc.returncode == 0, proc.stderr
    assert saved_path(proc.stdout) == out
    assert out.is_file()
    assert "…" not in proc.stdout  # no cell or line cut short


# 17. no live redraw where nobody can see it: progress lines instead


def test_live_into_a_pipe_prints_progress_lines(private_dirs: Path):
    proc = run_cli("--headless", "--duration", "2s", "--live")
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"^\[\s*\d+\.\ds/2s\] users", proc.stdout, re.M), proc.stdout


def test_dumb_terminal_gets_progress_lines(private_dirs: Path):
    # TERM=dumb with a forced terminal is what rich sees on a dumb terminal
    env = {"TERM": "dumb", "FORCE_COLOR": "1", "TTY_COMPATIBLE": "1"}
    proc = run_cli("--headless", "--duration", "2s", env=env)
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"^\[\s*\d+\.\ds/2s\] users", proc.stdout, re.M), proc.stdout


# 18. closed loop with a rate cap: users and the cap, not arrivals (0 in closed loop)


def test_closed_loop_rate_cap_shows_users_and_cap(private_dirs: Path):
    controls = private_dirs / "cap.toml"
    controls.write_text('[[control]]\nat = "0s"\naction = "rate"\nvalue = 5\n')
    proc = run_cli(
        "--headless", "--users", "2", "--duration", "2s", "--control-file", str(controls)
    )
    assert proc.returncode == 0, proc.stderr
    progress = [ln for ln in proc.stdout.splitlines() if ln.startswith("[")]
    assert progress, proc.stdout
    assert all(re.search(r"users \d+/2 cap 5/s", ln) for ln in progress), progress
    assert not any("rate 0/" in ln for ln in progress)
