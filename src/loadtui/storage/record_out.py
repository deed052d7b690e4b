"""The writing half of storage/record.py: each part of a run record as run-file JSON.

Keys and their order are the run file's (docs/run-format.md); optional keys are written only
when the run has them, as they always were (``overhead.ttft_ms``, open loop's rates, a
threshold's ``reason`` and ``skipped``, a series point's ``itl_ms`` and ``tpot_ms``).
"""

from __future__ import annotations

import json
from typing import Any

from loadtui.model.controls import ControlChange
from loadtui.model.record import (
    METRICS,
    ErrorSample,
    GeneratorHealth,
    LabelSummary,
    MetricSummary,
    OverheadSummary,
    Percentiles,
    RunHistograms,
    RunRecord,
    RunSummary,
    SeriesPoint,
    SloSummary,
    TargetInfo,
    ThresholdResult,
    WorkerClock,
)
from loadtui.storage.search_json import search_to_json
from loadtui.storage.server_json import server_to_json

__all__ = [
    "HISTOGRAM_ENCODING",
    "RunJson",
    "error_sample_to_json",
    "generator_to_json",
    "histograms_to_json",
    "metric_to_json",
    "percentiles_to_json",
    "point_to_json",
    "record_to_json",
    "summary_document",
    "summary_json",
    "summary_to_json",
    "target_to_json",
    "threshold_to_json",
]

RunJson = dict[str, Any]
"""A run file's JSON object (or a part of one): the one untyped shape, at this boundary only."""

HISTOGRAM_ENCODING = "hdr-v2-base64"
"""``histograms.encoding``: HdrHistogram's V2 compressed form, base64 (its own text form)."""


def target_to_json(target: TargetInfo) -> RunJson:
    return {
        "url": target.url,
        "embedded_mock": target.embedded_mock,
        "direct_url": target.direct_url,
        "mock": None if target.mock is None else target.mock.model_dump(mode="json"),
        "model": target.model,
        "api_key": target.api_key,
    }


def control_to_json(c: ControlChange) -> RunJson:
    """One entry of the run file's ``controls`` timeline (a think-time range as a list)."""
    value = list(c.value) if isinstance(c.value, tuple) else c.value
    return {"action": c.action, "value": value, "at": c.at, "source": c.source}


def metric_to_json(m: MetricSummary) -> RunJson:
    return {
        "count": m.count,
        "mean": m.mean,
        "min": m.min,
        "max": m.max,
        "p50": m.p50,
        "p90": m.p90,
        "p95": m.p95,
        "p99": m.p99,
        "p999": m.p999,
    }


def percentiles_to_json(p: Percentiles) -> RunJson:
    return {"p50": p.p50, "p95": p.p95, "p99": p.p99}


def summary_to_json(s: RunSummary) -> RunJson:
    """``summary`` of the run file."""
    return {
        "requests": s.requests,
        "ok": s.ok,
        "errors_total": s.errors_total,
        "errors": dict(s.errors),
        "error_reasons": {k: list(v) for k, v in s.error_reasons.items()},
        "status_codes": {str(k): v for k, v in s.status_codes.items()},
        "cancelled": s.cancelled,
        "dropped": s.dropped,
        "late": s.late,
        "error_rate": s.error_rate,
        "success_rate": s.success_rate,
        "duration_s": s.duration_s,
        "rps": s.rps,
        "output_tokens": s.output_tokens,
        "input_tokens": s.input_tokens,
        "output_tokens_per_s": s.output_tokens_per_s,
        "token_source": {
            "usage": s.token_source.usage,
            "counted_chunks": s.token_source.counted_chunks,
        },
        "bytes_received": s.bytes_received,
        "metrics": {name: metric_to_json(s.metrics.get(name)) for name in METRICS},
        "by_label": {name: _label_to_json(label) for name, label in s.by_label.items()},
        "checks": {
            name: {"passed": c.passed, "failed": c.failed, "pass_rate": c.pass_rate}
            for name, c in s.checks.items()
        },
        "overhead": None if s.overhead is None else _overhead_to_json(s.overhead),
        **_slo_to_json(s.slo),
    }


def _slo_to_json(slo: SloSummary | None) -> RunJson:
    """``summary.slo``, only in a run with SLOs (a run without keeps its file unchanged)."""
    if slo is None:
        return {}
    return {
        "slo": {
            "judged": slo.judged,
            "ok": slo.ok,
            "ok_tokens": slo.ok_tokens,
            "attainment": slo.attainment,
            "goodput_rps": slo.goodput_rps,
            "goodput_tokens_per_s": slo.goodput_tokens_per_s,
            "misses": dict(slo.misses),
        }
    }


def _label_to_json(label: LabelSummary) -> RunJson:
    return {
        "requests": label.requests,
        "errors": label.errors,
        "latency_ms": metric_to_json(label.latency_ms),
        "ttft_ms": metric_to_json(label.ttft_ms),
        "itl_ms": metric_to_json(label.itl_ms),
        "tpot_ms": metric_to_json(label.tpot_ms),
    }


def _overhead_to_json(o: OverheadSummary) -> RunJson:
    out: RunJson = {"pairs": o.pairs}
    if o.latency_ms is not None:  # present only when both kinds had samples
        out["latency_ms"] = percentiles_to_json(o.latency_ms)
    if o.ttft_ms is not None:
        out["ttft_ms"] = percentiles_to_json(o.ttft_ms)
    return out


