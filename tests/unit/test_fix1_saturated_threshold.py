"""``capacity>=N`` on a search that ends ``generator_saturated`` (review item 3).

The message names a lower bound (``capacity ≥ Y``); docs/capacity.md's CI table says the
threshold fails whatever N. The message and the threshold's reason say so too, so a red CI run
does not read as if Y had passed.
"""

from __future__ import annotations

from loadtui.model.record import ThresholdResult
from loadtui.model.search import SearchSpec
from loadtui.model.thresholds import judge_capacity
from loadtui.run.searchrules import Judged, conclude


def test_a_saturated_search_fails_capacity_thresholds_even_below_its_lower_bound() -> None:
    steps = [Judged(32, "pass"), Judged(64, "pass"), Judged(128, "saturated", attainment=0.6)]
    done = conclude(steps, SearchSpec(), final=True)
    assert done is not None and done.outcome == "generator_saturated" and done.capacity is None
    pending = (ThresholdResult("capacity", "value>=50", None, passed=True),)
    (result,) = judge_capacity(pending, done.capacity, done.message)
    assert not result.passed and result.actual is None  # 64 ≥ 50, and still no capacity
    assert result.reason is not None
    assert "capacity ≥ 64, not a capacity: capacity thresholds fail" in result.reason
