"""The report's tables: configuration, summary, percentiles, labels, thresholds, generator
health and errors — each one column (or one table) per run, so several runs read side by side.

Figures come from the typed ``RunRecord`` only; every text from a run file goes through
``outputs.html`` and is escaped there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from loadtui.model.record import ErrorSample, MetricSummary, RunRecord
from loadtui.outputs.html import Cell, Markup, badge, count, ms, pct, table
from loadtui.run.describe import (
    describe_load,
    describe_mock,
    describe_requests,
    describe_streaming,
    describe_target,
    describe_thresholds,
)
from loadtui.run.goodput import attainment_text, goodput_text

__all__ = [
    "Shown",
    "config_section",
    "errors_section",
    "generator_section",
    "labels_section",
    "percentiles_section",
    "summary_section",
    "thresholds_section",
]

METRIC_NAMES = (
    ("latency_ms", "latency"),
    ("latency_actual_ms", "latency (actual send)"),
    ("ttft_ms", "TTFT"),
    ("itl_ms", "ITL"),
    ("tpot_ms", "TPOT"),
    ("headers_ms", "headers"),
    ("send_lag_ms", "send lag"),
)
"""Every histogram's label in the report (``latency_actual_ms`` and ``send_lag_ms`` only
differ from zero or from latency in open loop)."""


@dataclass(frozen=True, slots=True)
class Shown:
    """A run as the report shows it: its name in legends and headings, and its colour."""

    run: RunRecord
    name: str
    color: str


def _swatch(shown: Shown) -> Markup:
    return Markup(
        f'<span class="swatch" style="background:{shown.color}"></span>{escape(shown.name)}'
    )


def _side_by_side(
    runs: Sequence[Shown], rows: Sequence[tuple[str, Callable[[RunRecord], Cell]]]
) -> Markup:
    """One row per figure, one column per run."""
    head = ["", *(_swatch(s) for s in runs)]
    return table(head, [(name, *(get(s.run) for s in runs)) for name, get in rows], "side")


def config_section(runs: Sequence[Shown]) -> Markup:
    """What was run, where and how: enough to tell whether two runs are alike."""
    rows: list[tuple[str, Callable[[RunRecord], Cell]]] = [
        ("run id", lambda r: r.id),
        ("status", lambda r: r.status + (f" ({r.error})" if r.error else "")),
        ("started (UTC)", lambda r: r.started_at[:19].replace("T", " ")),
        ("preset", lambda r: r.preset or "custom"),
        ("description", lambda r: r.config.description or None),
        ("target", lambda r: describe_target(r.target)),
        ("model", lambda r: r.target.model or r.config.target.model),
        ("load", lambda r: describe_load(r.config)),
        ("requests", lambda r: describe_requests(r.config)),
        ("streaming", lambda r: describe_streaming(r.config)),
        ("workers", lambda r: r.generator.workers or r.config.workers or "auto"),
        ("thresholds", lambda r: describe_thresholds(r.config)),
        ("embedded mock", lambda r: describe_mock(r.target, r.config)),
        ("replay of", lambda r: r.replay_of),
        ("loadtui", lambda r: r.loadtui_version or None),
    ]
    return _side_by_side(runs, rows)


def _trio(name: str) -> Callable[[RunRecord], Cell]:
    def get(run: RunRecord) -> Cell:
        m: MetricSummary = run.summary.metrics.get(name)
        if not m.count:
            return None
        return f"{ms(m.p50)} / {ms(m.p95)} / {ms(m.p99)}"

    return get


def summary_section(runs: Sequence[Shown]) -> Markup:
    """The headline figures, side by side."""
    rows: list[tuple[str, Callable[[RunRecord], Cell]]] = [
        ("status", lambda r: r.status),
        ("duration", lambda r: f"{r.summary.duration_s:.1f} s"),
        ("requests", lambda r: count(r.summary.requests)),
        ("ok", lambda r: count(r.summary.ok)),
        ("errors", lambda r: f"{r.summary.errors_total:,} ({pct(r.summary.error_rate)})"),
        ("requests/s", lambda r: f"{r.summary.rps:.1f}"),
        ("output tokens/s", lambda r: f"{r.summary.output_tokens_per_s:.1f}"),
        ("tokens out / in", lambda r: f"{r.summary.output_tokens:,} / {r.summary.input_tokens:,}"),
        ("dropped / late", lambda r: f"{r.summary.dropped:,} / {r.summary.late:,}"),
    ]
    for key, name in METRIC_NAMES:
        if key in ("latency_ms", "ttft_ms", "itl_ms", "tpot_ms"):
            rows.append((f"{name} p50 / p95 / p99 (ms)", _trio(key)))
    rows.append(("thresholds", _threshold_count))
    return _side_by_side(runs, rows)


def _threshold_count(run: RunRecord) -> Cell:
    if not run.thresholds:
        return "none"
    passed = sum(t.passed for t in run.thresholds)
    return Markup(f"{passed} of {len(run.thresholds)} passed {badge(run.passed)}")


def percentiles_section(shown: Shown) -> Markup:
    """Every metric's whole-run figures for one run, in ms."""
    head = ["metric (ms)", "count", "mean", "min", "p50", "p90", "p95", "p99", "p99.9", "max"]
    rows: list[list[Cell]] = []
    for key, name in METRIC_NAMES:
        m = shown.run.summary.metrics.get(key)
        figures = (m.mean, m.min, m.p50, m.p90, m.p95, m.p99, m.p999, m.max)
        rows.append([name, count(m.count), *(ms(v, m.count) for v in figures)])
    return table(head, rows, "figures")


