"""A latency histogram that merges exactly across workers and hosts.

Backed by HdrHistogram (values kept in microseconds, 3 significant digits, 1 µs .. 1 h), so
percentiles never come from lists of samples and memory stays flat however long a run goes.
``encode()``/``decode()`` use HdrHistogram's standard compressed form — the wire format for
snapshots today and for remote workers later.
"""

from __future__ import annotations

import base64
import binascii
import ctypes
import struct
import sys
import threading
import zlib
from bisect import bisect_left
from collections.abc import Sequence
from itertools import accumulate, compress
from operator import itemgetter, mul

import pyhdrh  # type: ignore[import-not-found]  # hdrh's C helpers
from hdrh.histogram import HdrHistogram

from loadtui.model.record import MetricSummary

__all__ = ["PERCENTILES", "Histogram", "check_encoded"]

_LOW_US = 1
_HIGH_US = 3_600_000_000
_DIGITS = 3


def _layout() -> tuple[int, int, int]:
    """The counts-array layout of a histogram with these bounds (unit magnitude 0, as 1 µs is
    the lowest value): sub-bucket mask, half-count magnitude, half count."""
    h = HdrHistogram(_LOW_US, _HIGH_US, _DIGITS)
    assert h.unit_magnitude == 0, "record_ms assumes the lowest value is 1"
    return h.sub_bucket_mask, h.sub_bucket_half_count_magnitude, h.sub_bucket_half_count


_SUB_MASK, _HALF_MAG, _HALF_COUNT = _layout()
_BUCKET_SHIFT = _HALF_MAG + 1
"""bucket index = bit length of (value | mask) - (half-count magnitude + 1) - unit magnitude"""

PERCENTILES: tuple[tuple[str, float], ...] = (
    ("p50", 50.0),
    ("p90", 90.0),
    ("p95", 95.0),
    ("p99", 99.0),
    ("p999", 99.9),
)


