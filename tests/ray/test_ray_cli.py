"""``loadtui --backend ray`` as a user runs it, against a Ray head the test starts with
``ray start --head`` (stopped by its pid: ``--block`` keeps that process in front, and it takes
the head's processes with it): a headless run joins it with ``--ray-address``; a head that does
not answer, a Ray version that differs, more workers than the cluster's CPUs are one-line
errors with exit 2; a killed loadtui leaves no actor sending load.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from helpers import run_cli  # noqa: E402
from loadtui.run.exitcodes import ExitCode  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.xdist_group("heavy")]


TOKEN = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
"""The head's token, given to it and to each driver as a user would (Ray 2.5x: a driver given
an address sends a token only with ``RAY_AUTH_MODE=token``); never ``~/.ray/auth_token``."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1.0).close()
    except OSError:
        return False
    return True


@pytest.fixture(scope="module")
def head() -> Iterator[str]:
    """A second Ray head with 1 CPU, on a free port, its files in a temp folder of its own."""
    port = _free_port()
    folder = Path(tempfile.mkdtemp(prefix="lt-rayh-"))
    ray_bin = Path(sys.executable).with_name("ray")
    log = (folder / "start.log").open("wb")
    proc = subprocess.Popen(
        [
            *(str(ray_bin), "start", "--head", "--port", str(port), "--num-cpus", "1"),
            *("--include-dashboard", "false", "--block", "--temp-dir", str(folder)),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **TOKEN},
    )
    try:
        deadline = time.monotonic() + 90
        while not _answers(port):
            assert proc.poll() is None, (folder / "start.log").read_text()
            assert time.monotonic() < deadline, "ray start --head did not come up"
            time.sleep(0.2)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()  # --block: SIGTERM stops the processes this head started
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()
        shutil.rmtree(folder, ignore_errors=True)


def test_a_headless_run_joins_a_head_with_ray_address(mock, head, private_dirs):
    proc = run_cli(
        *("--headless", "--backend", "ray", "--ray-address", head, "--url", mock.url),
        *("--users", "2", "--duration", "2s", "--stream"),
        env=TOKEN,
        timeout=120,
    )
    assert proc.returncode == ExitCode.OK, proc.stdout + proc.stderr
    log = private_dirs / "data" / "logs" / "ray.log"
    assert f"ray: logs in {log}" in proc.stdout
    assert log.is_file()
    (path,) = (private_dirs / "data" / "runs").glob("*.json")
    run = json.loads(path.read_text())
    assert run["config"]["engine"] == {"backend": "ray", "ray_address": head}
    assert run["config"]["workers"] == 1  # the cluster's one CPU, not this machine's cores
    (node,) = run["generator"]["nodes"]
    assert f"  on {node}: actor 0" in proc.stdout.splitlines()  # the end-of-run lines say where
    assert run["summary"]["requests"] == mock.stats()["served"] > 0
    assert "Traceback" not in proc.stderr


def test_a_ray_version_that_differs_is_one_line_naming_both(head):
    here = ray.__version__
    code = (
        "import sys, ray; ray.__version__ = '2.0.0'; from loadtui.cli import main; "
        f"sys.exit(main(['--headless', '--backend', 'ray', '--ray-address', {head!r}]))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **TOKEN},
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == ExitCode.USAGE, proc.stdout + proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert f"runs Ray {here}" in line and "this loadtui has Ray 2.0.0" in line, line


def test_more_workers_than_the_cluster_s_cpus_is_refused(head):
    proc = run_cli(
        *("--headless", "--backend", "ray", "--ray-address", head, "--workers", "3"),
        env=TOKEN,
        timeout=120,
    )
    assert proc.returncode == ExitCode.USAGE, proc.stdout + proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "loadtui: error: --workers 3: the Ray cluster has 1 CPU(s), one per actor"
    ]


def test_a_head_that_does_not_answer_is_one_line_at_once():
    port = _free_port()  # nothing listens there
    started = time.monotonic()
    proc = run_cli(
        "--headless", "--backend", "ray", "--ray-address", f"127.0.0.1:{port}", timeout=60
    )
    assert proc.returncode == ExitCode.USAGE, proc.stdout + proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith(f"loadtui: error: cannot reach the Ray head at 127.0.0.1:{port}")
    assert time.monotonic() - started < 30  # Ray itself would retry for minutes


def test_a_killed_driver_leaves_no_load_running(mock, head):
    """The actors are not detached: when loadtui dies, Ray ends them with it."""
    driver = subprocess.Popen(
        [
            *(sys.executable, "-m", "loadtui", "--headless", "--backend", "ray"),
            *("--ray-address", head, "--url", mock.url, "--users", "2", "--duration", "60s"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **TOKEN},
    )
    try:
        deadline = time.monotonic() + 60
        while mock.stats()["served"] < 10:
            assert driver.poll() is None and time.monotonic() < deadline, "no load came"
            time.sleep(0.2)
    finally:
        driver.kill()
        driver.wait(10)
    deadline = time.monotonic() + 30
    quiet = 0
    last = mock.stats()["served"]
    while quiet < 2:  # served stays still for 2 s in a row (the mock answers in ~0.1 s)
        assert time.monotonic() < deadline, "load went on after the driver died"
        time.sleep(1.0)
        now = mock.stats()["served"]
        quiet = quiet + 1 if now == last else 0
        last = now


def test_a_cluster_with_another_host_needs_url(head, tmp_path):
    """A second node (another IP of this machine, 127.0.0.2, as another host would have):
    the embedded mock listens on 127.0.0.1 only, so the run is refused before it starts.
    Last in the module: it leaves the head with a node more."""
    log = tmp_path / "node.log"
    out = log.open("wb")
    node = subprocess.Popen(
        [
            *(str(Path(sys.executable).with_name("ray")), "start", "--address", head),
            *("--node-ip-address", "127.0.0.2", "--num-cpus", "1", "--block"),
        ],
        stdout=out,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **TOKEN},
    )
    try:
        deadline = time.monotonic() + 90
        while "Ray runtime started" not in log.read_text(errors="replace"):
            assert node.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the second node did not start"
            time.sleep(0.3)
        while True:  # the node is up; the head may take a moment to count it
            proc = run_cli(
                *("--headless", "--backend", "ray", "--ray-address", head, "--workers", "2"),
                env=TOKEN,
                timeout=120,
            )
            if "the Ray cluster has 1 CPU(s)" not in proc.stderr:
                break
            assert time.monotonic() < deadline, "the head did not count the second node"
            time.sleep(0.5)
        assert proc.returncode == ExitCode.USAGE, proc.stdout + proc.stderr
        assert proc.stderr.strip().splitlines() == [
            "loadtui: error: the Ray cluster has other hosts and the embedded mock listens on "
            "127.0.0.1 only: give --url of a target every Ray node can reach"
        ]
        assert "target:" not in proc.stdout  # refused before the mock was started
    finally:
        node.terminate()
        try:
            node.wait(30)
        except subprocess.TimeoutExpired:
            node.kill()
            node.wait(5)
        out.close()