def point_to_json(p: SeriesPoint) -> RunJson:
    out: RunJson = {
        "t": p.t,
        "users": p.users,
        "target_users": p.target_users,
        "target_rate": p.target_rate,
        "in_flight": p.in_flight,
        "rps": p.rps,
        "arrivals": p.arrivals,
        "dropped": p.dropped,
        "late": p.late,
        "errors": p.errors,
        "output_tokens": p.output_tokens,
        "latency_ms": percentiles_to_json(p.latency_ms),
        "ttft_ms": percentiles_to_json(p.ttft_ms),
    }
    # only seconds with a streamed sample carry them: a non-streaming run's file is unchanged
    if p.itl_ms is not None:
        out["itl_ms"] = percentiles_to_json(p.itl_ms)
    if p.tpot_ms is not None:
        out["tpot_ms"] = percentiles_to_json(p.tpot_ms)
    if p.slo_judged is not None:  # a run with SLOs
        out["slo_ok"] = p.slo_ok
        out["slo_judged"] = p.slo_judged
    return out


def generator_to_json(g: GeneratorHealth) -> RunJson:
    out: RunJson = {
        "workers": g.workers,
        "cpu_percent_max": g.cpu_percent_max,
        "cpu_percent_mean": g.cpu_percent_mean,
        "loop_lag_ms_max": g.loop_lag_ms_max,
        "saturated_seconds": g.saturated_seconds,
        "in_flight_cap_seconds": g.in_flight_cap_seconds,
        "workers_lost": g.workers_lost,
        "lost_workers": [
            {"worker": w.worker, "at_s": w.at_s, "reason": w.reason} for w in g.lost_workers
        ],
        "warnings": list(g.warnings),
    }
    if g.target_rate_mean is not None:  # open loop only
        out["target_rate_mean"] = g.target_rate_mean
    if g.achieved_rate is not None:
        out["achieved_rate"] = g.achieved_rate
    if g.nodes:  # Ray actors only
        out["nodes"] = list(g.nodes)
    if g.worker_clocks:
        out["worker_clocks"] = [worker_clock_to_json(c) for c in g.worker_clocks]
    return out


def worker_clock_to_json(c: WorkerClock) -> RunJson:
    out: RunJson = {
        "worker": c.worker,
        "clock_offset_ms": c.clock_offset_ms,
        "rtt_ms": c.rtt_ms,
        "start_skew_ms": c.start_skew_ms,
    }
    return out


def threshold_to_json(t: ThresholdResult) -> RunJson:
    out: RunJson = {
        "metric": t.metric,
        "expression": t.expression,
        "actual": t.actual,
        "passed": t.passed,
    }
    if t.skipped:
        out["skipped"] = True
    if t.aborted:
        out["aborted"] = True
    if t.reason is not None:
        out["reason"] = t.reason
    return out


def histograms_to_json(h: RunHistograms) -> RunJson:
    """``histograms`` of the run file: each encoding as the text it already is."""
    return {
        "encoding": HISTOGRAM_ENCODING,
        "whole": {name: data.decode("ascii") for name, data in h.whole.items()},
        "by_label": {
            label: {name: data.decode("ascii") for name, data in metrics.items()}
            for label, metrics in h.by_label.items()
        },
    }


def error_sample_to_json(s: ErrorSample) -> RunJson:
    """One entry of ``error_samples`` (written only when the run has some)."""
    return {
        "error_class": s.error_class,
        "at_s": s.at_s,
        "status": s.status,
        "label": s.label,
        "reason": s.reason,
        "headers": dict(s.headers),
        "body": s.body,
        "body_truncated": s.body_truncated,
    }


def record_to_json(record: RunRecord, *, series: bool = True) -> RunJson:
    """The run file's object (docs/run-format.md), ``series`` last (left out when ``series``
    is False: a checkpoint writes the points it already encoded, storage/seriestext.py)."""
    out: RunJson = {
        "schema_version": record.schema_version,
        "id": record.id,
        "status": record.status,
        "error": record.error,
        "started_at": record.started_at,
        "ended_at": record.ended_at,
        "preset": record.preset,
        "replay_of": record.replay_of,
        "loadtui_version": record.loadtui_version,
        "config": record.config.model_dump(mode="json"),
        "target": target_to_json(record.target),
        "load_ended_s": record.load_ended_s,
        "controls": [control_to_json(c) for c in record.controls],
        "summary": summary_to_json(record.summary),
        "generator": generator_to_json(record.generator),
        "thresholds": [threshold_to_json(t) for t in record.thresholds],
    }
    if record.peak_users is not None:
        out["peak_users"] = record.peak_users
    if record.histograms is not None:  # before the series: what compare and report read
        out["histograms"] = histograms_to_json(record.histograms)
    if record.error_samples:
        out["error_samples"] = [error_sample_to_json(s) for s in record.error_samples]
    if record.search is not None:
        out["search"] = search_to_json(record.search)
    if record.server is not None:
        out["server"] = server_to_json(record.server)
    if series:
        out["series"] = [point_to_json(p) for p in record.series]
    return out


def summary_document(run: RunRecord, path: str | None = None) -> RunJson:
    """A run's summary alone, for machines: ``--json`` on stdout, ``show --json`` and the
    ``summary-json`` export (k6's ``--summary-export``) are this one object (docs/run-format.md,
    "Summary JSON"). ``path`` is where the run file was saved, when it was."""
    return {
        "id": run.id,
        "status": run.status,
        "passed": run.passed,
        "preset": run.preset,
        "started_at": run.started_at,
        "ended_at": run.ended_at,
        "path": path,
        "error": run.error,
        "summary": summary_to_json(run.summary),
        "thresholds": [threshold_to_json(t) for t in run.thresholds],
        "generator": generator_to_json(run.generator),
        **({} if run.search is None else {"search": search_to_json(run.search)}),
    }


def summary_json(run: RunRecord, path: str | None = None) -> str:
    """``summary_document`` as the text every command prints or writes (indent 2)."""
    return json.dumps(summary_document(run, path), indent=2)
