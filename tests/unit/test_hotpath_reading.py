"""The hot path's shortcuts read exactly what the long way reads (issue 15).

An OpenAI stream's content chunks are recognised by their shape (``ContentTemplate``) instead of
parsed: every stream here is read twice, with the shortcut and by a reader without it, and the
outcomes must be the same — content chunks, events, error class, usage, ITL count. And
``Histogram.record_ms`` (HdrHistogram's ``record_value`` inlined) must fill the same counts as
the library does."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator
from dataclasses import replace
from time import perf_counter

import pytest
from hdrh.histogram import HdrHistogram

from loadtui.engine.anthropic import AnthropicProtocol
from loadtui.engine.client import read_stream
from loadtui.engine.protocols import CONTENT, OpenAIProtocol, Prepared, chunk_template
from loadtui.engine.sse import EventTooLarge, SSEParser
from loadtui.metrics.histogram import Histogram
from loadtui.model.outcomes import ErrorClass, Outcome, Tokens
from loadtui.model.plan import TargetSpec
from loadtui.model.requests import RequestSpec


class _NoTemplate:
    """The OpenAI reader without its content template: every chunk parsed in full."""

    stream_event = staticmethod(OpenAIProtocol.stream_event)
    body = staticmethod(OpenAIProtocol.body)


def _prep() -> Prepared:
    spec = RequestSpec(kind="chat", stream=True)
    return OpenAIProtocol().prepare(spec, TargetSpec(model="m"), "http://127.0.0.1:1", None)


HEAD = (
    '{"id":"c-1","created":17,"model":"m","object":"chat.completion.chunk","choices":[{"index":0,'
)


def _chunk(delta: str, tail: str = '"logprobs":null,"finish_reason":null}]}') -> str:
    return HEAD + f'"delta":{delta},' + tail


ROLE = _chunk('{"role":"assistant","content":""}')
FINISH = _chunk("{}", '"logprobs":null,"finish_reason":"stop"}]}')
USAGE = '{"id":"c-1","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":7}}'


def _text(t: str) -> str:
    return _chunk('{"content":' + json.dumps(t) + "}")


def _padded(delta: str, pad: str, finish: str = "null") -> str:
    """A chunk as OpenAI sends it by default: a random ``obfuscation`` string after choices."""
    return (
        HEAD
        + f'"delta":{delta},"logprobs":null,"finish_reason":{finish}}}],'
        + f'"obfuscation":{json.dumps(pad)}}}'
    )


def _padded_text(t: str, pad: str) -> str:
    return _padded('{"content":' + json.dumps(t) + "}", pad)


STREAMS = {
    "plain": [ROLE, *(_text(f"tok{i} ") for i in range(6)), FINISH, USAGE, "[DONE]"],
    "obfuscation padding": [
        _padded('{"role":"assistant","content":""}', "xY"),
        *(_padded_text(f"tok{i} ", "p" * (i % 5)) for i in range(6)),
        _padded("{}", "zz9", '"stop"'),
        USAGE,
        "[DONE]",
    ],
    "obfuscation padding, broken": [
        _padded_text("a", "q1"),
        _padded_text("b", "q22"),
        _padded_text("c", "bad\x01").replace("\\x01", "\x01"),
        _padded_text("d", "q3")[:-1],
        '{"error":{"message":"boom"}}',
    ],
    "escapes and unicode": [
        _text('a "quoted" \\ line\n'),
        _text("é 漢字 🙂"),
        _text("x"),
        "[DONE]",
    ],
    "empty content mid-stream": [_text("a"), _text(""), _text("b"), "[DONE]"],
    "error chunk after content": [_text("a"), _text("b"), '{"error":{"message":"boom"}}'],
    "same prefix, broken tail": [
        _text("a"),
        _text("b"),
        HEAD + '"delta":{"content":"c"}',
        "[DONE]",
    ],
    "same prefix, bad string": [_text("a"), HEAD + '"delta":{"content":"\x01"},x', "[DONE]"],
    "tail changes": [
        _text("a"),
        _chunk('{"content":"b"}', '"finish_reason":"length"}]}'),
        "[DONE]",
    ],
    "usage on every chunk": [
        HEAD + '"delta":{"content":"a"}}],"usage":{"completion_tokens":1}}',
        HEAD + '"delta":{"content":"b"}}],"usage":{"completion_tokens":2}}',
        HEAD + '"delta":{"content":"c"}}],"usage":{"completion_tokens":3}}',
        "[DONE]",
    ],
    "usage null on every chunk": [
        HEAD + '"delta":{"content":"a"}}],"usage":null}',
        HEAD + '"delta":{"content":"b"}}],"usage":null}',
        USAGE,
        "[DONE]",
    ],
    "tool calls then text": [
        _chunk('{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]}'),
        _text("a"),
        _text("b"),
        "[DONE]",
    ],
    "two choices": [
        '{"choices":[{"index":0,"delta":{"content":"a"}},{"index":1,"delta":{"content":"b"}}]}',
        '{"choices":[{"index":0,"delta":{"content":"c"}},{"index":1,"delta":{"content":""}}]}',
        "[DONE]",
    ],
}


class _AnthropicNoTemplate:
    """The Anthropic reader without its content template."""

    stream_event = staticmethod(AnthropicProtocol.stream_event)
    body = staticmethod(AnthropicProtocol.body)


def _ant(kind: str, **fields: object) -> str:
    return json.dumps({"type": kind, **fields})


def _text_delta(t: str, index: int = 0) -> str:
    return _ant("content_block_delta", index=index, delta={"type": "text_delta", "text": t})


ANT_START = _ant("message_start", message={"usage": {"input_tokens": 5, "output_tokens": 1}})
ANT_END = [
    _ant("content_block_stop", index=0),
    _ant("message_delta", delta={"stop_reason": "end_turn"}, usage={"output_tokens": 9}),
    _ant("message_stop"),
]
ANTHROPIC = {
    "plain": [ANT_START, *(_text_delta(f"t{i} ") for i in range(5)), *ANT_END],
    "escapes, empty and unicode": [
        ANT_START,
        _text_delta('a\n"b"'),
        _text_delta(""),
        _text_delta("é🙂"),
        _text_delta("c"),
        *ANT_END,
    ],
    "thinking then text": [
        _ant("content_block_delta", index=0, delta={"type": "thinking_delta", "thinking": "h"}),
        _ant("content_block_delta", index=0, delta={"type": "thinking_delta", "thinking": "m"}),
        _text_delta("a", 1),
        _text_delta("b", 1),
        *ANT_END,
    ],
    "error after text": [
        _text_delta("a"),
        _text_delta("b"),
        _ant("error", error={"type": "overloaded_error"}),
    ],
    "broken tail": [_text_delta("a"), _text_delta("b"), _text_delta("c")[:-1], *ANT_END],
}


def _ant_event(payload: str) -> bytes:
    """An SSE event named by its payload's type (a broken payload: a text delta)."""
    try:
        name = json.loads(payload)["type"]
    except ValueError:
        name = "content_block_delta"
    return f"event: {name}\ndata: {payload}\n\n".encode()


