"""The 2 % floor comes first in every noise rule (review of issue 11/13, items 1 and 4).

On large samples a two-proportion z-test calls a 1 % relative change in the error rate (or in
SLO attainment, judged the same way) significant; docs/metrics.md says every rule needs a change
of 2 % or more. A ``same`` verdict's note says "under 2%", never "within noise", which is a
verdict name of its own.
"""

from __future__ import annotations

from loadtui.metrics.histogram import Histogram
from loadtui.metrics.noise import compare_error_rates, compare_percentiles, compare_rates


def test_error_rate_under_two_percent_is_same_on_a_million_requests() -> None:
    noise = compare_error_rates(100_000, 1_000_000, 101_000, 1_000_000)  # 10.0 % vs 10.1 %
    assert noise.verdict == "same"
    assert noise.note.startswith("under 2%") and "z = +2." in noise.note  # |z| > 1.96 all the same
    assert compare_error_rates(101_000, 1_000_000, 100_000, 1_000_000).verdict == "same"
    # 2 % or more and beyond the noise is still called
    assert compare_error_rates(100_000, 1_000_000, 103_000, 1_000_000).verdict == "worse"
    assert compare_error_rates(103_000, 1_000_000, 100_000, 1_000_000).verdict == "better"


def test_same_notes_say_under_two_percent() -> None:
    a, b = Histogram(), Histogram()
    for i in range(200):
        a.record_ms(100.0 + i % 7)
        b.record_ms(100.5 + i % 7)
    pct = compare_percentiles(a, b, 50, True)
    assert pct.verdict == "same" and pct.note == "under 2% (intervals overlap)"
    noisy_a, noisy_b = [90.0, 110.0, 95.0, 105.0], [91.0, 111.0, 96.0, 106.0]
    rate = compare_rates(100.0, 101.0, noisy_a, noisy_b)
    assert rate.verdict == "same" and rate.note.startswith("under 2%")
    assert "within noise" not in pct.note + rate.note
