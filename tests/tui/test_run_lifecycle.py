"""The app's live run (``loadtui.tui.lifecycle``) without the app: one run at a time, and
quitting saves the live run as interrupted and remembers where it went."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from loadtui.model.plan import RunConfig
from loadtui.tui.lifecycle import RunLifecycle


def _config(url: str) -> RunConfig:
    return RunConfig(
        target={"url": url},
        load={"mode": "closed", "users": 1, "spawn_rate": 0, "duration": 3600},
        requests=[{"kind": "chat", "stream": True, "max_tokens": 8}],
        workers=1,
    )


def test_one_run_at_a_time_and_quitting_saves_it_as_interrupted(mock, private_dirs: Path) -> None:
    runs = RunLifecycle()
    out = private_dirs / "quit.json"
    bridge = runs.begin(_config(mock.url), out=out)
    assert bridge is not None and runs.live
    assert runs.begin(_config(mock.url)) is None  # a second run waits for the first
    bridge.start()
    deadline = time.monotonic() + 60
    while bridge.frame.phase != "running" and bridge.error is None:
        assert time.monotonic() < deadline, "the run did not start"
        time.sleep(0.05)

    asyncio.run(runs.end(None))  # what the app does once the user said yes to quitting
    assert not runs.live and runs.interrupted_by == "quit"
    assert runs.saved == [str(out)]
    assert json.loads(out.read_text())["status"] == "interrupted"
    runs.remember(str(out))  # the run screen saw it too: still listed once
    assert runs.saved == [str(out)]
    assert runs.begin(_config(mock.url), out=private_dirs / "next.json") is not None
