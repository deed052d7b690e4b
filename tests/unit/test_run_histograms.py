"""The run's exact histograms: encoded into the record, merged across runs exactly, checked
strictly when a file is read (a malformed entry is one line naming it), absent in old files."""

from __future__ import annotations

import base64
import json
import random
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loadtui.errors import RunFileError
from loadtui.metrics.histogram import Histogram, check_encoded
from loadtui.metrics.runhist import decode_run, encode_run, merge_runs
from loadtui.metrics.stats import Aggregate, Recorder
from loadtui.storage.runfile import load_record, save_run, scan_records

DATA = Path(__file__).parents[1] / "data"


def _samples(seed: int, n: int, scale: float) -> list[float]:
    rng = random.Random(seed)
    return [rng.lognormvariate(0, 0.6) * scale for _ in range(n)]


def _recorded(samples: list[float]) -> Histogram:
    h = Histogram()
    for ms in samples:
        h.record_ms(ms)
    return h


def _aggregate(latencies: list[float], label: str) -> Aggregate:
    rec = Recorder()
    for ms in latencies:
        rec.hist["latency_ms"].record_ms(ms)
        rec.hist["ttft_ms"].record_ms(ms / 2)
        rec.requests += 1
        rec.label(label).record(ms, True, ms / 2)
    agg = Aggregate()
    agg.add_snapshot(rec.drain(0, 1.0))
    return agg


def test_merging_two_runs_equals_one_histogram_of_both_runs_samples() -> None:
    a, b = _samples(1, 3000, 40.0), _samples(2, 2000, 90.0)
    merged = merge_runs(
        [encode_run({"latency_ms": _recorded(a)}, {}), encode_run({"latency_ms": _recorded(b)}, {})]
    )
    both = _recorded(a + b)
    assert merged.get("latency_ms").count == 5000
    assert merged.get("latency_ms").encode() == both.encode()  # the same counts, bucket by bucket
    assert merged.get("latency_ms").summary() == both.summary()
    assert merged.get("ttft_ms").count == 0  # no samples: an empty histogram, not an error


def test_an_aggregates_histograms_round_trip_through_the_record_with_labels() -> None:
    agg = _aggregate(_samples(3, 500, 25.0), "chat")
    stored = agg.histograms()
    assert set(stored.whole) == {"latency_ms", "ttft_ms"}  # empty metrics are left out
    assert set(stored.by_label["chat"]) == {"latency_ms", "ttft_ms"}
    decoded = decode_run(stored)
    summary = agg.summary(1.0)
    assert decoded.get("latency_ms").summary() == summary.metrics.latency_ms
    assert decoded.get("ttft_ms", "chat").summary() == summary.by_label["chat"].ttft_ms


