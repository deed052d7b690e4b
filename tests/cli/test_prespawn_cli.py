"""What a headless run's CLI starts ahead, and what a refused option leaves: nothing.

The first worker starts while the options are resolved and checked, the mock and any further
workers once they are good (docs/performance.md, "Start-up and exit"). An option refused by the
parser, or by a check of the command line alone, ends the command before any of that; one
refused while resolving ends the first worker at once. A run with ``--url`` prespawns its
workers and no mock. The phase stamps (``LOADTUI_DEBUG_TIMING=1``) say which processes were
started ahead.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from helpers import run_cli
from loadtui.mock import MockProcess

_TIMING = {"LOADTUI_DEBUG_TIMING": "1"}


def test_an_option_refused_while_resolving_ends_the_first_worker_and_starts_no_mock(
    private_dirs: Path,
) -> None:
    import subprocess

    marker = str(private_dirs / f"refused-{os.getpid()}.json")  # names this CLI's processes
    args = ("--headless", "--preset", "smoke", "--users", "0", "--out", marker)
    # Popen, not run_cli: the test waits for the CLI itself, not for pipes a leftover child
    # would hold open; then no process with this CLI's command line may be left
    proc = subprocess.Popen(
        [sys.executable, "-m", "loadtui", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **_TIMING},
    )
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 2, stderr
    assert "--users" in stderr and "Traceback" not in stderr
    assert "cli: options resolved" not in stderr  # refused while resolving
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    assert f"workers: prespawned 1 ({method})" in stderr
    assert "mock: prespawning" not in stderr and "spec taken" not in stderr
    assert _running_with(marker) == []


def _running_with(marker: str) -> list[int]:
    """Live processes whose command line holds ``marker`` (a forked worker has its parent's;
    Linux's /proc, [] elsewhere)."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


def test_a_run_with_a_url_prespawns_its_worker_and_no_mock(
    private_dirs: Path, mock: MockProcess
) -> None:
    out = private_dirs / "run.json"
    args = ("--headless", "--url", mock.url, "--duration", "0.5s", "--out", str(out))
    proc = run_cli(*args, env=_TIMING)
    assert proc.returncode == 0, proc.stderr
    # forked on Linux: the CLI's process has one thread when it prespawns
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    assert f"workers: prespawned 1 ({method})" in proc.stderr
    assert "worker 0: spec taken" in proc.stderr  # the session took the prespawned one
    assert "mock: prespawning" not in proc.stderr and out.exists()


def test_metrics_host_alone_is_refused_before_any_process_is_spawned(private_dirs: Path) -> None:
    proc = run_cli("--headless", "--preset", "smoke", "--metrics-host", "127.0.0.1", env=_TIMING)
    assert proc.returncode == 2, proc.stderr
    assert "--metrics-host needs --metrics-port" in proc.stderr
    assert "prespawn" not in proc.stderr and "spawning" not in proc.stderr


def test_a_refusal_after_the_prespawn_ends_those_processes_in_process_too(
    private_dirs: Path,
) -> None:
    # --metrics-port already taken is found after the prespawn, before any session; main() run
    # in-process (as some tests do) must not leave its processes for the next run to take
    import multiprocessing
    import socket

    from loadtui.cli import main

    before = set(multiprocessing.active_children())  # another test's mock may be serving
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = str(taken.getsockname()[1])
        assert main(["--headless", "--preset", "smoke", "--metrics-port", port]) == 3
    assert [p.name for p in set(multiprocessing.active_children()) - before] == []