@pytest.mark.parametrize("name", sorted(ANTHROPIC))
@pytest.mark.parametrize("size", [7, 4096])
def test_an_anthropic_stream_reads_the_same_with_and_without_the_template(
    name: str, size: int
) -> None:
    data = b"".join(_ant_event(p) for p in ANTHROPIC[name])
    spec = RequestSpec(kind="messages", stream=True)
    fast = AnthropicProtocol().prepare(spec, TargetSpec(model="m"), "http://127.0.0.1:1", None)
    slow = replace(fast, protocol=_AnthropicNoTemplate())
    assert _read(fast, data, size) == _read(slow, data, size)


def test_an_anthropic_template_matches_only_text_deltas_of_its_shape() -> None:
    template = AnthropicProtocol.content_template(_text_delta("first").encode())
    assert template is not None and template.matches(_text_delta("next").encode())
    for other in (_text_delta(""), _text_delta("x", 1), ANT_START, *ANT_END):
        assert not template.matches(other.encode())
    thinking = {"type": "thinking_delta", "thinking": "h"}
    assert (
        AnthropicProtocol.content_template(_ant("content_block_delta", delta=thinking).encode())
        is None
    )


async def _reads(data: bytes, size: int) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def _read(prep: Prepared, data: bytes, size: int) -> tuple[object, ...]:
    out = Outcome(prep.label, perf_counter())
    itl = Histogram()
    done = asyncio.run(read_stream(_reads(data, size), prep, out, itl))
    tokens = (out.tokens.input, out.tokens.output)
    return done, out.chunks, out.events, out.error, tokens, itl.count, out.nbytes


@pytest.mark.parametrize("name", sorted(STREAMS))
@pytest.mark.parametrize("size", [7, 4096])
def test_a_stream_reads_the_same_with_and_without_the_template(name: str, size: int) -> None:
    data = b"".join(b"data: " + p.encode() + b"\n\n" for p in STREAMS[name])
    fast = _prep()
    slow = replace(fast, protocol=_NoTemplate())
    assert _read(fast, data, size) == _read(slow, data, size)


def test_the_template_spares_the_parse_of_plain_content_chunks() -> None:
    template = chunk_template(_text("first").encode())
    assert template is not None
    assert template.matches(_text("next one").encode())
    for other in (ROLE, FINISH, USAGE, _text(""), '{"error":{"message":"x"}}', "[DONE]"):
        assert not template.matches(other.encode())
    assert not template.matches(b"\xff" + _text("x").encode())
    tokens = Tokens()  # what the full parse says of the matched chunk
    assert OpenAIProtocol.stream_event(None, _text("next one").encode(), tokens) == CONTENT
    assert (tokens.input, tokens.output) == (None, None)


