"""The Responses API reader on events the embedded mock never sends: other servers' deltas and
endings, unnamed events, wrong shapes — and the request it builds (``engine/responses.py``)."""

from __future__ import annotations

import json

import pytest

from loadtui.engine.protocols import CONTENT, DONE, IGNORE
from loadtui.engine.responses import ResponsesProtocol
from loadtui.model.outcomes import ErrorClass, Tokens
from loadtui.model.plan import RequestSpec, RunConfig, TargetSpec
from loadtui.run.describe import describe_requests, describe_streaming
from loadtui.run.options import Overrides, resolve_config

read = ResponsesProtocol.stream_event


def data(kind: str, **fields: object) -> bytes:
    return json.dumps({"type": kind, "sequence_number": 7, **fields}).encode()


def response(status: str, reason: str | None = None, **fields: object) -> dict:
    details = {"reason": reason} if reason else None
    usage = {"input_tokens": 11, "output_tokens": 5, "total_tokens": 16}
    return {"object": "response", "status": status, "incomplete_details": details,
            "output": [], "usage": usage, **fields}  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "delta", "expected"),
    [
        ("response.output_text.delta", "Hi", CONTENT),
        ("response.output_text.delta", "", IGNORE),
        ("response.refusal.delta", "I can't", CONTENT),  # as chat counts a refusal delta
        ("response.function_call_arguments.delta", '{"ci', CONTENT),  # as chat's tool calls
        ("response.reasoning_text.delta", "hmm", IGNORE),  # as chat's reasoning_content
    ],
)
def test_content_deltas_named_or_not(kind: str, delta: str, expected: int):
    payload = data(kind, delta=delta)
    assert read(kind, payload, Tokens()) == expected
    assert read(None, payload, Tokens()) == expected  # a server that names no events


@pytest.mark.parametrize(
    ("event", "payload", "expected"),
    [
        ("response.completed", data("response.completed", response=response("completed")), DONE),
        # the request's own budget spent: a normal end, as chat's finish_reason "length"
        (
            "response.incomplete",
            data("response.incomplete", response=response("incomplete", "max_output_tokens")),
            DONE,
        ),
        (
            "response.incomplete",
            data("response.incomplete", response=response("incomplete", "content_filter")),
            ErrorClass.STREAM_ERROR,
        ),
        (
            "response.failed",
            data("response.failed", response=response("failed", error={"code": "x"})),
            ErrorClass.STREAM_ERROR,
        ),
        ("error", data("error", code="server_error", message="boom"), ErrorClass.STREAM_ERROR),
        (None, b'{"error": {"message": "boom"}}', ErrorClass.STREAM_ERROR),
        ("response.completed", b"{not json", ErrorClass.MALFORMED),
        ("response.output_text.delta", b'{"type": ', ErrorClass.MALFORMED),
    ],
)
def test_how_a_stream_ends(event: str | None, payload: bytes, expected: object):
    tokens = Tokens()
    assert read(event, payload, tokens) == expected
    if expected == DONE:
        assert (tokens.input, tokens.output) == (11, 5)  # usage's names, not chat's


@pytest.mark.parametrize(
    ("event", "payload"),
    [
        ("response.output_text.delta", data("response.output_text.delta", delta=["x"])),
        ("response.completed", data("response.completed", response="done")),
        (
            "response.completed",
            data("response.completed", response={"usage": {"output_tokens": -1}}),
        ),
    ],
)
def test_a_wrong_shape_raises_for_the_caller_to_count_malformed(event: str, payload: bytes):
    with pytest.raises(ValueError):
        read(event, payload, Tokens())


def test_events_the_figures_do_not_need_are_not_decoded():
    # output_text.done repeats the whole answer: skipping it by name is what keeps the reader
    # as cheap per event as the chat reader
    for event in ("response.created", "response.output_text.done", "response.in_progress"):
        assert read(event, b"not even json", Tokens()) == IGNORE


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (response("completed"), None),
        (response("incomplete", "max_output_tokens"), None),
        (response("incomplete", "content_filter"), ErrorClass.STREAM_ERROR),
        (
            response("failed", error={"code": "server_error", "message": "x"}),
            ErrorClass.STREAM_ERROR,
        ),
        ({"object": "list", "data": []}, ErrorClass.MALFORMED),
        ({"error": {"message": "x"}}, ErrorClass.STREAM_ERROR),
    ],
)
def test_whole_answers(body: dict, expected: ErrorClass | None):
    tokens = Tokens()
    assert ResponsesProtocol.body("responses", json.dumps(body).encode(), tokens) == expected
    if expected is None:
        assert (tokens.input, tokens.output) == (11, 5)


def test_the_request_it_builds():
    spec = RequestSpec(kind="responses", prompt="hello", system="be brief", max_tokens=7)
    prep = ResponsesProtocol().prepare(spec, TargetSpec(model="m"), "http://h/v1", "sk-test-1")
    assert prep.url == "http://h/v1/responses"
    assert prep.headers["Authorization"] == "Bearer sk-test-1"
    assert prep.headers["Accept"] == "text/event-stream" and prep.stream
    assert json.loads(prep.body or b"") == {
        "model": "m",
        "input": "hello",
        "instructions": "be brief",
        "max_output_tokens": 7,
        "store": False,
        "stream": True,
    }
    assert spec.label == "responses stream"
    messages = [{"role": "user", "content": "from a file"}]
    whole = RequestSpec(kind="responses", stream=False)
    prep = ResponsesProtocol().prepare(whole, TargetSpec(), "http://h", None, messages)
    body = json.loads(prep.body or b"")
    assert body["input"] == messages and "stream" not in body and not prep.stream
    assert "Authorization" not in prep.headers and whole.label == "responses"


def test_a_responses_request_is_described_like_the_other_kinds():
    config = RunConfig(
        requests=[{"kind": "responses", "max_tokens": 9}, {"kind": "responses", "stream": False}]
    )
    assert describe_requests(config, tokens=True) == (
        "responses stream max_tokens 9, responses max_tokens 64"
    )
    assert describe_streaming(config) == "mixed"  # it can stream, so a whole one is a choice


def test_the_bundled_preset_takes_the_request_options_as_chat_does():
    config = resolve_config(Overrides(preset="responses", stream=False, max_tokens=9, prompt="p"))
    (spec,) = config.requests
    assert (spec.kind, spec.stream, spec.max_tokens, spec.prompt) == ("responses", False, 9, "p")
