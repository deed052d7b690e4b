"""The mock's capacity model as a user reaches it: ``loadtui mock --slots …`` on its own, and
``[mock]`` in a preset for the embedded mock of a headless run; bad values are one-line errors
(exit 2) from both (docs/mock.md)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from helpers import run_cli

pytestmark = pytest.mark.integration  # starts processes

CAPACITY = {
    "slots": 3,
    "prefill_tps": 500.0,
    "decode_tps": 40.0,
    "shared_decode_tps": 90.0,
    "max_queue": 7,
    "queue_full_status": 503,
}


def test_standalone_mock_takes_every_capacity_option(unused_port: int):
    options = [f"--{name.replace('_', '-')}={value:g}" for name, value in CAPACITY.items()]
    proc = subprocess.Popen(
        [sys.executable, "-m", "loadtui", "mock", "--port", str(unused_port), *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and "listening on" in proc.stdout.readline()
        stats = httpx.get(f"http://127.0.0.1:{unused_port}/mock/stats").json()
        assert stats["capacity"] == {**CAPACITY, "running": 0, "queued": 0, "refused": 0}
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
    assert proc.returncode == 0


PRESET = """
[load]
mode = "closed"
users = 3
duration = "1s"

[[requests]]
kind = "chat"
stream = true

[mock]
tokens = 4
decode_tps = 100
slots = 1
max_queue = 0
queue_full_status = 503
"""


def test_a_presets_mock_section_sets_the_embedded_mocks_capacity(private_dirs: Path):
    preset = private_dirs / "capacity.toml"
    preset.write_text(PRESET)
    out = private_dirs / "run.json"
    proc = run_cli("--headless", "--preset", str(preset), "--out", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    run = json.loads(out.read_text())
    assert run["target"]["mock"]["slots"] == 1
    assert run["target"]["mock"]["queue_full_status"] == 503
    # one slot, no queue: three users get one answer at a time, the others 503 at once
    codes = run["summary"]["status_codes"]
    assert int(codes["200"]) > 0 and int(codes["503"]) > 0
    assert set(codes) == {"200", "503"}


@pytest.mark.parametrize("args", [["--slots", "0"], ["--slots", "2", "--queue-full-status", "418"]])
def test_bad_capacity_options_are_one_line_errors(args):
    result = run_cli("mock", "--port", "0", *args)
    assert result.returncode == 2
    assert result.stderr.startswith("loadtui: error: invalid option: ")
    assert len(result.stderr.strip().splitlines()) == 1


def test_bad_capacity_in_a_preset_is_a_one_line_error(private_dirs: Path):
    preset = private_dirs / "bad.toml"
    preset.write_text("[mock]\ndecode_tps = -1.0\n")
    result = run_cli("--headless", "--preset", str(preset))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "mock.decode_tps" in result.stderr and str(preset) in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