def test_merging_runs_per_label_keeps_labels_apart() -> None:
    one = _aggregate(_samples(4, 300, 20.0), "a").histograms()
    two = _aggregate(_samples(5, 200, 60.0), "b").histograms()
    three = _aggregate(_samples(6, 100, 30.0), "a").histograms()
    merged = merge_runs([one, two, three])
    assert merged.get("latency_ms", "a").count == 400
    assert merged.get("latency_ms", "b").count == 200
    assert merged.get("latency_ms").count == 600


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"not base64!", "not base64"),
        (b"aGVsbG8gd29ybGQ=", "too short|bad header"),
        (Histogram().encode()[:-8], "bad header"),
    ],
)
def test_check_encoded_refuses_what_is_not_one_of_our_histograms(data: bytes, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        check_encoded(data)


def test_a_histogram_of_another_range_is_refused_before_it_is_allocated() -> None:
    from hdrh.histogram import HdrHistogram

    foreign = HdrHistogram(1, 2**40, 4)
    foreign.record_value(5)
    with pytest.raises(ValueError, match="not loadtui's"):
        check_encoded(foreign.encode())


def _saved_with_histograms(tmp_path: Path) -> Path:
    record = load_record(DATA / "run-a.json")
    agg = _aggregate(_samples(7, 400, 30.0), "chat stream")
    record = replace(record, histograms=agg.histograms())
    return save_run(record, tmp_path / "run.json")


def test_saved_histograms_load_back_as_the_same_bytes(tmp_path: Path) -> None:
    path = _saved_with_histograms(tmp_path)
    raw = json.loads(path.read_text())
    assert raw["histograms"]["encoding"] == "hdr-v2-base64"
    assert isinstance(raw["histograms"]["whole"]["latency_ms"], str)
    assert list(raw)[-1] == "series"  # still last: listings read the head only
    loaded = load_record(path)
    assert loaded.histograms is not None
    agg = _aggregate(_samples(7, 400, 30.0), "chat stream").histograms()
    assert loaded.histograms.whole == agg.whole
    assert loaded.histograms.by_label == agg.by_label


def test_old_files_without_histograms_load_with_none() -> None:
    for path in sorted(DATA.glob("*.json")):
        assert "histograms" not in json.loads(path.read_text())
        assert load_record(path).histograms is None


@pytest.mark.parametrize(
    ("where", "value", "named"),
    [
        (("whole", "latency_ms"), "garbage", "histograms.whole.latency_ms"),
        (("whole", "ttft_ms"), 12, "histograms.whole.ttft_ms"),
        (("by_label", "chat stream", "latency_ms"), "SElTVEZ==", "histograms.by_label"),
        (("encoding",), "hdr-v9", "histograms.encoding"),
        (("whole",), [], "histograms.whole"),
    ],
)
def test_a_malformed_histogram_is_one_run_file_error_naming_it(
    tmp_path: Path, where: tuple[str, ...], value: object, named: str
) -> None:
    path = _saved_with_histograms(tmp_path)
    raw = json.loads(path.read_text())
    node = raw["histograms"]
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = value
    path.write_text(json.dumps(raw))
    with pytest.raises(RunFileError) as caught:
        load_record(path)
    message = str(caught.value)
    assert named in message and "\n" not in message and len(message) < 300
    listed, skipped = scan_records(tmp_path)  # listed as skipped, named, never a traceback
    assert not listed and len(skipped) == 1


def test_a_listing_of_old_and_new_files_reads_both(tmp_path: Path) -> None:
    _saved_with_histograms(tmp_path)
    shutil.copy(DATA / "run-b.json", tmp_path / "run-b.json")
    listed, skipped = scan_records(tmp_path)
    assert not skipped
    assert sorted(r.record.histograms is None for r in listed) == [False, True]


_VALID = _recorded(_samples(8, 200, 30.0)).encode()


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(
    at=st.integers(min_value=0, max_value=len(base64.b64decode(_VALID)) - 1),
    byte=st.integers(min_value=0, max_value=255),
    cut=st.integers(min_value=0, max_value=len(base64.b64decode(_VALID))),
)
def test_a_damaged_histogram_decodes_or_is_one_value_error(at: int, byte: int, cut: int) -> None:
    raw = bytearray(base64.b64decode(_VALID))
    raw[at] = byte
    data = base64.b64encode(bytes(raw[:cut] if cut else raw))
    try:
        h = Histogram.decode_checked(data)
    except ValueError as exc:
        assert "\n" not in str(exc)
        return
    assert h.count >= 0 and h.summary().count == h.count


def _with_counts(body: bytes) -> bytes:
    """A valid histogram's encoding with its counts replaced by ``body`` (re-compressed, the
    lengths fixed): only the counts are wrong."""
    import struct
    import zlib

    raw = base64.b64decode(_recorded([5.0]).encode())
    payload = bytearray(zlib.decompress(raw[8:]))
    header = payload[:40]
    struct.pack_into(">I", header, 4, len(body))
    packed = zlib.compress(bytes(header) + body)
    return base64.b64encode(raw[:4] + struct.pack(">I", len(packed)) + packed)


@pytest.mark.parametrize("body", [b"\x02" * 30_000, b"\xff" * 20])
def test_counts_past_our_buckets_are_refused_when_the_file_is_read(body: bytes) -> None:
    data = _with_counts(body)
    with pytest.raises(ValueError, match="bad counts"):
        check_encoded(data)
    with pytest.raises(ValueError, match="bad counts"):
        Histogram.decode_checked(data)