class Histogram:
    """Milliseconds in, milliseconds out; microsecond resolution inside."""

    __slots__ = ("_h",)

    def __init__(self, _h: HdrHistogram | None = None) -> None:
        self._h = _h if _h is not None else HdrHistogram(_LOW_US, _HIGH_US, _DIGITS)

    def __del__(self) -> None:
        # An HdrHistogram and its encoder point at each other, so without this every dropped
        # histogram (a 92 KB counts array) waits for the cyclic GC, which a quiet coordinator
        # runs rarely: the parent grew ~0.6 MB/s even at 1 request/s. Breaking the cycle lets
        # reference counting free it at once.
        encoder = getattr(getattr(self, "_h", None), "encoder", None)
        if encoder is not None:
            encoder.histogram = None

    def record_ms(self, ms: float) -> None:
        """Record one value: HdrHistogram's ``record_value`` inlined for this histogram's fixed
        layout (the same counts index, checked against the library in tests/unit): a stream
        records an ITL gap per chunk, and the library's five Python calls per value were ~8 %
        of a worker's time at 1,000 streams (docs/performance.md, issue 15)."""
        us = int(ms * 1000.0 + 0.5)
        if us < _LOW_US:
            us = _LOW_US
        elif us > _HIGH_US:
            us = _HIGH_US
        h = self._h
        bucket = (us | _SUB_MASK).bit_length() - _BUCKET_SHIFT
        h.counts[((bucket + 1) << _HALF_MAG) + (us >> bucket) - _HALF_COUNT] += 1
        h.total_count += 1
        if us < h.min_value:
            h.min_value = us
        if us > h.max_value:
            h.max_value = us

    @property
    def count(self) -> int:
        total: int = self._h.get_total_count()
        return total

    def merge(self, other: Histogram) -> None:
        if other.count:
            self._h.add(other._h)

    def reset(self) -> None:
        # HdrHistogram.reset zeroes its ~12,000 counters in a Python loop (~1 ms); a worker
        # resets seven histograms four times a second, so zero the ctypes array in one call.
        h = self._h
        if h.total_count:
            ctypes.memset(ctypes.addressof(h.counts), 0, ctypes.sizeof(h.counts))
        h.total_count = 0
        h.min_value = sys.maxsize
        h.max_value = 0
        h.start_time_stamp_msec = sys.maxsize
        h.end_time_stamp_msec = 0

    def encode(self) -> bytes:
        """HdrHistogram's V2 compressed form (base64), as the library writes it but cheaper
        (``_encode``): a worker encodes every filled histogram four times a second."""
        return _encode(self._h)

    @classmethod
    def decode(cls, data: bytes) -> Histogram:
        if not data:
            return cls()
        return cls(HdrHistogram.decode(data))  # one counts array, not an empty one plus a copy

    @classmethod
    def decode_checked(cls, data: bytes) -> Histogram:
        """``decode`` for bytes from a file: ValueError (one line) unless ``data`` is one of
        loadtui's own histograms (``check_encoded``)."""
        check_encoded(data)
        try:
            return cls(HdrHistogram.decode(data))
        except Exception as exc:  # the library raises its own classes, zlib's and ctypes'
            raise ValueError(f"not an HDR histogram ({type(exc).__name__})") from None

    def values_at_ranks(self, ranks: list[int]) -> list[float]:
        """The values (ms) of the samples at these 1-based ranks in sorted order, as
        ``summary`` reads its percentiles (each bucket's highest equivalent value); empty
        when there are no samples."""
        return self._at_ranks(self._nonzero(), ranks) if self.count else []

    def _nonzero(self) -> list[tuple[int, int]]:
        """(bucket index, count) of the non-empty buckets. One C-speed scan, then the
        library's own index→value functions on those only: the same figures as HdrHistogram's
        iterators, ~30× faster (its pure-Python loops walk all ~23,000 buckets per call)."""
        h = self._h
        return _filled(h, memoryview(h.counts).cast("B").cast("Q" if h.word_size == 8 else "I"))

    def _at_ranks(self, nonzero: list[tuple[int, int]], ranks: list[int]) -> list[float]:
        h = self._h
        running = list(accumulate(map(itemgetter(1), nonzero)))
        out: list[float] = []
        for rank in ranks:
            at = min(bisect_left(running, rank), len(nonzero) - 1)
            out.append(
                h.get_highest_equivalent_value(h.get_value_from_index(nonzero[at][0])) / 1000.0
            )
        return out

    def percentile(self, pct: float) -> float:
        us: int = self._h.get_value_at_percentile(pct)
        return us / 1000.0

    def percentiles(self, pcts: Sequence[float]) -> list[float]:
        """``percentile`` of each of ``pcts``, the same values, from one scan of the counts
        (``percentile`` walks them in Python once per call: an export's 11 columns per label
        took 0.4 s on a wide histogram); zeros when empty."""
        if not self.count:
            return [0.0] * len(pcts)
        h = self._h
        counts = memoryview(h.counts).cast("B").cast("Q" if h.word_size == 8 else "I")
        nonzero = _filled(h, counts)
        running = list(accumulate(c for _, c in nonzero))
        out = []
        for pct in pcts:
            at = bisect_left(running, h.get_target_count_at_percentile(pct))
            value = h.get_value_from_index(nonzero[min(at, len(nonzero) - 1)][0])
            edge = h.get_highest_equivalent_value if pct else h.get_lowest_equivalent_value
            out.append(edge(value) / 1000.0)
        return out

    def summary(self) -> MetricSummary:
        """Count, mean, min, max and ``PERCENTILES`` in ms (zeros when empty)."""
        n = self.count
        if not n:
            return MetricSummary()
        h = self._h
        counts = memoryview(h.counts).cast("B").cast("Q" if h.word_size == 8 else "I").tolist()
        nonzero = _filled(h, counts)
        # the mean's sum in C runs of equal bucket width (``_sum_us``): the same integer a
        # Python loop over the filled buckets gives, ~15x faster on a long run's histogram
        # (a frame, an abort check and every saved summary pay it)
        mean_total = _sum_us(h, counts, nonzero[0][0], nonzero[-1][0] + 1)
        ranks = [h.get_target_count_at_percentile(p) for _, p in PERCENTILES]
        p50, p90, p95, p99, p999 = self._at_ranks(nonzero, ranks)
        return MetricSummary(
            count=n,
            mean=round(mean_total / n / 1000.0, 3),
            min=h.get_min_value() / 1000.0,
            max=h.get_max_value() / 1000.0,
            p50=p50,
            p90=p90,
            p95=p95,
            p99=p99,
            p999=p999,
        )

    def cumulative(self, bounds_ms: tuple[float, ...]) -> tuple[list[int], float]:
        """How many values are at or below each of ``bounds_ms`` (ascending), and the sum of
        all values in ms: a Prometheus histogram's buckets and ``_sum``, exact to HdrHistogram's
        resolution (3 significant digits: a value counts under a bound when the lowest value of
        its HDR bucket is at or below it; the sum takes each bucket's middle, as the mean does).
        """
        h = self._h
        if not h.total_count:
            return [0] * len(bounds_ms), 0.0
        counts = memoryview(h.counts).cast("B").cast("Q" if h.word_size == 8 else "I").tolist()
        below: list[int] = []
        running = start = 0
        for b in bounds_ms:  # ascending: one pass over the counts for every bound
            end = h._counts_index_for(min(int(b * 1000.0), _HIGH_US)) + 1
            running += sum(counts[start:end])
            below.append(running)
            start = max(start, end)
        return below, _sum_us(h, counts) / 1000.0


