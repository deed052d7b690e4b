"""k6-style thresholds: ``p(95)<500`` on a latency metric, ``rate<0.01`` on a rate.

Parsing and evaluation are pure functions over a run summary, so a threshold reads the same
numbers the summary prints. A metric may name one request label, k6's tag filter
(``ttft{label:proxied}``), and is then judged on ``summary.by_label``; ``--threshold`` on the
command line is ``METRIC EXPRESSION`` in the same grammar (``parse_cli_threshold``). A threshold
with nothing to judge fails (nothing was proven) and its ``reason`` says why.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from loadtui.model.plan import RunConfig, ThresholdSpec
from loadtui.model.record import (
    LabelSummary,
    MetricSummary,
    Percentiles,
    RunSummary,
    ThresholdResult,
)

__all__ = [
    "LABELLED",
    "METRICS",
    "Abort",
    "Threshold",
    "evaluate",
    "judge",
    "judge_all",
    "mark_aborted",
    "parse_cli_threshold",
    "parse_threshold",
    "parsed",
    "run_labels",
]

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
LABELLED = ("latency", "ttft", "error_rate", "success_rate")
"""Metrics a label filter applies to: what ``LabelSummary`` keeps."""
_RATES = {"error_rate", "success_rate", "checks"}
_OVERHEAD = {"overhead_latency", "overhead_ttft"}
_LABELS = {"batch_job", "batch_completion"}
_STREAMING = {"ttft": "TTFT", "itl": "ITL", "tpot": "TPOT", "overhead_ttft": "TTFT"}
"""Metrics that only streamed answers have: with no stream in a run they cannot be judged."""
_KEPT = ("p50", "p90", "p95", "p99", "p999")
"""The percentiles a summary keeps (``MetricSummary``): the only ones a threshold can name."""
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
_KEY = re.compile(r"^\s*([A-Za-z_]\w*)\s*(?:\{(.*)\})?\s*$", re.DOTALL)
_CLI = re.compile(r"^\s*([A-Za-z_]\w*\s*(?:\{[^{}]*\})?)(?:\s+|(?<=\}))(\S.*?)\s*$", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Threshold:
    metric: str
    """As written: ``ttft`` or ``ttft{label:proxied}`` (what results and tables show)."""
    expression: str
    aggregate: str  # "p95", "mean", "min", "max", "p50", "rate"
    op: str
    limit: float
    name: str = ""
    """The metric without its label filter (a key of ``METRICS``)."""
    label: str | None = None
    abort_on_fail: bool = False
    delay_abort_eval: float = 0.0


@dataclass(frozen=True, slots=True)
class Abort:
    """An ``abort_on_fail`` threshold that failed on the live figures, stopping the run."""

    metric: str
    expression: str
    actual: float
    at_s: float
    """Seconds into the run when it was seen failing."""

    @property
    def reason(self) -> str:
        return f"abort_on_fail: failed at {self.at_s:g}s ({self.actual:.4g}), which stopped the run"


def _split_metric(metric: str) -> tuple[str, str | None]:
    """``ttft{label:proxied}`` → (``ttft``, ``proxied``); ValueError naming what is wrong."""
    m = _KEY.match(metric)
    if not m or m.group(1) not in METRICS:
        name = m.group(1) if m else metric
        raise ValueError(
            f"unknown threshold metric {name!r}; expected one of {', '.join(METRICS)}"
            " (optionally filtered by label: ttft{label:NAME})"
        )
    name, tags = m.group(1), m.group(2)
    if tags is None:
        return name, None
    tag, colon, value = tags.partition(":")
    if tag.strip() != "label" or not colon or not value.strip():
        raise ValueError(
            f"threshold {metric}: the filter must be {{label:NAME}} (the only tag loadtui "
            f"keeps), got {{{tags}}}"
        )
    if name not in LABELLED:
        raise ValueError(
            f"threshold {metric}: a label filter applies to {', '.join(LABELLED)} only"
        )
    return name, value.strip()


def parse_threshold(metric: str, expression: str) -> Threshold:
    """Parse one threshold; ValueError names what is wrong."""
    name, label = _split_metric(metric)
    m = _EXPR.match(expression)
    if not m:
        raise ValueError(
            f"threshold {metric}: {expression!r} is not k6 syntax like 'p(95)<500' or 'rate<0.01'"
        )
    aggregate = _aggregate_name(metric, name, expression, m.group(1), m.group(2))
    op, limit = m.group(3), float(m.group(4))
    return Threshold(metric.strip(), expression.strip(), aggregate, op, limit, name, label)


def _aggregate_name(metric: str, name: str, expression: str, agg: str, pct: str | None) -> str:
    """The summary field an expression reads (``p95``, ``mean``, ``rate``...)."""
    if name in _RATES:
        if agg != "rate":
            raise ValueError(f"threshold {metric}: use 'rate<x', got {expression!r}")
        return "rate"
    if agg == "rate":
        raise ValueError(
            f"threshold {metric}: 'rate' applies to error_rate, success_rate and checks only"
        )
    if pct is None:
        return {"avg": "mean", "med": "p50"}.get(agg, agg)
    if not 0 < float(pct) <= 100:
        raise ValueError(f"threshold {metric}: percentile must be in (0, 100], got {pct}")
    aggregate = "p" + (pct.rstrip("0").rstrip(".") if "." in pct else pct)
    aggregate = {"p99.9": "p999", "p100": "max"}.get(aggregate, aggregate)
    if aggregate not in (*_KEPT, "max"):
        raise ValueError(
            f"threshold {metric}: p({pct}) is not kept; use p(50), p(90), p(95), p(99), "
            "p(99.9), or avg, min, max, med"
        )
    if name in _OVERHEAD and aggregate not in ("p50", "p95", "p99"):
        raise ValueError(f"threshold {metric}: use p(50), p(95) or p(99), got {expression!r}")
    return aggregate


def parse_cli_threshold(text: str) -> tuple[str, str]:
    """``--threshold 'ttft{label:proxied} p(99)<10'`` → (metric, expression), both checked;
    ValueError naming what is wrong."""
    m = _CLI.match(text)
    if not m:
        raise ValueError(
            "expected METRIC EXPRESSION, e.g. 'ttft p(95)<500' or 'latency{label:chat} p(99)<800'"
        )
    metric, expression = m.group(1).strip(), m.group(2)
    parse_threshold(metric, expression)
    return metric, expression


def parsed(thresholds: Mapping[str, Sequence[ThresholdSpec | str]]) -> list[Threshold]:
    """Every threshold of a config (or a plain ``{metric: [expr]}``), parsed, in order."""
    out = []
    for metric, specs in thresholds.items():
        for spec in specs:
            if isinstance(spec, str):
                out.append(parse_threshold(metric, spec))
                continue
            t = parse_threshold(metric, spec.threshold)
            out.append(
                replace(t, abort_on_fail=spec.abort_on_fail, delay_abort_eval=spec.delay_abort_eval)
            )
    return out


def run_labels(config: RunConfig) -> dict[str, bool]:
    """The request labels a run of ``config`` books, each with whether its answers stream (as
    ``engine/mix.py`` labels requests: the request's name or kind; ``direct``/``proxied`` in
    overhead mode; a Batch job's two steps)."""
    streamed = any(r.streamed for r in config.requests)
    if config.overhead.enabled:
        return {"direct": streamed, "proxied": streamed}
    labels: dict[str, bool] = {}
    for r in config.requests:
        if r.kind == "batch":
            labels.update({"batch job": False, "batch completion": False})
        else:
            labels[r.label] = labels.get(r.label, False) or r.streamed
    return labels


def judge(config: RunConfig, summary: RunSummary) -> tuple[ThresholdResult, ...]:
    """Every threshold of ``config`` judged on ``summary`` (a live frame's or the saved run's)."""
    return judge_all(
        parsed(config.thresholds),
        summary,
        streamed=any(r.streamed for r in config.requests),
        labels=run_labels(config),
    )


def evaluate(
    thresholds: Mapping[str, Sequence[ThresholdSpec | str]],
    summary: RunSummary,
    streamed: bool = True,
    labels: Mapping[str, bool] | None = None,
) -> tuple[ThresholdResult, ...]:
    """Evaluate each threshold against a run summary; one result per threshold.

    A threshold over a metric that saw no samples fails (nothing was proven) and says why in
    ``reason`` — except a streaming metric (TTFT, ITL, TPOT) in a run that sends no streamed
    request (``streamed`` False): that one is not judged (``skipped``, counted as passed).
    ``labels``: the run's labels (``run_labels``), for label filters.
    """
    return judge_all(parsed(thresholds), summary, streamed, labels)


def judge_all(
    thresholds: Iterable[Threshold],
    summary: RunSummary,
    streamed: bool = True,
    labels: Mapping[str, bool] | None = None,
) -> tuple[ThresholdResult, ...]:
    """Parsed thresholds judged on a summary (``evaluate``'s arguments)."""
    results = []
    for t in thresholds:
        if t.label is not None:
            results.append(_judge_label(t, summary, streamed, labels or {}))
            continue
        actual = _actual(t, summary)
        if actual is None:
            results.append(_no_samples(t, summary, streamed))
        else:
            results.append(_result(t, actual))
    return tuple(results)


def mark_aborted(
    results: tuple[ThresholdResult, ...], abort: Abort | None
) -> tuple[ThresholdResult, ...]:
    """The results with the threshold that stopped the run marked: failed, ``aborted``, and
    ``reason`` saying when (the final figures may differ from those it failed on)."""
    if abort is None:
        return results
    out, marked = [], False
    for r in results:
        if not marked and (r.metric, r.expression) == (abort.metric, abort.expression):
            r = replace(r, passed=False, aborted=True, reason=abort.reason)
            marked = True
        out.append(r)
    return tuple(out)


def _result(t: Threshold, actual: float) -> ThresholdResult:
    return ThresholdResult(t.metric, t.expression, actual, bool(_OPS[t.op](actual, t.limit)))


def _failed(t: Threshold, reason: str) -> ThresholdResult:
    return ThresholdResult(t.metric, t.expression, None, passed=False, reason=reason)


def _not_judged(t: Threshold, why: str) -> ThresholdResult:
    return ThresholdResult(
        t.metric, t.expression, None, passed=True, skipped=True, reason=f"not judged: {why}"
    )


def _no_samples(t: Threshold, summary: RunSummary, streamed: bool) -> ThresholdResult:
    """A threshold that had nothing to judge: failed with a ``reason``, or ``skipped``."""
    stream_name = _STREAMING.get(t.name)
    if stream_name and not streamed:
        return _not_judged(t, f"this run sends no streams ({stream_name} exists only for streams)")
    if t.name == "checks":
        why = "no request completed" if not summary.requests else "no request here has checks"
        return _failed(t, f"no checks ran: {why}")
    if t.name in _OVERHEAD:
        return _failed(t, _no_overhead(t, summary))
    if t.name == "batch_job":
        return _failed(t, "no Batch job finished")
    if t.name == "batch_completion":
        return _failed(t, "no Batch job reached a final status")
    if not summary.requests:
        return _failed(t, "no requests completed")
    if stream_name:
        return _failed(t, _no_stream_samples(stream_name, summary.requests, summary.ok))
    return _failed(t, f"no {t.name} samples")


def _no_stream_samples(name: str, requests: int, ok: int, where: str = "") -> str:
    """Why a streaming metric has no sample although requests completed."""
    if not ok:
        return f"no {name} samples{where}: all {requests} requests failed"
    if name == "TTFT":
        return f"no TTFT samples{where}: no request streamed a first token"
    return f"no {name} samples{where}: no streamed answer had two or more tokens"


def _no_overhead(t: Threshold, summary: RunSummary) -> str:
    over = summary.overhead
    if over is None:
        return "no proxy overhead: this is not an overhead run"
    if not over.pairs:
        return "no direct/proxied pairs completed"
    return "no TTFT pairs: no pair streamed a first token both ways"


def _label_view(label: str, summary: RunSummary, labels: Mapping[str, bool]) -> LabelSummary | None:
    """The label's figures; a run of one label keeps no ``by_label`` (it would repeat the
    totals), so that label is judged on the totals."""
    found = summary.by_label.get(label)
    if found is not None or summary.by_label or list(labels) != [label] or not summary.requests:
        return found
    m = summary.metrics
    return LabelSummary(summary.requests, summary.errors_total, m.latency_ms, m.ttft_ms)


def _judge_label(
    t: Threshold, summary: RunSummary, streamed: bool, labels: Mapping[str, bool]
) -> ThresholdResult:
    """A threshold filtered by label, judged on that label's figures."""
    label = t.label or ""
    view = _label_view(label, summary, labels)
    if view is None:
        known = sorted(set(labels) | set(summary.by_label))
        also = f" (this run's labels: {', '.join(known)})" if known and label not in known else ""
        return _failed(t, f"no requests with label {label}{also}")
    if t.aggregate == "rate":
        if not view.requests:
            return _failed(t, f"no requests with label {label} completed")
        rate = view.errors / view.requests
        return _result(t, rate if t.name == "error_rate" else 1.0 - rate)
    section = view.ttft_ms if t.name == "ttft" else view.latency_ms
    actual = _aggregate(section, t.aggregate)
    if actual is not None:
        return _result(t, actual)
    if t.name == "ttft" and not labels.get(label, streamed):
        return _not_judged(t, f"requests labelled {label} are not streamed")
    where = f" with label {label}"
    if t.name == "ttft":
        return _failed(
            t, _no_stream_samples("TTFT", view.requests, view.requests - view.errors, where)
        )
    return _failed(t, f"no {t.name} samples{where}")


def _actual(t: Threshold, summary: RunSummary) -> float | None:
    if t.name == "checks":
        passed = sum(c.passed for c in summary.checks.values())
        failed = sum(c.failed for c in summary.checks.values())
        return passed / (passed + failed) if passed + failed else None
    if t.name in _OVERHEAD:
        over = summary.overhead
        pcts = None if over is None else getattr(over, METRICS[t.name])
        return _percentile(pcts, t.aggregate)
    if t.name in _LABELS:
        label = summary.by_label.get(METRICS[t.name])
        return None if label is None else _aggregate(label.latency_ms, t.aggregate)
    if t.aggregate == "rate":
        requests = summary.requests
        if not requests:
            return None
        rate = summary.errors_total / requests
        return rate if t.name == "error_rate" else 1.0 - rate
    return _aggregate(summary.metrics.get(METRICS[t.name]), t.aggregate)


def _percentile(pcts: Percentiles | None, aggregate: str) -> float | None:
    """An overhead percentile (p50, p95 or p99: ``parse_threshold`` allows no other)."""
    if pcts is None:
        return None
    value: float | None = getattr(pcts, aggregate)
    return value


def _aggregate(section: MetricSummary, aggregate: str) -> float | None:
    """``mean``, ``min``, ``max`` or a kept percentile of a metric; None without samples."""
    if not section.count:
        return None
    value: float = getattr(section, aggregate)
    return value
