"""The report's charts, made from run records: percentiles and load over time, and the latency
distribution. Series come from the record's per-second points as they are (a second without a
sample is a gap); control changes from ``record.controls``; the distribution from the exact
histograms when the run file has them, else from the summary's percentiles (the caption says
which).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from loadtui.metrics.histogram import Histogram
from loadtui.model.controls import ControlChange
from loadtui.model.durations import format_duration
from loadtui.model.record import Percentiles, RunRecord, SeriesPoint
from loadtui.outputs.html import Markup, ms, table
from loadtui.outputs.report_sections import Shown
from loadtui.outputs.svg import Line, Marker, Point, percentile_chart, percentile_x, time_chart

__all__ = [
    "distribution_chart",
    "has_stream_series",
    "load_charts",
    "percentile_charts",
    "whole_run_only",
]

_PCT_COLORS = {"p50": "#1f77b4", "p95": "#ff7f0e", "p99": "#d62728"}
_PCT_DASH = {"p50": "", "p95": "7 3", "p99": "2 3"}
CURVE_PERCENTILES = (
    *(float(p) for p in range(0, 90, 5)),
    *(90.0, 92.5, 95.0, 96.0, 97.0, 98.0, 99.0, 99.3, 99.5, 99.7, 99.9, 99.95, 99.99),
)
"""Where the distribution curve is read from a histogram: dense in the tail."""
_EACH_SECOND = "Each point is one second of the run, drawn at its middle."


def _x_max(runs: Sequence[Shown]) -> float:
    ends = [max([s.run.summary.duration_s, *(p.t + 1 for p in s.run.series[-1:])]) for s in runs]
    return max(ends, default=1.0)


def _warmup(runs: Sequence[Shown]) -> float:
    """The warm-up to shade: one run's (runs compared side by side may not share one)."""
    return runs[0].run.config.load.warmup if len(runs) == 1 else 0.0


def _warmup_note(runs: Sequence[Shown]) -> str:
    warmup = _warmup(runs)
    if not warmup:
        return ""
    return f" Shaded: the warm-up (first {format_duration(warmup)}), not in the summary."


def _figure(title: str, svg: str, caption: str = "") -> Markup:
    cap = f"<figcaption>{escape(caption)}</figcaption>" if caption else ""
    return Markup(f'<figure class="plot"><h3>{escape(title)}</h3>{svg}{cap}</figure>')


def _control_label(c: ControlChange) -> str:
    value = c.value
    if c.action == "think_time" and isinstance(value, tuple):
        return f"think {value[0]:g}–{value[1]:g}s"
    if c.action == "rate" and value is not None:
        return f"rate {value:g}/s"
    return c.action if value is None else f"{c.action} {value}"


def _markers(runs: Sequence[Shown]) -> list[Marker]:
    several = len(runs) > 1
    out = []
    for s in runs:
        for c in s.run.controls:
            if c.at is None:
                continue
            label = _control_label(c)
            detail = f"{s.name}: {label} at {c.at:.1f} s ({c.source})"
            color = s.color if several else "#555"
            out.append(Marker(c.at, label, color, detail))
    return out


def _percentile_lines(
    runs: Sequence[Shown], pick: Callable[[SeriesPoint], Percentiles | None]
) -> list[Line]:
    """p50/p95/p99 of each run: coloured by percentile for one run; for several, coloured by
    run and dashed by percentile. A second whose ``pick`` is None is a gap."""
    lines = []
    for s in runs:
        for key in ("p50", "p95", "p99"):
            points: list[Point] = [(p.t + 0.5, _pct(pick(p), key)) for p in s.run.series]
            if len(runs) == 1:
                lines.append(Line(key, points, _PCT_COLORS[key]))
            else:
                lines.append(Line(f"{s.name} {key}", points, s.color, _PCT_DASH[key]))
    return lines


def _pct(p: Percentiles | None, key: str) -> float | None:
    return None if p is None else getattr(p, key)


def _key(runs: Sequence[Shown], styles: Sequence[tuple[str, str]]) -> list[Line] | None:
    """The legend of a chart of several runs: each run's colour, then each dash's meaning
    (six entries of "run × percentile" would not fit); None for one run (each line named)."""
    if len(runs) == 1:
        return None
    return [
        *(Line(s.name, (), s.color) for s in runs),
        *(Line(name, (), "#666", dash) for name, dash in styles),
    ]


