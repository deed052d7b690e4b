"""The threshold grammar: k6's expressions (``p(95)<500``, ``rate<0.01``) over loadtui's metrics,
a label filter (k6's tag filter, ``ttft{label:proxied}``) and the command line's
``METRIC EXPRESSION``. Every mistake is a ValueError naming it, so a preset, an option and a
replayed run file are refused with the same one line (``model/thresholds.py`` judges them).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from loadtui.model.plan import ThresholdSpec

__all__ = [
    "LABELLED",
    "METRICS",
    "OVERHEAD",
    "SLO_METRICS",
    "Threshold",
    "parse_cli_threshold",
    "parse_threshold",
    "parsed",
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
    "goodput_rate": "goodput_rps",
    "slo_attainment": "attainment",
    "capacity": "capacity",
}
"""overhead_*: proxied − direct (p50/p95/p99 only); batch_*: the ``by_label`` entries of a
Batch API run; checks: the share of checks that passed; goodput_rate (requests/s that met every
SLO: ``value``, or k6's ``rate`` of a counter) and slo_attainment (``rate``): ``summary.slo``."""
SLO_METRICS = ("goodput_rate", "slo_attainment")
"""Thresholds over the run's SLOs: a config with one of them must have SLOs."""
LABELLED = ("latency", "ttft", "itl", "tpot", "error_rate", "success_rate")
"""Metrics a label filter applies to: what ``LabelSummary`` keeps."""
_RATES = {"error_rate", "success_rate", "checks", "slo_attainment"}
OVERHEAD = {"overhead_latency", "overhead_ttft"}
_KEPT = ("p50", "p90", "p95", "p99", "p999")
"""The percentiles a summary keeps (``MetricSummary``): the only ones a threshold can name."""
_EXPR = re.compile(
    r"^\s*(p\((\d+(?:\.\d+)?)\)|avg|min|max|med|rate|value)\s*(<=|>=|==|<|>)\s*(-?\d+(?:\.\d+)?)\s*$"
)
_BARE = re.compile(
    r"^\s*(capacity|goodput_rate|slo_attainment|error_rate)\s*(<=|>=|==|<|>)\s*(-?\d+(?:\.\d+)?)\s*$"
)
_BARE_AGGREGATE = {
    "capacity": "value",
    "goodput_rate": "value",
    "slo_attainment": "rate",
    "error_rate": "rate",
}
"""Metrics that are one number, so ``--threshold 'capacity>=200'`` needs no aggregate."""
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
    if name == "capacity":  # a capacity search's result (docs/capacity.md)
        if agg != "value":
            raise ValueError(
                f"threshold {metric}: use 'value>=x' (or 'capacity>=x'), got {expression!r}"
            )
        return "value"
    if name == "goodput_rate":
        if agg not in ("value", "rate"):
            raise ValueError(f"threshold {metric}: use 'value>=x' (requests/s), got {expression!r}")
        return "value"
    if agg == "value":
        raise ValueError(f"threshold {metric}: 'value' applies to goodput_rate and capacity only")
    if name in _RATES:
        if agg != "rate":
            raise ValueError(f"threshold {metric}: use 'rate<x', got {expression!r}")
        return "rate"
    if agg == "rate":
        raise ValueError(
            f"threshold {metric}: 'rate' applies to error_rate, success_rate, checks, "
            "slo_attainment and goodput_rate only"
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
    if name in OVERHEAD and aggregate not in ("p50", "p95", "p99"):
        raise ValueError(f"threshold {metric}: use p(50), p(95) or p(99), got {expression!r}")
    return aggregate


def parse_cli_threshold(text: str) -> tuple[str, str]:
    """``--threshold 'ttft{label:proxied} p(99)<10'`` → (metric, expression), both checked;
    ValueError naming what is wrong."""
    bare = _BARE.match(text)  # one number: 'capacity>=200', 'slo_attainment>=0.9'
    if bare:
        name = bare.group(1)
        text = f"{name} {_BARE_AGGREGATE[name]}{bare.group(2)}{bare.group(3)}"
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
