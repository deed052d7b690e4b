"""A headless run's CLI prespawns its processes only once its options are good.

The mock and the workers start as soon as the options are checked (docs/performance.md,
"Start-up and exit"); a bad option ends the command before that, so it spawns nothing (the CLI
tests launch hundreds of those). A run with ``--url`` prespawns its workers and no mock. The
phase stamps (``LOADTUI_DEBUG_TIMING=1``) say which processes were started ahead.
"""

from __future__ import annotations

import sys
from pathlib import Path

from helpers import run_cli
from loadtui.mock import MockProcess

_TIMING = {"LOADTUI_DEBUG_TIMING": "1"}


def test_a_bad_option_ends_the_run_before_any_process_is_spawned(private_dirs: Path) -> None:
    proc = run_cli("--headless", "--preset", "smoke", "--users", "0", env=_TIMING)
    assert proc.returncode == 2, proc.stderr
    assert "cli: options resolved" not in proc.stderr  # refused while resolving
    assert "prespawn" not in proc.stderr and "spawning" not in proc.stderr


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
