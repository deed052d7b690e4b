"""The mock's debug-timing stamp names the route, never the path (review item 5): a ``{key}``
path (``/ak/{key}/v1/messages``) carries the API key, which must not reach stderr."""

from __future__ import annotations

import httpx
import pytest

from loadtui.mock import MockProcess
from loadtui.model.plan import MockSpec


def test_the_first_request_stamp_shows_the_route_pattern_not_the_key(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOADTUI_DEBUG_TIMING", "1")  # read by the spawned child at import
    with MockProcess(MockSpec(tokens=2)) as mock:
        body = {"model": "m", "max_tokens": 4, "messages": [{"role": "user", "content": "hi"}]}
        headers = {"anthropic-version": "2023-06-01"}
        httpx.post(mock.url + "/ak/sk-secret-4242/v1/messages", json=body, headers=headers)
    err = capfd.readouterr().err
    assert "first request (POST /ak/{key}/v1/messages)" in err
    assert "sk-secret-4242" not in err
