"""The machine-readable console: ``--quiet``, ``--json`` and the run path line.

Short headless runs and replays against the embedded mock, through the real command line,
piped and (for the path line) on a pseudo-terminal 40 columns wide.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import run_cli

pytestmark = pytest.mark.integration  # every test here starts processes

SHORT = ("--headless", "--preset", "smoke", "--duration", "2s")


def _strict_preset(folder: Path) -> Path:
    """One impossible threshold and one that passes."""
    preset = folder / "strict.toml"
    preset.write_text(
        'description = "impossible"\n[load]\nusers = 1\nduration = "2s"\n'
        '[[requests]]\nkind = "chat"\n'
        '[thresholds]\nttft = ["p(95)<0.001"]\nerror_rate = ["rate<0.5"]\n'
    )
    return preset


def test_quiet_prints_the_verdict_and_the_run_path_only(private_dirs: Path):
    proc = run_cli(*SHORT, "--quiet")
    assert proc.returncode == 0, proc.stderr
    verdict, saved = proc.stdout.splitlines()
    path = Path(saved.removeprefix("run saved: "))
    run = json.loads(path.read_text())
    s = run["summary"]
    assert verdict.startswith(f"PASSED: {s['requests']:,} requests, 0 errors, latency p95 ")
    assert "TTFT p95 " in verdict  # the smoke preset streams one chat
    assert "target:" not in proc.stderr and "Traceback" not in proc.stderr


def test_quiet_keeps_the_generators_warnings_on_stderr(private_dirs: Path):
    """An open loop the target cannot keep up with (one request in flight at most): the
    summary's generator warnings are not lost with the summary."""
    proc = run_cli(*SHORT, "--rate", "30", "--max-in-flight", "1", "--quiet")
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    verdict, saved = proc.stdout.splitlines()  # the warnings are not on stdout
    assert verdict.startswith(("PASSED: ", "FAILED: ")) and saved.startswith("run saved: ")
    run = json.loads(Path(saved.removeprefix("run saved: ")).read_text())
    assert run["generator"]["warnings"]
    for warning in run["generator"]["warnings"]:
        assert f"loadtui: warning: {warning}" in proc.stderr.splitlines()


def test_quiet_failed_thresholds_say_which_and_exit_1(private_dirs: Path):
    out = private_dirs / "r.json"
    proc = run_cli(
        "--headless", "--preset", str(_strict_preset(private_dirs)), "-q", "--out", str(out)
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stdout.splitlines() == [
        proc.stdout.splitlines()[0],
        f"run saved: {out}",
    ]
    verdict = proc.stdout.splitlines()[0]
    assert verdict.startswith("FAILED: 1 of 2 thresholds (ttft p(95)<0.001); ")
    assert json.loads(out.read_text())["thresholds"][0]["passed"] is False


def test_json_is_one_document_and_keeps_the_exit_code(private_dirs: Path):
    """``--json`` with ``--quiet``: JSON wins; failed thresholds still exit 1."""
    out = private_dirs / "r.json"
    preset = str(_strict_preset(private_dirs))
    proc = run_cli("--headless", "--preset", preset, "--json", "--quiet", "--out", str(out))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)  # the whole of stdout is the document
    run = json.loads(out.read_text())
    assert doc["path"] == str(out) and doc["id"] == run["id"]
    assert doc["passed"] is False and doc["status"] == "completed"
    assert doc["summary"] == run["summary"] and doc["thresholds"] == run["thresholds"]


def test_json_replay(private_dirs: Path):
    first = run_cli(*SHORT, "--json")
    assert first.returncode == 0, first.stderr
    original = json.loads(first.stdout)
    proc = run_cli("replay", original["path"], "--headless", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["id"] != original["id"] and doc["passed"] is True
    replay = json.loads(Path(doc["path"]).read_text())
    assert replay["replay_of"] == original["id"]
    assert doc["summary"]["requests"] == replay["summary"]["requests"] > 0


@pytest.mark.parametrize("flag", ["--json", "--quiet"])
def test_quiet_and_json_need_headless(flag: str, private_dirs: Path):
    run_a = str(Path(__file__).parents[1] / "data" / "run-a.json")
    # the flag after the command or before it (argparse must not reset it): the same error
    for args in ((flag,), ("replay", run_a, flag), (flag, "replay", run_a)):
        proc = run_cli(*args)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        (line,) = proc.stderr.splitlines()
        assert (
            line
            == f"loadtui: error: {flag} needs --headless: the interactive app prints no summary"
        )


def _long_out(folder: Path) -> Path:
    deep = folder / ("a-folder-with-a-rather-long-name-" * 3) / "and-one-more-level-below-it"
    deep.mkdir(parents=True)
    return deep / "a-run-file-whose-name-alone-is-longer-than-forty-columns.json"


_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")


def _run_on_a_terminal(
    *args: str, columns: int, timeout: float = 90, strip: bool = True
) -> tuple[int, str]:
    """``loadtui ARGS`` with stdout a pseudo-terminal ``columns`` wide; (exit code, output),
    the output without escape sequences and carriage returns unless ``strip`` is False."""
    master, slave = pty.openpty()
    env = {**os.environ, "COLUMNS": str(columns), "LINES": "24", "TERM": "xterm-256color"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "loadtui", *args],
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=subprocess.PIPE,
        env=env,
    )
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    text = b"".join(chunks).decode("utf-8", "replace")
    return code, _ESCAPES.sub("", text) if strip else text


@pytest.mark.parametrize("mode", [(), ("--quiet",)])
def test_run_path_line_is_whole_on_a_narrow_terminal(mode: tuple[str, ...], private_dirs: Path):
    out = _long_out(private_dirs)
    code, text = _run_on_a_terminal(*SHORT, *mode, "--out", str(out), columns=40)
    assert code == 0, text
    assert out.is_file()
    assert f"run saved: {out}" in text.splitlines()


def test_run_path_line_is_whole_when_piped_narrow(private_dirs: Path):
    out = _long_out(private_dirs)
    proc = run_cli(*SHORT, "--out", str(out), env={"COLUMNS": "40"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == f"run saved: {out}"


@pytest.mark.parametrize("mode", ["--json", "--quiet"])
def test_interrupted_run_still_reports_for_machines(mode: str, private_dirs: Path):
    """Ctrl-C mid-run: saved as interrupted, exit 130, stdout still what the mode promises."""
    out = private_dirs / "r.json"
    args = ("--headless", "--preset", "smoke", "--duration", "60s", mode, "--out", str(out))
    proc = subprocess.Popen(
        [sys.executable, "-m", "loadtui", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not out.exists():  # the first checkpoint: load is running
            assert proc.poll() is None and time.monotonic() < deadline, "no checkpoint"
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, stdout + stderr
    run = json.loads(out.read_text())
    assert run["status"] == "interrupted"
    if mode == "--json":
        doc = json.loads(stdout)
        assert (doc["status"], doc["path"], doc["id"]) == ("interrupted", str(out), run["id"])
    else:
        verdict, saved = stdout.splitlines()
        assert verdict.startswith(
            f"INTERRUPTED by SIGINT: {run['summary']['requests']:,} requests, "
        )
        assert saved == f"run saved: {out}"


def test_json_on_a_terminal_is_still_one_document(private_dirs: Path):
    """No live panel, no progress drawn on a terminal either: only the document."""
    code, text = _run_on_a_terminal(*SHORT, "--json", columns=40, strip=False)
    assert code == 0, text
    assert "\x1b" not in text  # nothing was drawn
    doc = json.loads(text.replace("\r\n", "\n"))
    assert Path(doc["path"]).is_file() and doc["passed"] is True