def labels_section(shown: Shown) -> Markup:
    """Each request label's share of one run, and its checks."""
    s = shown.run.summary
    head = [
        "label",
        "requests",
        "errors",
        "error %",
        "latency p50 / p95 / p99",
        "TTFT p50 / p95 / p99",
    ]
    # ITL and TPOT columns as `show`'s by-request table: when some label has ITL samples (not
    # for a run without streams, nor files from before labels kept them), blank cells otherwise
    streamed = any(label.itl_ms.count for label in s.by_label.values())
    if streamed:
        head += ["ITL p50 / p95 / p99", "TPOT p50 / p95 / p99"]
    rows: list[list[Cell]] = []
    for name, label in s.by_label.items():
        rate = pct(label.errors / label.requests) if label.requests else None
        row: list[Cell] = [
            name,
            count(label.requests),
            count(label.errors),
            rate,
            _metric_trio(label.latency_ms),
            _metric_trio(label.ttft_ms),
        ]
        if streamed:
            row += [_metric_trio(label.itl_ms), _metric_trio(label.tpot_ms)]
        rows.append(row)
    out: str = table(head, rows, "figures") if rows else "<p>No labels in this run.</p>"
    if s.checks:
        checks = [
            [n, count(c.passed), count(c.failed), pct(c.pass_rate)] for n, c in s.checks.items()
        ]
        out += table(["check", "passed", "failed", "pass rate"], checks, "figures")
    return Markup(out)


def _metric_trio(m: MetricSummary) -> Cell:
    return f"{ms(m.p50)} / {ms(m.p95)} / {ms(m.p99)} ms" if m.count else None


def slo_section(shown: Shown) -> Markup:
    """Goodput, attainment and each SLO's misses (docs/metrics.md, "SLOs and goodput")."""
    run = shown.run
    slo = run.summary.slo
    if slo is None:
        return Markup("<p>No SLOs were set for this run.</p>")
    head = ["figure", "value"]
    rows: list[list[Cell]] = [
        ["goodput", goodput_text(slo)],
        ["attainment (met every SLO)", attainment_text(slo)],
        ["failed requests (meet none)", count(run.summary.errors_total)],
    ]
    out: str = table(head, rows, "figures")
    misses: list[list[Cell]] = [
        [f"{name}{run.config.slo.get(name, '')}", count(n), pct(slo.miss_share(name))]
        for name, n in slo.misses.items()
    ]
    out += table(["SLO", "missed by", "share of judged"], misses, "figures")
    return Markup(out)


