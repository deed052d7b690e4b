"""k6-style thresholds: ``p(95)<500`` on a latency metric, ``rate<0.01`` on a rate.

Parsing and evaluation are pure functions over a run summary, so a threshold reads the same
numbers the summary prints.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from loadtui.model.record import MetricSummary, Percentiles, RunSummary, ThresholdResult

__all__ = ["METRICS", "Threshold", "evaluate", "parse_threshold"]

# threshold metric name -> (summary section, key in that section); ms metrics use percentiles
METRICS: dict[str, str] = {
    "latency": "latency_ms",
    "latency_actual": "latency_actual_ms",
    "ttft": "ttft_ms",
    "itl": "itl_ms",
    "tpot": "tpot_ms",
    "error_rate": "error_rate",
    "success_rate": "success_rate",
    "checks": "checks",
    "overhead_latency": "latency_ms",
    "overhead_ttft": "ttft_ms",
    "batch_job": "batch job",
    "batch_completion": "batch completion",
}
"""overhead_*: proxied − direct (p50/p95/p99 only); batch_*: the ``by_label`` entries of a
Batch API run; checks: the share of checks that passed."""
_RATES = {"error_rate", "success_rate", "checks"}
_OVERHEAD = {"overhead_latency", "overhead_ttft"}
_LABELS = {"batch_job", "batch_completion"}
_STREAMING = {"ttft": "TTFT", "itl": "ITL", "tpot": "TPOT", "overhead_ttft": "TTFT"}
"""Metrics that only streamed answers have: with no stream in a run they cannot be judged."""
_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
}
_EXPR = re.compile(
    r"^\s*(p\((\d+(?:\.\d+)?)\)|avg|min|max|med|rate)\s*(<=|>=|==|<|>)\s*(-?\d+(?:\.\d+)?)\s*$"
)


@dataclass(frozen=True, slots=True)
class Threshold:
    metric: str
    expression: str
    aggregate: str  # "p95", "mean", "min", "max", "p50", "rate"
    op: str
    limit: float


def parse_threshold(metric: str, expression: str) -> Threshold:
    """Parse one threshold; ValueError names what is wrong."""
    if metric not in METRICS:
        raise ValueError(
            f"unknown threshold metric {metric!r}; expected one of {', '.join(METRICS)}"
        )
    m = _EXPR.match(expression)
    if not m:
        raise ValueError(
            f"threshold {metric}: {expression!r} is not k6 syntax like 'p(95)<500' or 'rate<0.01'"
        )
    agg, pct, op, limit = m.group(1), m.group(2), m.group(3), float(m.group(4))
    if metric in _RATES:
        if agg != "rate":
            raise ValueError(f"threshold {metric}: use 'rate<x', got {expression!r}")
        aggregate = "rate"
    else:
        if agg == "rate":
            raise ValueError(
                f"threshold {metric}: 'rate' applies to error_rate, success_rate and checks only"
            )
        if pct is not None:
            p = float(pct)
            if not 0 < p <= 100:
                raise ValueError(f"threshold {metric}: percentile must be in (0, 100], got {pct}")
            aggregate = "p" + (pct.rstrip("0").rstrip(".") if "." in pct else pct)
            aggregate = {"p99.9": "p999"}.get(aggregate, aggregate)
        else:
            aggregate = {"avg": "mean", "med": "p50"}.get(agg, agg)
    if metric in _OVERHEAD and aggregate not in ("p50", "p95", "p99"):
        raise ValueError(f"threshold {metric}: use p(50), p(95) or p(99), got {expression!r}")
    return Threshold(metric, expression.strip(), aggregate, op, limit)


def evaluate(
    thresholds: Mapping[str, Sequence[str]],
    summary: RunSummary,
    streamed: bool = True,
) -> tuple[ThresholdResult, ...]:
    """Evaluate each threshold against a run summary; one result per threshold.

    A threshold over a metric that saw no samples fails (nothing was proven) and says why in
    ``reason`` — except a streaming metric (TTFT, ITL, TPOT) in a run that sends no streamed
    request (``streamed`` False): that one is not judged (``skipped``, counted as passed).
    """
    results = []
    for metric, exprs in thresholds.items():
        for expr in exprs:
            t = parse_threshold(metric, expr)
            actual = _actual(t, summary)
            if actual is None:
                results.append(_no_samples(t, streamed))
            else:
                passed = bool(_OPS[t.op](actual, t.limit))
                results.append(ThresholdResult(metric, t.expression, actual, passed))
    return tuple(results)


def _no_samples(t: Threshold, streamed: bool) -> ThresholdResult:
    """A threshold that had nothing to judge: failed with a ``reason``, or ``skipped``."""
    if t.metric in _STREAMING:
        name = _STREAMING[t.metric]
        if not streamed:
            return ThresholdResult(
                t.metric,
                t.expression,
                None,
                passed=True,
                skipped=True,
                reason=f"not judged: this run sends no streams ({name} exists only for streams)",
            )
        reason = f"no samples ({name} exists only for streams)"
    elif t.aggregate == "rate":
        reason = "no requests finished" if t.metric != "checks" else "no checks ran"
    else:
        reason = "no samples"
    return ThresholdResult(t.metric, t.expression, None, passed=False, reason=reason)


def _actual(t: Threshold, summary: RunSummary) -> float | None:
    if t.metric == "checks":
        passed = sum(c.passed for c in summary.checks.values())
        failed = sum(c.failed for c in summary.checks.values())
        return passed / (passed + failed) if passed + failed else None
    if t.metric in _OVERHEAD:
        over = summary.overhead
        pcts = None if over is None else getattr(over, METRICS[t.metric])
        return _percentile(pcts, t.aggregate)
    if t.metric in _LABELS:
        label = summary.by_label.get(METRICS[t.metric])
        return None if label is None else _aggregate(label.latency_ms, t.aggregate)
    if t.aggregate == "rate":
        requests = summary.requests
        if not requests:
            return None
        rate = summary.errors_total / requests
        return rate if t.metric == "error_rate" else 1.0 - rate
    return _aggregate(summary.metrics.get(METRICS[t.metric]), t.aggregate)


def _percentile(pcts: Percentiles | None, aggregate: str) -> float | None:
    """An overhead percentile (p50, p95 or p99: ``parse_threshold`` allows no other)."""
    if pcts is None:
        return None
    value: float | None = getattr(pcts, aggregate)
    return value


def _aggregate(section: MetricSummary, aggregate: str) -> float | None:
    """``mean``, ``min``, ``max`` or a percentile of a metric; None without samples, or for a
    percentile the summary does not keep (``p(75)``)."""
    if not section.count or aggregate not in MetricSummary.__dataclass_fields__:
        return None
    value: float = getattr(section, aggregate)
    return value
