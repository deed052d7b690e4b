"""``run/describe.py`` on the bundled presets: the requests and streaming it states are the ones
the engine's request mix (``engine/mix.py``) actually prepares, request by request."""

from __future__ import annotations

import pytest

from loadtui.engine.mix import RequestMix
from loadtui.model.plan import RunConfig, ThresholdSpec
from loadtui.model.record import TargetInfo
from loadtui.run.describe import (
    describe_load,
    describe_request,
    describe_requests,
    describe_streaming,
    describe_target,
    describe_threshold,
    describe_thresholds,
)
from loadtui.storage.presets import load_preset

BASE = "http://127.0.0.1:9"


def _prepared(config: RunConfig) -> list[tuple[bool, str]]:
    """(streamed, kind) of the first request the engine prepares for each entry of the mix."""
    mix = RequestMix(config, BASE, None, direct_url=BASE if config.overhead.enabled else None)
    return [(v[0][-1].stream, v[0][-1].kind) for v in mix.variants]


@pytest.mark.parametrize(
    ("name", "streaming"),
    [
        ("smoke", "yes"),
        ("streaming", "yes"),
        ("mix", "mixed"),
        ("batch", "no"),
        ("overhead", "yes"),
    ],
)
def test_each_request_is_described_streamed_exactly_when_the_engine_streams_it(
    name: str, streaming: str
):
    config = load_preset(name)
    prepared = _prepared(config)
    for spec, (streamed, kind) in zip(config.requests, prepared, strict=True):
        text = describe_request(spec)
        assert (f"{kind} stream" in text) is streamed, (name, text)
        assert text in describe_requests(config)
    # health and models never stream: they do not make smoke "mixed"
    assert describe_streaming(config) == streaming
    assert (streaming == "no") is not any(streamed for streamed, _ in prepared)


def test_the_presets_in_words():
    assert describe_requests(load_preset("smoke")) == "health, models, chat stream"
    assert describe_streaming(load_preset("smoke")) == "yes"
    mix = describe_requests(load_preset("mix"))
    assert mix == "chat ×3, chat stream ×3, chat + system (chat stream) ×2, health"
    assert describe_streaming(load_preset("mix")) == "mixed"
    assert describe_requests(load_preset("batch")) == "batch"
    assert describe_streaming(load_preset("batch")) == "no"
    overhead = load_preset("overhead")
    assert describe_requests(overhead) == "chat stream, each direct and through the proxy"
    assert describe_load(load_preset("smoke")) == "closed loop: 1 user, think 0.2s, 5s"
    assert describe_load(load_preset("streaming")) == (
        "stages 0→50→50 users over 1m30s, think 0.5–1s"
    )


def test_a_non_streaming_chat_and_the_kinds_that_never_stream_are_not_streaming():
    config = load_preset("smoke").with_overrides(
        requests=[{"kind": "chat", "stream": False}, {"kind": "embedding"}]
    )
    assert describe_streaming(config) == "no"
    assert describe_requests(config) == "chat, embedding"
    # stream defaults to True for every kind: an embedding is still not streamed
    assert describe_request(config.requests[1]) == "embedding"


def test_thresholds_are_plain_text():
    spec = ThresholdSpec(threshold="rate<0.01", abort_on_fail=True, delay_abort_eval=10)
    assert (
        describe_threshold("error_rate", spec) == "error_rate rate<0.01 (abort_on_fail after 10s)"
    )
    assert describe_threshold("ttft", ThresholdSpec(threshold="p(95)<500")) == "ttft p(95)<500"
    smoke = describe_thresholds(load_preset("smoke"))
    assert smoke == "error_rate rate<0.01; latency p(95)<5000"
    assert describe_thresholds(load_preset("smoke").model_copy(update={"thresholds": {}})) == "none"


def test_the_target_is_the_mock_or_the_url_without_credentials():
    assert describe_target(TargetInfo(url="http://127.0.0.1:1", embedded_mock=True)) == (
        "the embedded mock"
    )
    plain = "https://gw.example:4000/v1"
    assert describe_target(TargetInfo(url=plain)) == plain
    assert describe_target(TargetInfo(url="https://bob:s3cret@gw.example:4000/v1")) == plain