def thresholds_section(shown: Shown) -> Markup:
    """Each threshold: its limit, what the run measured, the verdict and why."""
    if not shown.run.thresholds:
        return Markup("<p>No thresholds were set for this run.</p>")
    head = ["metric", "threshold (limit)", "actual", "result", "why"]
    rows: list[list[Cell]] = [
        [
            t.metric,
            t.expression,
            None if t.actual is None else f"{t.actual:.4g}",
            badge(t.passed, t.skipped),
            t.reason,
        ]
        for t in shown.run.thresholds
    ]
    return table(head, rows, "thresholds")


def generator_section(runs: Sequence[Shown]) -> Markup:
    """Whether the load generator kept up: a saturated generator measures itself."""
    rows: list[tuple[str, Callable[[RunRecord], Cell]]] = [
        ("workers", lambda r: r.generator.workers),
        (
            "CPU max / mean",
            lambda r: f"{r.generator.cpu_percent_max:.0f} % / {r.generator.cpu_percent_mean:.0f} %",
        ),
        ("event-loop lag max", lambda r: f"{r.generator.loop_lag_ms_max:.1f} ms"),
        ("saturated seconds", lambda r: r.generator.saturated_seconds),
        ("seconds at the in-flight cap", lambda r: r.generator.in_flight_cap_seconds),
        ("workers lost", lambda r: r.generator.workers_lost),
        ("arrivals achieved / target", _arrivals),
    ]
    out: list[str] = [_side_by_side(runs, rows)]
    for s in runs:
        notes = [*s.run.generator.warnings]
        notes += [
            f"worker {w.worker} lost at {w.at_s:.1f} s: {w.reason}"
            for w in s.run.generator.lost_workers
        ]
        if notes:
            items = "".join(f"<li>{escape(n)}</li>" for n in notes)
            out.append(f'<p class="warn">{_swatch(s)}</p><ul class="warn">{items}</ul>')
    if not any(s.run.generator.warnings for s in runs):
        out.append("<p>No generator warnings.</p>")
    return Markup("".join(out))


def _arrivals(run: RunRecord) -> Cell:
    g = run.generator
    if g.achieved_rate is None or g.target_rate_mean is None:
        return None
    return f"{g.achieved_rate:.1f}/s of {g.target_rate_mean:g}/s"


def errors_section(shown: Shown) -> Markup:
    """Errors by class with their reasons, status codes, and the samples the run kept."""
    s = shown.run.summary
    out: list[str] = []
    if s.errors:
        rows: list[list[Cell]] = []
        for cls, n in sorted(s.errors.items(), key=lambda kv: -kv[1]):
            share = pct(n / s.requests) if s.requests else None
            reasons = s.error_reasons.get(cls, ())
            rows.append([cls, count(n), share, Markup("<br>".join(escape(r) for r in reasons))])
        out.append(
            table(["error class", "count", "of requests", "reasons"], rows, "figures errors")
        )
    else:
        out.append("<p>No errors.</p>")
    codes = ", ".join(f"{k}: {v:,}" for k, v in s.status_codes.items()) or "none"
    out.append(f"<p>HTTP status codes: {escape(codes)}</p>")
    if shown.run.error_samples:
        out.append("<h4>Error samples (the first responses of each class)</h4>")
        out.extend(_sample(e) for e in shown.run.error_samples)
    elif s.errors:
        out.append("<p>This run file keeps no error samples.</p>")
    return Markup("".join(out))


def _sample(e: ErrorSample) -> str:
    status = "no response" if e.status is None else f"HTTP {e.status}"
    head = f"{e.error_class} at {e.at_s:.1f} s — {status}" + (
        f" — label {e.label}" if e.label else ""
    )
    parts = [f'<div class="sample"><p class="sample-head">{escape(head)}</p>']
    if e.reason:
        parts.append(f"<p>{escape(e.reason)}</p>")
    if e.headers:
        lines = "\n".join(f"{k}: {v}" for k, v in e.headers.items())
        parts.append(f'<pre class="headers">{escape(lines)}</pre>')
    if e.body:
        cut = " (cut)" if e.body_truncated else ""
        parts.append(f'<p class="note">body{cut}:</p><pre class="body">{escape(e.body)}</pre>')
    parts.append("</div>")
    return "".join(parts)
