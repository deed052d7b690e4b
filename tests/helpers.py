"""Helpers the tests share: drive the real coordinator, run the CLI as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from loadtui.engine.channel import WorkerPool
from loadtui.engine.coordinator import Coordinator
from loadtui.model.controls import ControlChange
from loadtui.model.plan import RunConfig
from loadtui.run.drive import Controls, drive_loop

REPO = Path(__file__).resolve().parents[1]

LATE_MS = 150.0
"""How late a loaded 2-core CI machine may deliver what the mock sends on time. Timing tests
hold measurements to the truth from below exactly (a measurement can never beat the mock's
schedule) and from above with this slack only: accuracy itself is a benchmark's figure
(benchmarks/bench.py, docs/performance.md), never a unit test's."""


def drive(
    config: RunConfig,
    url: str,
    schedule: list[ControlChange] | None = None,
    api_key: str | None = None,
    pool: WorkerPool | None = None,
    **data: Any,
) -> Coordinator:
    """Run a config to completion through the real coordinator, with the run service's drive
    loop (no session: no target bring-up, no run file), and its workers: processes, or
    threads with ``pool=InProcessPool()`` (``loadtui.engine.inprocess``) where the process
    boundary is not what a test is about (``data``: prompts, direct_url, batch — as the session
    passes them)."""
    coord = Coordinator(config, url, api_key, pool=pool, **data)
    coord.start()
    try:
        drive_loop(coord, Controls(schedule or []))
    finally:
        coord.stop()
    return coord


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    """``python -m loadtui ARGS`` as a user would run it (environment of this test)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "loadtui", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
        stdin=subprocess.DEVNULL,
    )
