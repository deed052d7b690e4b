"""The noise rules of a comparison (metrics/noise.py) and the comparison built from records
(run/compare.py): a verdict only where a difference is larger than the noise."""

from __future__ import annotations

import math
import random
from dataclasses import replace
from pathlib import Path

import pytest

from loadtui.metrics.histogram import Histogram
from loadtui.metrics.noise import (
    compare_error_rates,
    compare_percentiles,
    compare_rates,
    percentile_interval,
)
from loadtui.metrics.runhist import encode_run
from loadtui.model.record import Metrics, RunRecord
from loadtui.run.compare import compare, compare_runs
from loadtui.storage.runfile import load_record

DATA = Path(__file__).parents[1] / "data"


def _hist(values: list[float]) -> Histogram:
    h = Histogram()
    for v in values:
        h.record_ms(v)
    return h


def _lognormal(seed: int, n: int, scale: float) -> list[float]:
    rng = random.Random(seed)
    return [scale * rng.lognormvariate(0, 0.5) for _ in range(n)]


def test_a_percentiles_interval_is_read_at_the_order_statistic_ranks() -> None:
    h = _hist([float(ms) for ms in range(1, 1001)])  # 1 … 1000 ms, one sample each
    lo, hi = percentile_interval(h, 50.0) or (0, 0)
    # n·p ± 1.96·√(n·p·(1−p)) = 500 ± 31: ranks 469 and 531, i.e. those values (3 digits)
    assert lo == pytest.approx(469, abs=0.5) and hi == pytest.approx(531, abs=0.5)
    assert lo <= h.percentile(50.0) <= hi
    lo99, hi99 = percentile_interval(h, 99.0) or (0, 0)
    assert lo99 <= h.percentile(99.0) <= hi99 and hi99 == pytest.approx(997, abs=0.5)
    assert percentile_interval(Histogram(), 50.0) is None
    few = _hist([float(ms) for ms in range(1, 20)])  # 19 samples cannot bound a p99 above
    assert percentile_interval(few, 99.0) == (pytest.approx(17, abs=0.5), math.inf)


def test_a_run_compared_with_itself_is_the_same_even_without_histograms() -> None:
    a = load_record(DATA / "run-a.json")
    rows = [r for r in compare_runs(a, a) if r.lower_is_better is not None]
    assert {r.judged for r in rows} == {"same"}


def test_a_histogram_against_itself_is_the_same() -> None:
    h = _hist(_lognormal(1, 2000, 50.0))
    for pct in (50.0, 95.0, 99.0):
        noise = compare_percentiles(h, h, pct, lower_is_better=True)
        assert noise.verdict == "same" and noise.method == "percentile-ci"


def test_a_clear_shift_is_worse_and_the_reverse_better() -> None:
    fast, slow = _hist(_lognormal(2, 2000, 50.0)), _hist(_lognormal(3, 2000, 65.0))
    worse = compare_percentiles(fast, slow, 50.0, lower_is_better=True)
    assert worse.verdict == "worse" and worse.a_interval and worse.b_interval
    assert worse.a_interval[1] < worse.b_interval[0]  # the intervals are apart
    assert compare_percentiles(slow, fast, 50.0, lower_is_better=True).verdict == "better"


def test_the_same_shift_in_a_few_samples_is_within_noise() -> None:
    fast, slow = _hist(_lognormal(4, 8, 50.0)), _hist(_lognormal(5, 8, 65.0))
    noise = compare_percentiles(fast, slow, 50.0, lower_is_better=True)  # 8 samples bound p50
    # a 30 % shift the intervals cannot tell apart: neither better nor worse — and never
    # "same", which would say the figures agree
    assert noise.verdict == "within noise" and noise.note == "intervals overlap"
    tail = compare_percentiles(fast, slow, 95.0, lower_is_better=True)  # ... but not p95
    assert tail.verdict is None and "not judged" in tail.note


def test_a_tiny_change_with_many_samples_is_the_same() -> None:
    values = _lognormal(6, 100_000, 50.0)
    base, shifted = _hist(values), _hist([v * 1.015 for v in values])  # 1.5 %: intervals apart
    noise = compare_percentiles(base, shifted, 50.0, lower_is_better=True)
    assert noise.verdict == "same" and noise.note == "under 2%"


def test_error_rates_by_a_two_proportion_test() -> None:
    assert compare_error_rates(0, 1000, 50, 1000).verdict == "worse"
    assert compare_error_rates(50, 1000, 0, 1000).verdict == "better"
    assert compare_error_rates(1, 100, 2, 100).verdict == "within noise"  # z ≈ 0.58, ×2
    assert compare_error_rates(100, 1000, 101, 1000).verdict == "same"  # under 2 %
    assert compare_error_rates(0, 100, 0, 100).verdict == "same"
    not_judged = compare_error_rates(0, 0, 1, 10)
    assert not_judged.verdict is None and "no requests" in not_judged.note


