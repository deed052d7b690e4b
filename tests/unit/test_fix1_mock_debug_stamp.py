"""Debug-timing stamps of the embedded mock (review items 5 and 10).

- The first-request stamp names the route, never the path: a ``{key}`` path
  (``/ak/{key}/v1/messages``) carries the API key, which must not reach a screen or a log.
- In the app, the mock's and the workers' stamps (children writing on the inherited stderr)
  would be drawn over the app: ``prepare_processes`` sends them to ``timing_log_file()``.

One mock spawn for both (a spawn costs 1-4 s on a busy machine).
"""

from __future__ import annotations

import httpx
import pytest

from loadtui.locations import timing_log_file
from loadtui.mock import MockProcess
from loadtui.model.plan import MockSpec
from loadtui.runtime import timing
from loadtui.tui.bridge import prepare_processes


def test_in_the_app_the_mock_stamps_go_to_the_log_and_name_the_route_not_the_key(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOADTUI_DEBUG_TIMING", "1")  # read by the spawned child at import
    monkeypatch.setattr(timing, "ENABLED", True)  # this process imported it with stamps off
    monkeypatch.setattr(timing, "_log", None)
    monkeypatch.setenv("LOADTUI_TIMING_LOG", "")  # restored (unset) after the test
    prepare_processes()  # what the app does before its first run
    with MockProcess(MockSpec(tokens=2)) as mock:
        body = {"model": "m", "max_tokens": 4, "messages": [{"role": "user", "content": "hi"}]}
        headers = {"anthropic-version": "2023-06-01"}
        httpx.post(mock.url + "/ak/sk-secret-4242/v1/messages", json=body, headers=headers)
    err = capfd.readouterr().err
    assert "loadtui timing" not in err  # nothing over the app
    log = timing_log_file().read_text(encoding="utf-8")
    assert "server process: imports done" in log
    assert "first request (POST /ak/{key}/v1/messages)" in log
    assert "sk-secret-4242" not in log
