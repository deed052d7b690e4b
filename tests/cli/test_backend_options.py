"""``--backend`` and ``--ray-address`` without a Ray cluster: what a user without Ray (or with
a mistaken option) sees, and Ray never loaded unless asked for. The runs on Ray are in
tests/ray/."""

from __future__ import annotations

import subprocess
import sys

from helpers import run_cli
from loadtui.run.exitcodes import ExitCode


def _main_without_ray(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI in an interpreter where ``import ray`` fails, as after ``pip install loadtui``."""
    code = (
        "import sys; sys.modules['ray'] = None; from loadtui.cli import main; "
        f"sys.exit(main({list(args)!r}))"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_backend_ray_without_ray_installed_says_how_to_install_it():
    proc = _main_without_ray("--headless", "--backend", "ray", "--duration", "1s")
    assert proc.returncode == ExitCode.USAGE, proc.stdout + proc.stderr
    assert proc.stderr.splitlines() == [
        "loadtui: error: Ray is not installed: pip install 'loadtui[ray]'"
    ]
    assert "target:" not in proc.stdout  # refused before the embedded mock was started


def test_ray_address_without_backend_ray_is_refused():
    proc = run_cli("--headless", "--ray-address", "auto")
    assert proc.returncode == ExitCode.USAGE, proc.stdout + proc.stderr
    assert proc.stderr.splitlines() == ["loadtui: error: --ray-address goes with --backend ray"]


def test_an_unknown_backend_is_a_usage_error():
    proc = run_cli("--headless", "--backend", "dask")
    assert proc.returncode == ExitCode.USAGE
    assert "invalid choice: 'dask'" in proc.stderr


def test_a_process_run_never_loads_ray():
    code = (
        "import sys; import loadtui.cli, loadtui.cli.commands, loadtui.run.session, "
        "loadtui.headless.runner, loadtui.engine.coordinator; "
        "print('ray' in sys.modules)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert proc.stdout.strip() == "False"
