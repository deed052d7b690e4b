"""A request's steps one by one, without a network: prepared into bytes, read from bytes into an
``Outcome`` (whole or as an SSE stream fed in odd-sized reads), checks judged, and the outcome
booked into a ``Recorder`` — the counters the run file is made of."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from time import perf_counter

from loadtui.engine.anthropic import AnthropicProtocol
from loadtui.engine.client import (
    UserStatus,
    book,
    book_cancelled,
    judge_checks,
    read_stream,
    read_whole,
    start,
    unfinished,
)
from loadtui.engine.protocols import OpenAIProtocol, Prepared
from loadtui.metrics.histogram import Histogram
from loadtui.metrics.stats import Recorder
from loadtui.model.outcomes import ErrorClass, Outcome, UserState
from loadtui.model.plan import TargetSpec
from loadtui.model.requests import CheckSpec, RequestSpec

TARGET = TargetSpec(model="m")


def _chat(stream: bool = True, **spec: object) -> Prepared:
    return OpenAIProtocol().prepare(
        RequestSpec(kind="chat", stream=stream, **spec),
        TARGET,
        "http://127.0.0.1:1/v1",
        "k-test",
        "hello",
    )


def _sse(*payloads: object, done: bool = True) -> bytes:
    events = [b"data: " + json.dumps(p).encode() + b"\n\n" for p in payloads]
    return b"".join(events) + (b"data: [DONE]\n\n" if done else b"")


def _delta(text: str) -> dict[str, object]:
    return {"choices": [{"index": 0, "delta": {"content": text}}]}


async def _reads(data: bytes, size: int) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def _read(prep: Prepared, data: bytes, size: int, **kw: object) -> tuple[Outcome, bool, Histogram]:
    out = Outcome(prep.label, perf_counter())
    itl = Histogram()
    done = asyncio.run(read_stream(_reads(data, size), prep, out, itl, **kw))
    return out, done, itl


def test_prepare_builds_url_headers_and_body_once():
    prep = _chat(system="be brief", max_tokens=9)
    assert (prep.method, prep.url) == ("POST", "http://127.0.0.1:1/v1/chat/completions")
    assert prep.headers["Authorization"] == "Bearer k-test"
    assert prep.headers["Accept"] == "text/event-stream"
    body = json.loads(prep.body or b"")
    assert body["messages"] == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hello"},
    ]
    assert body["max_tokens"] == 9 and body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert prep.stream and prep.label == "chat stream" and prep.protocol is not None

    whole = _chat(stream=False)
    assert not whole.stream and "stream" not in json.loads(whole.body or b"")

    anthropic = AnthropicProtocol().prepare(
        RequestSpec(kind="messages", path="/ak/{key}/v1/messages"), TARGET, "http://h", "k-a"
    )
    assert anthropic.url == "http://h/ak/k-a/v1/messages"  # the key, in memory only
    assert anthropic.headers["x-api-key"] == "k-a"


def test_a_stream_read_in_any_split_gives_the_same_outcome():
    usage = {"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 7}}
    data = _sse({"choices": [{"delta": {"role": "assistant"}}]}, *map(_delta, "abcd"), usage)
    for size in (1, 5, 64, len(data)):
        user = UserStatus(0)
        out, done, itl = _read(_chat(), data, size, user=user)
        assert done and out.error is None, size
        assert (out.chunks, out.events, out.nbytes) == (4, 7, len(data)), size
        assert (out.tokens.output, out.tokens.input) == (7, 3), size
        assert out.first is not None and out.first >= out.sent
        assert itl.count == 3, size  # a gap between each two content events
        assert user.state is UserState.STREAMING


def test_stream_faults_become_error_classes_with_reasons():
    error = {"error": {"message": "overloaded"}}
    out, done, _ = _read(_chat(), _sse(_delta("a"), error, _delta("b")), 7)
    assert done and out.error is ErrorClass.STREAM_ERROR and out.chunks == 2

    # a reader tripping on a wrong shape: MALFORMED, and why
    bad_usage = {"choices": [], "usage": {"completion_tokens": -1}}
    out, _, _ = _read(_chat(), _sse(_delta("a"), bad_usage), 3)
    assert out.error is ErrorClass.MALFORMED
    assert out.reasons and out.reasons[0][0] is ErrorClass.MALFORMED

    # no end marker: cut off when it was a stream, MALFORMED when it never was one
    out, done, _ = _read(_chat(), _sse(_delta("a"), done=False), 4)
    assert not done and out.error is None
    unfinished(out, "text/event-stream")
    assert out.error is ErrorClass.RESET
    out, done, _ = _read(_chat(), b"<html>busy</html>", 4)
    assert not done and out.events == 0
    unfinished(out, "text/html")
    assert out.error is ErrorClass.MALFORMED
    assert out.reasons and "no SSE event in a text/html answer" in str(out.reasons[-1][1])


def test_a_whole_body_is_judged_by_its_protocol_and_status():
    prep = _chat(stream=False)
    body = json.dumps({"choices": [{"message": {}}], "usage": {"completion_tokens": 5}}).encode()
    out = Outcome(prep.label, 0.0, status=200)
    read_whole(prep, out, body, None)
    assert out.error is None and out.tokens.output == 5 and out.nbytes == len(body)

    out = Outcome(prep.label, 0.0, status=200)
    read_whole(prep, out, b'{"choices": "no"}', None)
    assert out.error is ErrorClass.MALFORMED

    # a status the checks accept is not a failure; the body is kept for the checks
    accepting = _chat(stream=False, checks=(CheckSpec(status=(404,)),))
    keep: list[bytes] = []
    out = Outcome(accepting.label, 0.0, status=404, error=ErrorClass.HTTP_4XX)
    read_whole(accepting, out, b"gone", keep)
    assert out.error is None and keep == [b"gone"]


def test_checks_are_judged_in_order_and_a_check_that_trips_fails_the_request():
    checks = (
        CheckSpec(status=(200,)),
        CheckSpec(header="x-cache", equals="HIT"),
        CheckSpec(json_field="usage.total_tokens"),
    )
    prep = _chat(stream=False, checks=checks)
    out = Outcome(prep.label, 0.0, status=200)
    judge_checks(prep, out, {"x-cache": "MISS"}, [b'{"usage": {"total_tokens": 4}}'])
    assert out.checks == [
        ("status in 200", True),
        ("header x-cache = HIT", False),
        ("json usage.total_tokens", True),
    ]
    assert out.error is None

    deep = b"[" * 100_000 + b"]" * 100_000  # json.loads raises RecursionError, not ValueError
    out = Outcome(prep.label, 0.0, status=200)
    judge_checks(prep, out, {}, [deep])
    assert out.checks == [("status in 200", True), ("header x-cache = HIT", False)]
    assert out.error is ErrorClass.MALFORMED and out.reasons


def test_booking_a_streamed_success_fills_the_recorder():
    rec = Recorder()
    user = UserStatus(1)
    out = Outcome("chat stream", 10.0, intended=9.9, end=10.5, headers_at=10.1, first=10.2)
    out.status, out.chunks, out.nbytes = 200, 6, 321
    assert book(rec, user, out)
    assert (rec.requests, rec.ok, rec.bytes) == (1, 1, 321)
    assert (rec.tokens_counted, rec.output_tokens) == (1, 6)
    assert rec.status_codes == {200: 1} and not rec.errors
    for name in ("latency_ms", "latency_actual_ms", "ttft_ms", "tpot_ms", "headers_ms"):
        assert rec.hist[name].count == 1, name
    assert rec.hist["send_lag_ms"].count == 1  # open loop: it had an intended time
    assert abs(rec.hist["ttft_ms"].percentile(50) - 200.0) < 1.0
    assert abs(rec.hist["latency_ms"].percentile(50) - 600.0) < 1.0
    assert rec.labels["chat stream"].requests == 1
    assert (user.requests, user.state, user.started) == (1, UserState.IDLE, -1.0)
    assert abs(user.last_ttft - 200.0) < 1e-6


def test_booking_usage_tokens_a_failure_and_a_cancellation():
    rec = Recorder()
    out = Outcome("", 1.0, end=1.2, status=200)
    out.tokens.output, out.tokens.input = 5, 2
    assert book(rec, None, out)
    assert (rec.tokens_from_usage, rec.output_tokens, rec.input_tokens) == (1, 5, 2)
    assert not rec.labels and rec.hist["ttft_ms"].count == 0  # not streamed: no TTFT

    user = UserStatus(2)
    failed = Outcome("chat", 2.0, end=2.1, status=503, error=ErrorClass.HTTP_5XX, first=2.05)
    failed.note(ErrorClass.HTTP_5XX, RuntimeError("upstream down"))
    failed.tokens.input = 9
    assert not book(rec, user, failed)
    assert rec.errors == {"http_5xx": 1} and rec.requests == 2
    assert rec.ok == 1 and rec.input_tokens == 2
    assert rec.reasons == {"http_5xx": ["RuntimeError: upstream down"]}
    assert rec.hist["ttft_ms"].count == 0  # no TTFT for a failed request
    assert (user.errors, user.state) == (1, UserState.ERROR)

    cancelled = Outcome("chat", 3.0, headers_at=3.1, status=200)
    book_cancelled(rec, user, cancelled)
    assert rec.cancelled == 1 and rec.requests == 2
    assert rec.status_codes == {200: 2, 503: 1} and user.state is UserState.STOPPED


def test_start_takes_the_send_time_and_marks_the_user():
    user = UserStatus(3)
    before = perf_counter()
    out = start(_chat(), user, None)
    assert before <= out.sent == out.end == user.started
    assert out.intended is None and out.label == "chat stream"
    assert user.state is UserState.CONNECTING