_Pick = Callable[[SeriesPoint], Percentiles | None]
_TIMINGS: tuple[tuple[str, _Pick, str], ...] = (
    ("Latency percentiles per second", lambda p: p.latency_ms, " Gaps are seconds with no answer."),
    (
        "Time to first token (TTFT) percentiles per second",
        lambda p: p.ttft_ms,
        " Gaps are seconds with no sample (no TTFT without a stream).",
    ),
)
_STREAM_TIMINGS: tuple[tuple[str, _Pick, str], ...] = (
    (
        "Inter-token latency (ITL) percentiles per second",
        lambda p: p.itl_ms,
        " ITL: the gaps between a stream's chunks. Gaps in the line are seconds with no stream.",
    ),
    (
        "Time per output token (TPOT) percentiles per second",
        lambda p: p.tpot_ms,
        " TPOT: (end − first token) / (output tokens − 1) of each stream. Gaps in the line "
        "are seconds with no stream.",
    ),
)


def has_stream_series(run: RunRecord) -> bool:
    """Whether the run's series carries ITL/TPOT: not in a run file saved before it did, nor
    in a run that streamed nothing."""
    return any(p.itl_ms is not None or p.tpot_ms is not None for p in run.series)


def percentile_charts(runs: Sequence[Shown]) -> Markup:
    """Latency and TTFT percentiles per second; then ITL and TPOT when any run's series
    carries them (overlaid as latency is; ``whole_run_only`` tables the runs without)."""
    x_max, marks = _x_max(runs), _markers(runs)
    key = _key(runs, [(p, _PCT_DASH[p]) for p in ("p50", "p95", "p99")])
    charts = list(_TIMINGS)
    if any(has_stream_series(s.run) for s in runs):
        charts.extend(_STREAM_TIMINGS)
    out = []
    for title, pick, note in charts:
        lines = _percentile_lines(runs, pick)
        svg = time_chart(title, "ms", lines, x_max, marks, key, warmup=_warmup(runs))
        out.append(_figure(title, svg, _EACH_SECOND + note + _warmup_note(runs)))
    return Markup("".join(out))


def whole_run_only(runs: Sequence[Shown]) -> Markup:
    """ITL and TPOT of the runs whose series does not carry them (a run file saved before it
    did, a run that streamed nothing): their whole-run percentiles instead of an invented
    line. Empty when every run is charted."""
    rest = [s for s in runs if not has_stream_series(s.run)]
    if not rest:
        return Markup("")
    rows = []
    for s in rest:
        for key, name in (("itl_ms", "ITL"), ("tpot_ms", "TPOT")):
            m = s.run.summary.metrics.get(key)
            rows.append(
                [
                    f"{s.name} {name}" if len(runs) > 1 else name,
                    f"{m.count:,}",
                    ms(m.p50, m.count),
                    ms(m.p95, m.count),
                    ms(m.p99, m.count),
                ]
            )
    note = (
        "Inter-token latency (ITL) and time per output token (TPOT) over the whole run, in ms. "
        "The run file has no per-second series of them (saved before loadtui kept one, or "
        "nothing was streamed), so there is no chart over time."
    )
    body = table(["metric", "samples", "p50", "p95", "p99"], rows, "figures")
    return Markup(
        f'<figure class="plot"><h3>ITL and TPOT (whole run)</h3>{body}'
        f"<figcaption>{escape(note)}</figcaption></figure>"
    )


_Chart = tuple[str, str, Callable[[SeriesPoint], float | None]]
_LOAD: tuple[_Chart, ...] = (
    ("Requests completed per second", "req/s", lambda p: p.rps),
    ("Errors per second", "errors/s", lambda p: p.errors),
)
_USERS: _Chart = ("Users", "users", lambda p: p.users)
_OPEN: tuple[_Chart, ...] = (
    ("Arrivals per second (open loop)", "arrivals/s", lambda p: p.arrivals),
    ("Requests in flight (open loop)", "requests", lambda p: p.in_flight),
)


def load_charts(runs: Sequence[Shown]) -> Markup:
    """Requests/s, errors/s and users — arrivals/s and requests in flight for an open-loop
    run, which has no users — with every control change marked."""
    x_max, marks = _x_max(runs), _markers(runs)
    charts = list(_LOAD)
    if not all(s.run.config.load.open_loop for s in runs):
        charts.append(_USERS)
    if any(s.run.config.load.open_loop for s in runs):
        charts.extend(_OPEN)
    out = []
    for title, unit, pick in charts:
        lines = [Line(s.name, [(p.t + 0.5, pick(p)) for p in s.run.series], s.color) for s in runs]
        changes = " Dashed lines: control changes (listed below)." if marks else ""
        caption = _EACH_SECOND + changes
        svg = time_chart(title, unit, lines, x_max, marks, warmup=_warmup(runs))
        out.append(_figure(title, svg, caption + _warmup_note(runs)))
    out.extend(_trace_chart(s, x_max, marks) for s in runs if s.run.config.trace is not None)
    return Markup("".join(out))


