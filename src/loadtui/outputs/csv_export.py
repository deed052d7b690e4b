"""Locust-like CSV files from a run record: per-label stats, one row per second, failures.

Three files from one prefix, named as Locust names its own (``PREFIX_stats.csv``,
``PREFIX_stats_history.csv``, ``PREFIX_failures.csv``), with Locust's column names wherever the
figure is the same one (times in ms, as Locust's are), so a script or a sheet made for Locust's
CSV reads these. loadtui's own figures (TTFT, ITL, TPOT, tokens, open-loop counts) are extra
columns with their units in their names. Every column: docs/exports.md.

A cell with no figure (a percentile an old run file cannot give, TTFT of a label that streamed
nothing, a second with no answer or no stream, a second's ITL/TPOT in a run file saved before
the series kept them) is empty, never a zero that reads as a measurement.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path

from loadtui.metrics.histogram import Histogram
from loadtui.model.record import MetricSummary, Percentiles, RunRecord, SeriesPoint, SloSummary
from loadtui.outputs.destination import write_atomic

__all__ = [
    "FAILURES_HEADER",
    "HISTORY_HEADER",
    "STATS_HEADER",
    "STATS_PERCENTILES",
    "csv_paths",
    "failure_rows",
    "history_rows",
    "stats_rows",
    "write_csv",
]

Row = list[str]

STATS_PERCENTILES: tuple[float, ...] = (50, 66, 75, 80, 90, 95, 98, 99, 99.9, 99.99, 100)
"""Locust's percentile columns. With the run's histograms each is exact; without (a run file
from before they were stored) only those the summary keeps are filled."""
_IN_SUMMARY = {50: "p50", 90: "p90", 95: "p95", 99: "p99", 99.9: "p999", 100: "max"}
_STREAM_METRICS = (("TTFT", "ttft_ms"), ("ITL", "itl_ms"), ("TPOT", "tpot_ms"))
_SLO_TITLES = (("ttft", "TTFT"), ("itl", "ITL"), ("tpot", "TPOT"), ("latency", "Latency"))
"""Each SLO's column of misses (``model/slo.py``'s ``SLO_NAMES``, in its order)."""
_STREAM_FIGURES: tuple[tuple[str, str], ...] = (
    ("Median", "p50"),
    ("Average", "mean"),
    ("p90", "p90"),
    ("p95", "p95"),
    ("p99", "p99"),
    ("Max", "max"),
)

STATS_HEADER: Row = [
    "Type",
    "Name",
    "Request Count",
    "Failure Count",
    "Median Response Time",
    "Average Response Time",
    "Min Response Time",
    "Max Response Time",
    "Requests/s",
    "Failures/s",
    *(f"{p:g}%" for p in STATS_PERCENTILES),
    *(f"{m} {f} (ms)" for m, _ in _STREAM_METRICS for f, _ in _STREAM_FIGURES),
    "Output Tokens",
    "Output Tokens/s",
    "Goodput/s",
    "Goodput Tokens/s",
    "SLO Attainment",
    *(f"{title} SLO Misses" for _, title in _SLO_TITLES),
]
HISTORY_HEADER: Row = [
    "Timestamp",
    "Elapsed (s)",
    "User Count",
    "Target Users",
    "Target Rate (/s)",
    "In Flight",
    "Requests/s",
    "Arrivals/s",
    "Dropped",
    "Late",
    "Failures/s",
    "Output Tokens/s",
    "Latency p50 (ms)",
    "Latency p95 (ms)",
    "Latency p99 (ms)",
    "TTFT p50 (ms)",
    "TTFT p95 (ms)",
    "TTFT p99 (ms)",
    "ITL p50 (ms)",
    "ITL p95 (ms)",
    "ITL p99 (ms)",
    "TPOT p50 (ms)",
    "TPOT p95 (ms)",
    "TPOT p99 (ms)",
    "Goodput/s",
    "SLO Attainment",
]
FAILURES_HEADER: Row = ["Error Class", "Occurrences", "Reasons"]

_SUFFIXES = ("_stats.csv", "_stats_history.csv", "_failures.csv")


def csv_paths(prefix: Path) -> list[Path]:
    """The three files a prefix names: ``PREFIX_stats.csv``, ``_stats_history``, ``_failures``."""
    return [prefix.with_name(prefix.name + suffix) for suffix in _SUFFIXES]


def write_csv(run: RunRecord, prefix: Path, run_path: Path | None = None) -> list[Path]:
    """Write the three CSV files of ``run`` next to ``prefix``; the paths written."""
    stats, history, failures = csv_paths(prefix)
    tables = [(stats, stats_rows(run)), (history, history_rows(run))]
    tables.append((failures, failure_rows(run)))
    return [write_atomic(path, _csv_bytes(rows)) for path, rows in tables]


def _csv_bytes(rows: Iterable[Row]) -> bytes:
    buf = io.StringIO(newline="")
    csv.writer(buf).writerows(rows)  # the excel dialect, as Locust's: quoted where needed
    return buf.getvalue().encode("utf-8")


# -- PREFIX_stats.csv ---------------------------------------------------------------------
def stats_rows(run: RunRecord) -> list[Row]:
    """The header, one row per label (in the run's order), then ``Aggregated``."""
    rows = [list(STATS_HEADER)]
    rows += [_stats_row(run, label) for label in run.summary.by_label]
    rows.append(_stats_row(run, None))
    return rows


def _stats_row(run: RunRecord, label: str | None) -> Row:
    """One label's row, or (``label`` None) the whole run's."""
    s = run.summary
    duration = s.duration_s
    if label is None:
        name, kind = "Aggregated", ""
        requests, errors, rps = s.requests, s.errors_total, s.rps
    else:
        one = s.by_label[label]
        name, kind = label, _kind_of(run, label)
        requests, errors = one.requests, one.errors
        rps = requests / duration if duration > 0 else 0.0
    latency = _metric(run, label, "latency_ms")
    row = [_text(kind), _text(name), str(requests), str(errors)]
    row += [_figure(latency, f) for f in ("p50", "mean", "min", "max")]
    row += [_num(rps), _num(errors / duration if duration > 0 else 0.0)]
    row += _percentile_cells(run, label, latency)
    for _, metric in _STREAM_METRICS:
        summary = _metric(run, label, metric)
        row += [_figure(summary, f) for _, f in _STREAM_FIGURES]
    if label is None:
        row += [str(s.output_tokens), _num(s.output_tokens_per_s)]
        row += _slo_cells(s.slo, run.config.slo)
    else:  # tokens and SLOs are counted for the whole run only
        row += ["", "", *_slo_cells(None, {})]
    return row


def _slo_cells(slo: SloSummary | None, slos: Mapping[str, str]) -> Row:
    """Goodput (requests/s, tokens/s), attainment and how many requests missed each SLO the
    run set (``slos``: the config's table); empty in a run without SLOs."""
    if slo is None:
        return ["", "", "", *("" for _ in _SLO_TITLES)]
    misses = [str(slo.misses.get(name, 0)) if name in slos else "" for name, _ in _SLO_TITLES]
    return [_num(slo.goodput_rps), _num(slo.goodput_tokens_per_s), _num(slo.attainment), *misses]


def _kind_of(run: RunRecord, label: str) -> str:
    """The request kind behind a label (``chat``, ``health``...); empty for labels that are not
    a mix entry's (``direct``/``proxied`` of an overhead run, a Batch job's steps)."""
    return next((r.kind for r in run.config.requests if r.label == label), "")


def _metric(run: RunRecord, label: str | None, name: str) -> MetricSummary | None:
    """A metric's summary for the whole run or a label: the stored summary's, else (a label's
    ITL or TPOT) its histogram's when the run has one; None when there were no samples."""
    summary: MetricSummary | None = None
    if label is None:
        summary = run.summary.metrics.get(name)
    elif name in ("latency_ms", "ttft_ms"):
        summary = getattr(run.summary.by_label[label], name)
    else:
        encoded = _histogram(run, label, name)
        summary = Histogram.decode(encoded).summary() if encoded else None
    return summary if summary is not None and summary.count else None


def _histogram(run: RunRecord, label: str | None, name: str) -> bytes | None:
    if run.histograms is None:
        return None
    if label is None:
        return run.histograms.whole.get(name)
    return run.histograms.by_label.get(label, {}).get(name)


def _percentile_cells(run: RunRecord, label: str | None, latency: MetricSummary | None) -> Row:
    """Locust's 50% … 100% of latency: exact from the histogram, else the summary's few."""
    encoded = _histogram(run, label, "latency_ms")
    hist = Histogram.decode(encoded) if encoded else None
    if hist is not None and hist.count:
        return [_num(value) for value in hist.percentiles(STATS_PERCENTILES)]
    return [_figure(latency, _IN_SUMMARY.get(p)) for p in STATS_PERCENTILES]


def _figure(summary: MetricSummary | None, field: str | None) -> str:
    if summary is None or field is None:
        return ""
    value: float = getattr(summary, field)
    return _num(value)


# -- PREFIX_stats_history.csv -------------------------------------------------------------
def history_rows(run: RunRecord) -> list[Row]:
    """The header, then one row per second of the run's series."""
    start = _epoch(run.started_at)
    return [list(HISTORY_HEADER), *(_history_row(p, start) for p in run.series)]


def _history_row(p: SeriesPoint, start: int | None) -> Row:
    return [
        "" if start is None else str(start + p.t),
        str(p.t),
        str(p.users),
        _num(p.target_users),
        _num(p.target_rate),
        str(p.in_flight),
        str(p.rps),
        str(p.arrivals),
        str(p.dropped),
        str(p.late),
        str(p.errors),
        str(p.output_tokens),
        *_percentiles(p.latency_ms),
        *_percentiles(p.ttft_ms),
        *_percentiles(p.itl_ms),
        *_percentiles(p.tpot_ms),
        *_slo_point(p),
    ]


def _slo_point(p: SeriesPoint) -> Row:
    """The second's goodput (requests that met every SLO) and attainment; empty without SLOs
    (and attainment in a second that judged none)."""
    if p.slo_judged is None or p.slo_ok is None:
        return ["", ""]
    attainment = _num(p.slo_ok / p.slo_judged) if p.slo_judged else ""
    return [str(p.slo_ok), attainment]


def _percentiles(p: Percentiles | None) -> Row:
    """Three cells; empty where the second had no sample (or an old run file kept none)."""
    if p is None:
        return ["", "", ""]
    return [_num(p.p50), _num(p.p95), _num(p.p99)]


def _epoch(started_at: str) -> int | None:
    """The run's start as Unix seconds (Locust's ``Timestamp``); None when it cannot be read."""
    try:
        return int(datetime.fromisoformat(started_at).timestamp())
    except ValueError:
        return None


# -- PREFIX_failures.csv ------------------------------------------------------------------
def failure_rows(run: RunRecord) -> list[Row]:
    """The header, then one row per error class, the most frequent first."""
    s = run.summary
    ranked = sorted(s.errors.items(), key=lambda kv: (-kv[1], kv[0]))
    rows = [list(FAILURES_HEADER)]
    for cls, count in ranked:
        rows.append([_text(cls), str(count), _text(" | ".join(s.error_reasons.get(cls, ())))])
    return rows


# -- cells --------------------------------------------------------------------------------
def _num(value: float | None) -> str:
    """A figure to 3 decimals at most, never in exponent form; empty for None."""
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text(value: str) -> str:
    """A name or reason from a preset or a server, as text: one that a spreadsheet would run
    as a formula (``=HYPERLINK(...)``) gets a leading ``'``, as OWASP advises for CSV."""
    return "'" + value if value.startswith(_FORMULA_START) else value