def _filled(h: HdrHistogram, counts: Sequence[int]) -> list[tuple[int, int]]:
    """(index, count) of the non-empty buckets, looking only at the indices from the lowest
    value to the highest (HdrHistogram tracks both on record, add and decode) and picking the
    filled ones in C (``compress``): a Python scan of all 23,552 buckets was most of a
    summary's cost, and a live frame with 20 streamed labels makes ~60 summaries
    (benchmarks/frame_labels_bench.py). Should the counts in that range not add up to the
    total, the whole array is looked at."""
    lo, hi = 0, len(counts)
    if h.min_value <= h.max_value:
        first = h._counts_index_for(h.min_value)
        last = h._counts_index_for(h.max_value) + 1
        if sum(counts[first:last]) == h.total_count:
            lo, hi = first, last
    part = counts[lo:hi]
    return list(zip(compress(range(lo, hi), part), compress(part, part), strict=True))


def _sum_us(h: HdrHistogram, counts: list[int], lo: int = 0, hi: int | None = None) -> int:
    """Every value's bucket middle times its count: ``HdrHistogram.get_mean_value``'s sum.

    HdrHistogram's counts come in runs that share a width: the first ``2 × half`` indices hold
    values ``i`` (× the unit), each later run of ``half`` holds ``(half + j) << shift``. So a
    run's sum is ``(Σ c·sub) << shift`` plus half a width per value, and ``Σ c·sub`` is one
    ``map`` in C: a few ms for a long run's histogram, where a Python loop over its thousands
    of filled buckets (or the library's own per-bucket methods) costs 5-20 ms."""
    half, unit = h.sub_bucket_half_count, h.unit_magnitude
    hi = len(counts) if hi is None else hi  # [lo, hi): the indices that can be non-empty
    total = 0
    start, end, sub, shift = 0, 2 * half, 0, unit
    while start < hi:
        a, b = max(start, lo), min(end, hi)
        run = counts[a:b] if a < b else []
        n = sum(run)
        if n:
            first = sub + (a - start)
            weighted = sum(map(mul, run, range(first, first + len(run))))
            total += (weighted << shift) + n * ((1 << shift) >> 1)
        start, end, sub, shift = end, end + half, half, shift + 1
    return total


_LEVEL = 1
"""zlib's level for an encoded histogram. The library uses the default (6): on a counts payload
of a few KB, level 1 is ~4× faster (~25 against ~110 µs) for ~5 % more bytes; any inflater
reads either (the level is not part of the format)."""
_LOCAL = threading.local()
"""Each thread's scratch buffer for the varint payload (``InProcessPool`` runs workers as
threads): one buffer a thread, grown when needed, not a new zeroed one for each encode."""


def _scratch(size: int) -> ctypes.Array[ctypes.c_byte]:
    buf: ctypes.Array[ctypes.c_byte] | None = getattr(_LOCAL, "buf", None)
    if buf is None or len(buf) < size:
        buf = _LOCAL.buf = (ctypes.c_byte * size)()
    return buf