def _trace_chart(shown: Shown, x_max: float, marks: Sequence[Marker]) -> Markup:
    """A trace replay's arrivals: those the trace intended in each second against those sent,
    and the late ones — a generator or a target that could not keep up shows here."""
    series = shown.run.series
    lines = [
        Line("intended", [(p.t + 0.5, p.target_rate or 0.0) for p in series], "#888888", "6 3"),
        Line("sent", [(p.t + 0.5, float(p.arrivals)) for p in series], shown.color),
        Line("late", [(p.t + 0.5, float(p.late)) for p in series], "#d62728"),
    ]
    title = f"Trace arrivals per second: intended vs sent ({shown.name})"
    caption = (
        "Intended: the trace's lines due in each second (their times ÷ the speed-up, moved by "
        "any pause); sent: those sent in it; late: sent more than 100 ms after their time."
    )
    chart = time_chart(title, "arrivals/s", lines, x_max, marks, key=lines)
    return _figure(title, chart, caption)


def _attainment(p: SeriesPoint) -> float | None:
    """A second's share of judged requests that met every SLO, in %; a gap when none ended."""
    if not p.slo_judged or p.slo_ok is None:
        return None
    return 100.0 * p.slo_ok / p.slo_judged


_SLO_CHARTS: tuple[_Chart, ...] = (
    ("Goodput (requests/s meeting every SLO)", "req/s", lambda p: p.slo_ok),
    ("SLO attainment per second", "%", _attainment),
)


def slo_charts(runs: Sequence[Shown]) -> Markup:
    """Goodput and attainment over time, for the runs that had SLOs (series ``slo_ok`` and
    ``slo_judged``: docs/metrics.md, "SLOs and goodput")."""
    with_slo = [s for s in runs if s.run.summary.slo is not None]
    x_max, marks = _x_max(runs), _markers(runs)
    out = []
    for title, unit, pick in _SLO_CHARTS:
        lines = [
            Line(s.name, [(p.t + 0.5, pick(p)) for p in s.run.series], s.color) for s in with_slo
        ]
        svg = time_chart(title, unit, lines, x_max, marks, warmup=_warmup(runs))
        out.append(_figure(title, svg, _EACH_SECOND + _warmup_note(runs)))
    return Markup("".join(out))


def _curve(run: RunRecord, metric: str) -> tuple[list[Point], bool]:
    """(percentile position, ms) points, and whether they came from the exact histogram."""
    encoded = run.histograms.whole.get(metric) if run.histograms is not None else None
    if encoded:
        h = Histogram.decode(encoded)
        if h.count:
            return [(percentile_x(p), h.percentile(p)) for p in CURVE_PERCENTILES], True
    m = run.summary.metrics.get(metric)
    if not m.count:
        return [], False
    pairs = (
        (0.0, m.min),
        (50.0, m.p50),
        (90.0, m.p90),
        (95.0, m.p95),
        (99.0, m.p99),
        (99.9, m.p999),
    )
    return [(percentile_x(p), v) for p, v in pairs], False


def distribution_chart(runs: Sequence[Shown]) -> Markup:
    """Latency (and TTFT) by percentile, on a log-scale percentile axis."""
    lines: list[Line] = []
    sources: list[tuple[str, bool]] = []
    for s in runs:
        for metric, name, dash in (("latency_ms", "latency", ""), ("ttft_ms", "TTFT", "7 3")):
            points, exact = _curve(s.run, metric)
            if not points:
                continue
            label = name if len(runs) == 1 else f"{s.name} {name}"
            color = (
                ("#1f77b4" if metric == "latency_ms" else "#ff7f0e") if len(runs) == 1 else s.color
            )
            lines.append(Line(label, points, color, dash))
            sources.append((s.name, exact))
    title = "Latency distribution by percentile"
    from_hist = sorted({n for n, e in sources if e})
    approx = sorted({n for n, e in sources if not e})
    caption = []
    if from_hist:
        caption.append(f"From the exact histograms ({', '.join(from_hist)}).")
    if approx:
        caption.append(
            f"From the summary's min, p50, p90, p95, p99 and p99.9 only ({', '.join(approx)}: "
            "this run file has no histograms), joined by straight lines."
        )
    key = _key(runs, [("latency", ""), ("TTFT", "7 3")])
    return _figure(title, percentile_chart(title, "ms", lines, key), " ".join(caption))