def test_the_template_leaves_openai_s_padding_free() -> None:
    template = chunk_template(_padded_text("first", "Ab3").encode())
    assert template is not None
    assert template.matches(_padded_text("next", "a much longer pad").encode())
    assert template.matches(_padded_text("x", "").encode())
    assert not template.matches(_padded("{}", "Ab3", '"stop"').encode())  # the finish
    assert not template.matches(_padded_text("", "Ab3").encode())
    assert not template.matches(_text("unpadded").encode())  # another shape: parsed


def test_read_stream_spares_the_parse_of_padded_content_chunks() -> None:
    (done, chunks, events, error), parsed = _read_counting_parses("obfuscation padding")
    assert (done, chunks, events, error) == (True, 6, 10, None)
    assert len(parsed) == 5  # role, the first content chunk, finish, usage, [DONE]


def test_no_template_from_a_chunk_with_usage_or_several_choices() -> None:
    assert chunk_template(STREAMS["usage on every chunk"][0].encode()) is None
    assert chunk_template(STREAMS["two choices"][0].encode()) is None
    assert chunk_template(ROLE.encode()) is None  # empty content
    assert chunk_template(b"not json") is None


def test_record_ms_fills_the_counts_hdrhistogram_would() -> None:
    rng = random.Random(15)
    edges = [0.0, 0.0004, 0.0005, 0.001, 2.047, 2.048, 2.049, 4.095, 4.096, 3.6e6, 4e6, -1.0]
    values = edges + [10 ** rng.uniform(-4, 7) for _ in range(20_000)]
    ours = Histogram()
    theirs = HdrHistogram(1, 3_600_000_000, 3)
    for ms in values:
        ours.record_ms(ms)
        theirs.record_value(min(max(int(ms * 1000.0 + 0.5), 1), 3_600_000_000))
    h = ours._h
    assert list(h.counts) == list(theirs.counts)
    assert (h.total_count, h.min_value, h.max_value) == (
        theirs.total_count,
        theirs.min_value,
        theirs.max_value,
    )
    assert ours.summary() == Histogram.decode(theirs.encode()).summary()


class _LinesOnly(SSEParser):
    """The parser without its one-event shortcut: every read split into lines."""

    def feed(self, chunk: bytes) -> list[tuple[str | None, bytes]]:
        lines = self._lines(chunk)
        return self._dispatch(lines) if lines else []


SSE_READS = {
    "one event a read": [b"data: a\n\n", b"data: {}\n\n", b"data: [DONE]\n\n"],
    "a named event then its data": [b"event: ping\n", b"data: x\n\n", b"data: y\n\n"],
    "data split across reads": [b"data: ab", b"c\n\n", b"data: d\n\n"],
    "a CR ending a read": [b"data: a\r", b"\ndata: b\n\n", b"data: c\n\n"],
    "two data lines, one event": [b"data: a\n", b"data: b\n\n", b"data: c\n\n"],
    "CRLF events": [b"data: a\r\n\r\n", b"data: b\n\n"],
    "no space after the colon": [b"data:a\n\n", b"data: b\n\n"],
    "a comment and two events": [b": hi\n\ndata: a\n\ndata: b\n\n", b"data: c\n\n"],
}


@pytest.mark.parametrize("name", sorted(SSE_READS))
def test_the_one_event_shortcut_reads_what_the_line_split_reads(name: str) -> None:
    fast, slow = SSEParser(), _LinesOnly()
    for read in SSE_READS[name]:
        assert fast.feed(read) == slow.feed(read)


def test_the_shortcut_keeps_the_event_size_limit() -> None:
    with pytest.raises(EventTooLarge):
        SSEParser(max_event=4).feed(b"data: 12345\n\n")
    assert SSEParser(max_event=5).feed(b"data: 12345\n\n") == [(None, b"12345")]


def test_read_stream_parses_only_the_chunks_that_do_not_match() -> None:
    (done, chunks, events, error), parsed = _read_counting_parses("plain")
    assert (done, chunks, events, error) == (True, 6, 10, None)
    # the role chunk, the first content chunk (the template), finish, usage, [DONE]
    assert len(parsed) == 5


def _read_counting_parses(name: str) -> tuple[tuple[object, ...], list[bytes]]:
    """Read ``STREAMS[name]`` in 4 KB reads; (done, chunks, events, error) and the payloads
    the protocol's full parse was given."""
    parsed: list[bytes] = []

    class Counting(OpenAIProtocol):
        @staticmethod
        def stream_event(event: str | None, data: bytes, tokens: Tokens) -> int | ErrorClass:
            parsed.append(data)
            return OpenAIProtocol.stream_event(event, data, tokens)

    prep = replace(_prep(), protocol=Counting())
    data = b"".join(b"data: " + p.encode() + b"\n\n" for p in STREAMS[name])
    done, chunks, events, error, *_ = _read(prep, data, 4096)
    return (done, chunks, events, error), parsed