def test_rates_against_their_per_second_spread() -> None:
    steady_a, steady_b = [100.0, 101.0, 99.0, 100.0, 100.0], [120.0, 119.0, 121.0, 120.0, 120.0]
    assert compare_rates(100.0, 120.0, steady_a, steady_b).verdict == "better"
    assert compare_rates(120.0, 100.0, steady_b, steady_a).verdict == "worse"
    noisy_a, noisy_b = [40.0, 160.0, 20.0, 180.0, 100.0], [60.0, 170.0, 30.0, 200.0, 140.0]
    assert compare_rates(100.0, 120.0, noisy_a, noisy_b).verdict == "within noise"
    assert compare_rates(100.0, 101.0, noisy_a, noisy_a).verdict == "same"  # under 2 %
    short = compare_rates(100.0, 120.0, [100.0, 100.0], steady_b)
    assert short.verdict is None and "noise not judged" in short.note


def _with_histograms(run: RunRecord, scale: float, seed: int) -> RunRecord:
    """``run`` with a latency and TTFT histogram, its summary's figures read from them (as a
    real run's are), and no ITL or TPOT samples."""
    h = _hist(_lognormal(seed, 3000, scale))
    metrics = Metrics(latency_ms=h.summary(), ttft_ms=h.summary())
    return replace(
        run,
        summary=replace(run.summary, metrics=metrics),
        histograms=encode_run({"latency_ms": h, "ttft_ms": h}, {}),
    )


def test_old_files_without_histograms_leave_percentiles_not_judged() -> None:
    a, b = load_record(DATA / "run-a.json"), load_record(DATA / "run-b.json")
    rows = {r.label: r for r in compare_runs(a, b)}
    assert rows["TTFT p95"].noise.verdict is None
    assert rows["TTFT p95"].noise.note == "no histograms: noise not judged"
    assert rows["TTFT p95"].verdict in ("better", "worse")  # the raw direction is still there
    assert rows["error rate"].judged == "same"  # both 0: no difference
    failing = replace(
        b, summary=replace(b.summary, errors_total=b.summary.requests // 2, error_rate=0.5)
    )
    errors = {r.label: r for r in compare_runs(a, failing)}["error rate"]
    assert errors.noise.method == "two-proportion" and errors.judged == "worse"  # counts only
    assert rows["requests"].judged == ""  # a count is neither better nor worse


def test_records_with_histograms_are_judged_by_them() -> None:
    base = load_record(DATA / "run-a.json")
    a, b = _with_histograms(base, 50.0, 7), _with_histograms(base, 80.0, 8)
    rows = {r.label: r for r in compare_runs(a, b)}
    assert rows["latency p50"].noise.method == "percentile-ci"
    assert rows["latency p50"].judged == "worse"
    same = {r.label: r for r in compare_runs(a, a)}
    assert {same[f"TTFT {p}"].judged for p in ("p50", "p95", "p99")} == {"same"}
    assert same["ITL p50"].a is None and same["ITL p50"].noise.verdict is None  # no samples
    assert same["ITL p50"].noise.note == "no samples in both runs"


def test_the_configuration_side_by_side_and_what_makes_runs_unlike() -> None:
    a = load_record(DATA / "run-a.json")
    load = a.config.load.model_copy(update={"mode": "closed", "stages": (), "users": 7})
    b = replace(a, id="b", config=a.config.model_copy(update={"load": load}))
    c = compare([a, b, a])
    rows = {row.label: row for row in c.config}
    assert rows["load"].values[1] == "7 users" and rows["load"].differs
    assert not rows["model"].differs and not rows["streaming"].differs
    assert "load" in c.unlike and "model" not in c.unlike
    assert c.warning is not None and c.warning.startswith("runs are not alike: different ")
    assert [rc.run for rc in c.against_baseline] == ["b", a.id]  # each against the first
    alike = compare([a, a])
    assert alike.unlike == () and alike.warning is None
    with pytest.raises(ValueError):
        compare([a])


def test_an_open_interval_that_meets_the_other_is_not_judged_same() -> None:
    """Four samples cannot bound p50 from below: a 57x change is then 'not judged', never
    'same' (seen by a new user comparing a 12-request run with a 4-request one)."""
    few, many = Histogram(), Histogram()
    for ms in (200.0, 201.0, 203.0, 205.0):
        few.record_ms(ms)
    for i in range(12):
        many.record_ms(3.0 + i * 0.1)
    noise = compare_percentiles(many, few, 50.0, lower_is_better=True)
    assert noise.verdict is None
    assert "not judged" in noise.note
    assert noise.b_interval is not None and noise.b_interval[0] == 0.0  # the open side
