"""Where a request goes: the target URL joined with the request's path (``protocols.join_url``),
a query in the target URL kept after the path (Azure's ``?api-version=…``) and a fragment
dropped — a trial found both glued before the path (``/v1?x=1/v1/chat/completions``)."""

from __future__ import annotations

import pytest

from loadtui.engine.protocols import OpenAIProtocol, join_url
from loadtui.model.plan import RunConfig


@pytest.mark.parametrize(
    ("base", "path", "url"),
    [
        ("http://h:1/v1", "/v1/chat/completions", "http://h:1/v1/chat/completions"),
        ("http://h:1/", "/v1/chat/completions", "http://h:1/v1/chat/completions"),
        (
            "http://h:1/v1?api-version=2024-06-01",
            "/v1/chat/completions",
            "http://h:1/v1/chat/completions?api-version=2024-06-01",
        ),
        ("http://h:1/v1/?a=1&b=2#frag", "/v1/models", "http://h:1/v1/models?a=1&b=2"),
        ("http://h:1/v1/#frag", "/v1/models", "http://h:1/v1/models"),
        ("http://h:1/x?a=1", "/v1/p?q=2", "http://h:1/x/v1/p?q=2&a=1"),
        ("http://h:1/k/{key}/v1?a=1", "/v1/messages", "http://h:1/k/sk-t/v1/messages?a=1"),
    ],
)
def test_the_path_goes_before_the_targets_query(base: str, path: str, url: str) -> None:
    assert join_url(base, path, "sk-t") == url


def test_a_health_check_keeps_the_query_too() -> None:
    config = RunConfig.model_validate({"requests": [{"kind": "health"}]})
    prep = OpenAIProtocol().prepare(config.requests[0], config.target, "http://h:1/v1?a=1", None)
    assert prep.url == "http://h:1/health?a=1"
