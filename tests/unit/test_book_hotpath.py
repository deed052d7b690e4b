"""The per-request bookkeeping made cheaper for issue 15 reads and counts exactly as before:
``json_object``'s fast path is ``json.loads``; a histogram's own encoder writes the library's
payload (at the library's zlib level, its very bytes)."""

from __future__ import annotations

import base64
import json
import random
import zlib

import pytest
from hdrh.histogram import HdrHistogram
from hypothesis import given, settings
from hypothesis import strategies as st

from loadtui.engine.protocols import OpenAIProtocol, json_object
from loadtui.metrics.histogram import Histogram, _encode, check_encoded
from loadtui.model.outcomes import ErrorClass, Tokens


def _reference(data: bytes) -> object:
    """What ``json_object`` always was: ``json.loads``, a dict or None."""
    try:
        obj = json.loads(data)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


_EDGES = [
    b'{"a":1}',
    b'{"a":1} \n\r\t',
    b'{"a":1} x',
    b'{"a":1}{"b":2}',
    b"{",
    b"{}",
    b"{ }",
    b'{"a":NaN,"b":Infinity,"c":-Infinity}',
    b'{"a":"\\ud800"}',
    b'{"a":"\xff"}',
    b'{"a":"caf\xc3\xa9"}',
    b'{"a":"\x01"}',
    b'{"a":[1,2,{"b":null}],"c":1e400}',
    b'{"a":1,"a":2}',
    b"{'a':1}",
    b'{"a":1,}',
    '{"a":1}'.encode("utf-16-le"),
    '{"a":1}'.encode("utf-16"),
    '{"a":1}'.encode("utf-8-sig"),
    '{"a":1}'.encode("utf-32-le"),
    b'  {"a":1}',
    b"[1,2]",
    b'"{"',
    b"",
    b"{\x00",
    b'{"error":{"message":"x"}}',
]


def test_json_object_is_json_loads_on_edge_cases() -> None:
    for data in _EDGES:
        assert json_object(data) == _reference(data), data


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=100, deadline=None)
@given(
    obj=st.dictionaries(st.text(max_size=8), _JSON, max_size=5),
    cut=st.integers(min_value=0, max_value=400),
    tail=st.sampled_from([b"", b" ", b"\n", b"x", b"}", b"\xff", b"\x00"]),
)
def test_json_object_is_json_loads_on_objects_cut_and_tailed(
    obj: dict[str, object], cut: int, tail: bytes
) -> None:
    data = json.dumps(obj).encode()
    for variant in (data, data + tail, data[:cut], data[:cut] + tail):
        assert json_object(variant) == _reference(variant), variant


@given(st.binary(max_size=40))
def test_json_object_is_json_loads_on_any_bytes(data: bytes) -> None:
    assert json_object(b"{" + data) == _reference(b"{" + data)
    assert json_object(data) == _reference(data)


def _payload(encoded: bytes) -> bytes:
    """The varint counts payload inside an encoded histogram (whatever zlib level made it)."""
    return zlib.decompress(base64.b64decode(encoded)[8:])


def _library(values: list[float]) -> HdrHistogram:
    h = HdrHistogram(1, 3_600_000_000, 3)
    for ms in values:
        h.record_value(min(max(int(ms * 1000.0 + 0.5), 1), 3_600_000_000))
    return h


def test_a_histogram_read_between_records_is_the_librarys() -> None:
    """Reads (count, summary, encode, merge, reset) come between records in any order; each
    sees every value recorded before it, and the encoding carries the library's payload."""
    rng = random.Random(15)
    values = [rng.lognormvariate(3, 1.5) for _ in range(3000)] + [0.0, 1e-9, 4e9, 0.0004]
    mine, seen = Histogram(), []
    for i, ms in enumerate(values):
        mine.record_ms(ms)
        seen.append(ms)
        if i % 517 == 0:
            ref = _library(seen)
            assert mine.count == ref.get_total_count() == len(seen)
            assert mine.summary().min == ref.get_min_value() / 1000.0
            assert mine.summary().max == ref.get_max_value() / 1000.0
    ref = _library(seen)
    assert _payload(mine.encode()) == _payload(ref.encode())  # the same counts, another level
    assert _encode(mine._h, 6) == ref.encode()  # at the library's level, its very bytes
    assert mine.percentile(99.0) == ref.get_value_at_percentile(99.0) / 1000.0
    other = Histogram()
    other.record_ms(0.5)
    other.record_ms(7200_000.0)  # clamped at the highest value
    merged = Histogram()
    merged.merge(mine)
    merged.merge(other)
    assert merged.count == len(seen) + 2
    assert _payload(merged.encode()) == _payload(_library([*seen, 0.5, 7200_000.0]).encode())
    mine.reset()
    assert mine.count == 0 and mine.summary().count == 0
    assert _encode(mine._h, 6) == _library([]).encode()
    mine.record_ms(3.0)
    assert _encode(mine._h, 6) == _library([3.0]).encode()
    check_encoded(mine.encode())  # what a run file's loader accepts
    assert Histogram.decode(mine.encode()).summary() == mine.summary()


def test_a_chat_body_is_judged_by_its_choices_usage_and_error() -> None:
    read = OpenAIProtocol.body
    ok = b'{"choices":[{"message":{"content":"hi"}}],"usage":{"completion_tokens":3,"prompt_tokens":2}}'
    tokens = Tokens()
    assert read("chat", ok, tokens) is None and (tokens.output, tokens.input) == (3, 2)
    assert read("chat", b'{"choices":[]}', Tokens()) is None  # no choice: not malformed
    for bad in (b'{"choices":{}}', b'{"choices":[1]}', b'{"choices":[{}, "x"]}', b"{}", b"[]"):
        assert read("chat", bad, Tokens()) is ErrorClass.MALFORMED, bad
    assert read("chat", b'{"error":{"message":"no"}}', Tokens()) is ErrorClass.STREAM_ERROR
    with pytest.raises(ValueError):  # the caller counts a wrong token count as MALFORMED
        read("chat", b'{"choices":[],"usage":{"completion_tokens":-1}}', Tokens())
