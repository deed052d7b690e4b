"""``abort_on_fail`` in the run service's drive loop, as the app's run thread drives it.

The console's path is tested end to end in tests/cli/test_cli_thresholds.py; here the app's
(``RunBridge``, the same ``RunDriver``) over real loopback against the mock: a failing abortable
threshold stops the run early, the session says which, and the saved run records it; a passing
one lets the run reach its end.
"""

from __future__ import annotations

from pathlib import Path

from loadtui.mock import MockProcess
from loadtui.model.plan import RunConfig
from loadtui.storage.runfile import load_record
from loadtui.tui.bridge import RunBridge


def _config(url: str, duration: float, threshold: str) -> RunConfig:
    return RunConfig.model_validate(
        {
            "target": {"url": url},
            "load": {"mode": "closed", "users": 2, "duration": duration},
            "requests": [{"kind": "chat", "stream": True, "max_tokens": 8}],
            "thresholds": {"ttft": [{"threshold": threshold, "abort_on_fail": True}]},
            "workers": 1,
        }
    )


def test_the_apps_run_stops_when_an_abortable_threshold_fails(
    mock: MockProcess, private_dirs: Path
) -> None:
    out = private_dirs / "aborted.json"
    bridge = RunBridge(_config(mock.url, 30.0, "p(95)<10"), out=out)  # the mock's TTFT: 50 ms
    bridge.start()
    assert bridge.wait(45) and bridge.error is None
    run = bridge.run
    assert run is not None and bridge.path == out
    assert run.status == "stopped" and (run.load_ended_s or 99) < 10
    assert run.aborted_by is not None and run.aborted_by.expression == "p(95)<10"
    assert not run.passed
    assert any("ttft p(95)<10 failed" in m and "abort_on_fail" in m for m in bridge.messages)
    saved = load_record(out)
    assert saved.aborted_by == run.aborted_by  # the file says which threshold and why
    assert [(c.action, c.source) for c in saved.controls] == [("stop", "threshold")]


def test_a_passing_abortable_threshold_lets_the_run_end(
    mock: MockProcess, private_dirs: Path
) -> None:
    bridge = RunBridge(_config(mock.url, 2.0, "p(95)<60000"), out=private_dirs / "r.json")
    bridge.start()
    assert bridge.wait(45) and bridge.error is None
    run = bridge.run
    assert run is not None and run.status == "completed"
    assert run.passed and run.aborted_by is None and not run.controls
