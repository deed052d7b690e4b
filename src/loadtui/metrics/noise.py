"""Is a difference between two runs larger than the noise? The rules ``loadtui compare`` and
the app's compare screen apply (docs/metrics.md, "Comparing runs", quotes them).

- A percentile: its distribution-free 95 % confidence interval from order statistics — the
  samples at ranks n·p ± z·√(n·p·(1−p)), read from the run's exact histogram. Two runs differ
  only when their intervals do not overlap.
- An error rate: a two-proportion z-test on the error and request counts.
- A rate (req/s, tokens/s): its per-second values' standard error (Welch), from the series.

Each also needs a change of at least ``MIN_CHANGE``: a load test's samples are not independent
(one slow second slows many requests), so intervals computed as if they were are too narrow,
and a change smaller than this is not one to act on ("same"). A larger change that the noise
could explain is "within noise": never "same", which would say the figures agree.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from loadtui.metrics.histogram import Histogram
from loadtui.model.comparison import Judgement, Noise

__all__ = [
    "MIN_CHANGE",
    "MIN_SECONDS",
    "Z",
    "compare_error_rates",
    "compare_percentiles",
    "compare_rates",
    "percentile_interval",
    "rate_interval",
]

Z = 1.96
"""Two-sided 95 %."""
MIN_CHANGE = 0.02
"""The smallest relative change judged better or worse (2 %)."""
MIN_SECONDS = 3
"""Per-second values needed to judge a rate's noise."""


def percentile_interval(h: Histogram, pct: float, z: float = Z) -> tuple[float, float] | None:
    """The ``pct`` percentile's confidence interval (ms), distribution-free: the samples at
    ranks ⌊n·p − z·√(n·p·(1−p))⌋ and ⌈n·p + z·√(n·p·(1−p))⌉. A rank past the samples leaves
    that side unbounded (0 or ``math.inf``): 19 samples cannot bound a p99 from above — only
    about 380 can. None without samples."""
    n = h.count
    if not n:
        return None
    p = pct / 100.0
    spread = z * math.sqrt(n * p * (1.0 - p))
    lo, hi = math.floor(n * p - spread), math.ceil(n * p + spread)
    low, high = h.values_at_ranks([max(lo, 1), min(hi, n)])
    return (low if lo >= 1 else 0.0), (high if hi <= n else math.inf)


def _open(interval: tuple[float, float], h: Histogram, pct: float, z: float = Z) -> bool:
    """A side of ``interval`` is unbounded: a rank past the samples (``percentile_interval``)."""
    n, p = h.count, pct / 100.0
    spread = z * math.sqrt(n * p * (1.0 - p))
    return math.floor(n * p - spread) < 1 or interval[1] == math.inf


def _direction(a: float, b: float, lower_is_better: bool) -> Judgement:
    return "better" if (b < a) == lower_is_better else "worse"


def _unclear() -> Judgement:
    """A change of ``MIN_CHANGE`` or more that the noise could explain: neither better nor
    worse, and not "same" either — a 30 % drop in req/s between two noisy runs is not the
    same figure, it is one this comparison cannot call."""
    return "within noise"


def _small(a: float, b: float) -> bool:
    """The change is under ``MIN_CHANGE`` of the baseline (any change from 0 is not)."""
    if a == b:
        return True
    return a != 0 and abs(b - a) / abs(a) < MIN_CHANGE


def compare_percentiles(a: Histogram, b: Histogram, pct: float, lower_is_better: bool) -> Noise:
    """Judge ``pct`` of two runs' histograms: better/worse when the intervals are apart."""
    ia, ib = percentile_interval(a, pct), percentile_interval(b, pct)
    if ia is None or ib is None:
        return Noise(note="no samples in " + ("both runs" if ia is ib else "one run"))
    va, vb = a.percentile(pct), b.percentile(pct)
    apart = ia[1] < ib[0] or ib[1] < ia[0]
    if not apart and not _small(va, vb) and (_open(ia, a, pct) or _open(ib, b, pct)):
        # the intervals meet only because one is open: 4 samples say nothing about p50's
        # noise, so a 50x change is not called "same"
        return Noise(None, "", "too few samples to bound it: not judged", ia, ib)
    if _small(va, vb):
        verdict: Judgement = "same"
        note = f"under {MIN_CHANGE:.0%}" + ("" if apart else " (intervals overlap)")
    elif not apart:
        verdict, note = _unclear(), "intervals overlap"
    else:
        verdict, note = _direction(va, vb, lower_is_better), "95% intervals apart"
    return Noise(verdict, "percentile-ci", note, ia, ib)


def compare_error_rates(errors_a: int, requests_a: int, errors_b: int, requests_b: int) -> Noise:
    """Two-proportion z-test (pooled): worse/better when the rates differ by ``MIN_CHANGE`` or
    more and |z| > ``Z``."""
    if not requests_a or not requests_b:
        return Noise(
            note="no requests in " + ("both runs" if requests_a == requests_b else "one run")
        )
    pa, pb = errors_a / requests_a, errors_b / requests_b
    pooled = (errors_a + errors_b) / (requests_a + requests_b)
    se = math.sqrt(pooled * (1.0 - pooled) * (1.0 / requests_a + 1.0 / requests_b))
    if se == 0.0:  # no errors at all, or nothing but errors, in both
        return Noise("same", "two-proportion", "z = 0")
    z = (pb - pa) / se
    # the 2 % floor first, as for percentiles and rates: on a million requests 10.0 % vs
    # 10.1 % is beyond 1.96 but not a change to act on
    if _small(pa, pb):
        return Noise("same", "two-proportion", f"under {MIN_CHANGE:.0%} (z = {z:+.2f})")
    if abs(z) <= Z:
        return Noise(_unclear(), "two-proportion", f"z = {z:+.2f}")
    return Noise(_direction(pa, pb, True), "two-proportion", f"z = {z:+.2f}")


def rate_interval(value: float, per_second: Sequence[float], z: float = Z) -> tuple[float, float]:
    """``value`` ± z standard errors of the per-second values."""
    se = _stderr(per_second)
    return value - z * se, value + z * se


def _stderr(values: Sequence[float]) -> float:
    k = len(values)
    mean = sum(values) / k
    var = sum((v - mean) ** 2 for v in values) / (k - 1)
    return math.sqrt(var / k)


def compare_rates(
    a: float, b: float, per_second_a: Sequence[float], per_second_b: Sequence[float]
) -> Noise:
    """Judge a rate (higher is better) against its per-second spread (Welch)."""
    if min(len(per_second_a), len(per_second_b)) < MIN_SECONDS:
        return Noise(note=f"under {MIN_SECONDS} s of per-second series: noise not judged")
    se = math.hypot(_stderr(per_second_a), _stderr(per_second_b))
    ia, ib = rate_interval(a, per_second_a), rate_interval(b, per_second_b)
    if _small(a, b):
        within = abs(b - a) <= Z * se
        note = f"under {MIN_CHANGE:.0%}" + (" (within 1.96 standard errors)" if within else "")
        return Noise("same", "per-second", note, ia, ib)
    if abs(b - a) <= Z * se:
        return Noise(_unclear(), "per-second", "within 1.96 standard errors", ia, ib)
    return Noise(_direction(a, b, False), "per-second", "beyond 1.96 standard errors", ia, ib)
