"""k6-style thresholds judged on a run summary: one result per threshold, with a reason when
there was nothing to judge.

Judgement is a pure function over a run summary, so a threshold reads the same numbers the
summary prints; a label filter (``ttft{label:proxied}``) reads ``summary.by_label``. The grammar
— expressions, label filters, the command line's form — is ``threshold_grammar.py``'s. A
threshold with nothing to judge fails (nothing was proven) and its ``reason`` says why.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from loadtui.model.conversation import turn_labels
from loadtui.model.plan import RunConfig, ThresholdSpec
from loadtui.model.record import (
    LabelSummary,
    MetricSummary,
    Percentiles,
    RunSummary,
    ThresholdResult,
)
from loadtui.model.threshold_grammar import (
    LABELLED,
    METRICS,
    OVERHEAD,
    SLO_METRICS,
    Threshold,
    parse_cli_threshold,
    parse_threshold,
    parsed,
)

__all__ = [
    "LABELLED",
    "METRICS",
    "Abort",
    "Threshold",
    "evaluate",
    "judge",
    "judge_all",
    "judge_capacity",
    "mark_aborted",
    "parse_cli_threshold",
    "parse_threshold",
    "parsed",
    "run_labels",
]

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


def run_labels(config: RunConfig) -> dict[str, bool]:
    """The request labels a run of ``config`` books, each with whether its answers stream (as
    ``engine/mix.py`` labels requests: the request's name or kind; ``direct``/``proxied`` in
    overhead mode; a Batch job's two steps)."""
    streamed = any(r.streamed for r in config.requests)
    if config.overhead.enabled:
        return {"direct": streamed, "proxied": streamed}
    if config.conversation is not None:  # each turn counts under its own label
        return dict.fromkeys(turn_labels(config.conversation), streamed)
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
        if t.name == "capacity":
            results.append(_not_judged(t, "a capacity search's result, judged when it ends"))
            continue
        if t.label is not None:
            results.append(_judge_label(t, summary, streamed, labels or {}))
            continue
        actual = _actual(t, summary)
        if actual is None:
            results.append(_no_samples(t, summary, streamed))
        else:
            results.append(_result(t, actual))
    return tuple(results)


def judge_capacity(
    results: tuple[ThresholdResult, ...], capacity: float | None, why: str
) -> tuple[ThresholdResult, ...]:
    """The ``capacity`` thresholds judged on a search's capacity (``why``: why there is none —
    then they fail: nothing was proven)."""
    out = []
    for r in results:
        if r.metric == "capacity":
            t = parse_threshold("capacity", r.expression)
            r = _failed(t, why) if capacity is None else _result(t, capacity)
        out.append(r)
    return tuple(out)


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
    if t.name in OVERHEAD:
        return _failed(t, _no_overhead(t, summary))
    if t.name == "batch_job":
        return _failed(t, "no Batch job finished")
    if t.name == "batch_completion":
        return _failed(t, "no Batch job reached a final status")
    if t.name in SLO_METRICS and summary.slo is None:
        return _failed(t, "the run had no SLOs (--slo, [slo])")
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
    return LabelSummary(
        summary.requests, summary.errors_total, m.latency_ms, m.ttft_ms, m.itl_ms, m.tpot_ms
    )


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
    actual = _aggregate(getattr(view, METRICS[t.name]), t.aggregate)
    if actual is not None:
        return _result(t, actual)
    stream_name = _STREAMING.get(t.name)
    if stream_name and not labels.get(label, streamed):
        return _not_judged(t, f"requests labelled {label} are not streamed")
    where = f" with label {label}"
    if stream_name:
        return _failed(
            t, _no_stream_samples(stream_name, view.requests, view.requests - view.errors, where)
        )
    return _failed(t, f"no {t.name} samples{where}")


def _actual(t: Threshold, summary: RunSummary) -> float | None:
    if t.name in SLO_METRICS:
        slo = summary.slo
        if slo is None or not slo.judged:
            return None
        return slo.goodput_rps if t.name == "goodput_rate" else slo.attainment
    if t.name == "checks":
        passed = sum(c.passed for c in summary.checks.values())
        failed = sum(c.failed for c in summary.checks.values())
        return passed / (passed + failed) if passed + failed else None
    if t.name in OVERHEAD:
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
