"""Per-label ITL and TPOT thresholds (``itl{label:x}``, ``tpot{label:x}``): judged on the
label's own figures, not judged on a label that never streams, failed with the reason when a
streamed label had no sample — as TTFT's are."""

from __future__ import annotations

import pytest

from loadtui.model.record import LabelSummary, Metrics, MetricSummary, RunSummary
from loadtui.model.thresholds import evaluate


def _ms(count: int, p95: float) -> MetricSummary:
    return MetricSummary(count=count, mean=p95, min=p95, max=p95, p50=p95, p95=p95, p99=p95)


LABELS = {"chat": False, "long": True, "short": True}
SUMMARY = RunSummary(
    requests=12,
    ok=10,
    errors_total=2,
    metrics=Metrics(itl_ms=_ms(60, 20.0), tpot_ms=_ms(8, 20.0)),
    by_label={
        "chat": LabelSummary(4, 0, _ms(4, 50.0)),
        "long": LabelSummary(4, 0, _ms(4, 90.0), _ms(4, 50.0), _ms(56, 12.0), _ms(4, 11.0)),
        "short": LabelSummary(4, 2, _ms(2, 60.0), _ms(2, 50.0), _ms(4, 30.0), _ms(2, 25.0)),
    },
)


@pytest.mark.parametrize(
    ("metric", "expr", "actual", "passed"),
    [
        ("itl{label:long}", "p(95)<20", 12.0, True),
        ("itl{label:short}", "p(95)<20", 30.0, False),
        ("tpot{label:long}", "avg<=11", 11.0, True),
        ("tpot{label:short}", "p(95)<20", 25.0, False),
    ],
)
def test_a_labels_itl_and_tpot_are_judged_on_its_figures(
    metric: str, expr: str, actual: float, passed: bool
) -> None:
    (r,) = evaluate({metric: [expr]}, SUMMARY, labels=LABELS)
    assert (r.actual, r.passed, r.skipped) == (actual, passed, False)


@pytest.mark.parametrize("metric", ["itl", "tpot"])
def test_on_a_label_that_never_streams_they_are_not_judged(metric: str) -> None:
    (r,) = evaluate({f"{metric}{{label:chat}}": ["p(95)<5"]}, SUMMARY, labels=LABELS)
    assert r.skipped and r.passed
    assert r.reason == "not judged: requests labelled chat are not streamed"


def test_a_streamed_label_without_samples_fails_saying_why() -> None:
    failed = RunSummary(requests=3, by_label={"long": LabelSummary(3, 3), "chat": LabelSummary(1)})
    (r,) = evaluate({"itl{label:long}": ["p(95)<5"]}, failed, labels=LABELS)
    assert not r.passed and r.actual is None
    assert r.reason == "no ITL samples with label long: all 3 requests failed"


def test_a_one_label_run_judges_its_label_on_the_totals() -> None:
    (r,) = evaluate(
        {"tpot{label:long}": ["p(95)<30"]},
        RunSummary(requests=8, metrics=SUMMARY.metrics),
        labels={"long": True},
    )
    assert r.passed and r.actual == 20.0