def _encode(h: HdrHistogram, level: int = _LEVEL) -> bytes:
    """``HdrHistogram.encode``, the same format and payload: the library's C varint encoder on
    the counts up to the highest value's index, the payload header, zlib, the external header,
    base64. Two costs of the library's version are left out: it allocates (and zeroes) a new
    buffer of nine bytes per counter for every encode — ~200 KB for a histogram that reached
    seconds — and compresses at zlib's default level: 181 → 100 µs an encode of a 2,000-value
    latency histogram, 2.4 → 0.56 ms of a 20,000-value wide one, the largest part of a
    worker's snapshot (docs/performance.md, "loadtui's own work per request"). At ``level``
    6 the bytes are the library's, byte for byte (tests/unit/test_book_hotpath.py)."""
    encoder = h.encoder
    payload = encoder.payload
    limit = h.get_counts_array_index(h.max_value) + 1 if h.total_count else 0
    head = ctypes.sizeof(payload.payload)
    room = limit * (payload.word_size + 1)
    buf = _scratch(head + room)
    start = ctypes.addressof(buf)
    n = pyhdrh.encode(
        ctypes.addressof(payload.counts), limit, payload.word_size, start + head, room
    )
    payload.payload.payload_len = n
    ctypes.memmove(start, ctypes.addressof(payload.payload), head)
    compressed = zlib.compress(ctypes.string_at(start, head + n), level)
    cookie = encoder.header.cookie
    return base64.b64encode(_EXTERNAL.pack(cookie, len(compressed)) + compressed)


_EXTERNAL = struct.Struct(">II")
"""HdrHistogram's V2 compressed form: cookie and length, then a zlib-compressed payload."""
_PAYLOAD = struct.Struct(">IIIIQQd")
"""The payload's header: cookie, length, offset, significant digits, lowest, highest, ratio."""
_COMPRESSED_COOKIE_BASE = 0x1C849304
_ENCODING_COOKIE_BASE = 0x1C849303
_MAX_PAYLOAD = 1 << 22
"""Far above what our 1 µs .. 1 h, 3-digit histogram encodes to (at most ~9 bytes a bucket)."""


def check_encoded(data: bytes) -> None:
    """ValueError (one line) unless ``data`` is an encoded histogram with loadtui's own range
    and precision. Run files come from anywhere: the header is read before HdrHistogram sizes
    a counts array from it, and the payload is inflated with a cap (no zlib bomb)."""
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not base64 text") from None
    if len(raw) < _EXTERNAL.size:
        raise ValueError("too short for an HDR histogram")
    cookie, length = _EXTERNAL.unpack_from(raw)
    if cookie & ~0xF0 != _COMPRESSED_COOKIE_BASE or length != len(raw) - _EXTERNAL.size:
        raise ValueError("not an HDR histogram (bad header)")
    inflate = zlib.decompressobj()
    try:
        payload = inflate.decompress(raw[_EXTERNAL.size :], _MAX_PAYLOAD)
    except zlib.error:
        raise ValueError("not an HDR histogram (bad compressed data)") from None
    if inflate.unconsumed_tail or len(payload) < _PAYLOAD.size:
        raise ValueError("not an HDR histogram (bad payload size)")
    inner, _, offset, digits, low, high, _ = _PAYLOAD.unpack_from(payload)
    if inner & ~0xF0 != _ENCODING_COOKIE_BASE or offset != 0:
        raise ValueError("not an HDR histogram (bad payload header)")
    if (low, high, digits) != (_LOW_US, _HIGH_US, _DIGITS):
        raise ValueError(
            f"a histogram of {low}..{high} µs at {digits} digits, not loadtui's"
            f" {_LOW_US}..{_HIGH_US} at {_DIGITS}"
        )
    _check_counts(payload)


_SCRATCH: ctypes.Array[ctypes.c_uint64] | None = None
"""Counts are decoded here to be checked, then dropped: one array for every check, not a new
histogram each (a listing checks every run's histograms)."""


def _check_counts(payload: bytes) -> None:
    """The counts decode (the library's own C decoder) into our bucket count, no further."""
    global _SCRATCH
    if _SCRATCH is None:
        _SCRATCH = (ctypes.c_uint64 * Histogram()._h.counts_len)()
    try:
        pyhdrh.decode(payload, _PAYLOAD.size, ctypes.addressof(_SCRATCH), len(_SCRATCH), 8)
    except (IndexError, OverflowError, ValueError) as exc:
        raise ValueError(f"not an HDR histogram (bad counts: {exc})") from None
