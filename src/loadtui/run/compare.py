"""Runs side by side: their configuration, what makes them unlike, and each later run's figures
against the first with a verdict only where the difference is larger than the noise.

Written once for every place that compares runs (``loadtui compare``, the app's compare screen,
the HTML report). Run records in, plain data out (``model/comparison.py``); the noise rules are
``metrics/noise.py``'s.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

from loadtui.metrics.noise import compare_error_rates, compare_percentiles, compare_rates
from loadtui.metrics.runhist import DecodedHistograms, decode_run
from loadtui.model.comparison import (
    Comparison,
    ComparisonRow,
    ConfigRow,
    Noise,
    RunComparison,
)
from loadtui.model.record import PercentileName, RunRecord, RunSummary
from loadtui.model.slo import slos_of
from loadtui.run.describe import (
    describe_mock,
    describe_requests,
    describe_search,
    describe_streaming,
    describe_target,
    duration_text,
    load_size,
)
from loadtui.run.units import fmt_ms

__all__ = ["ComparisonRow", "compare", "compare_runs", "config_rows", "run_value"]


_PERCENTILES: tuple[tuple[PercentileName, float], ...] = (
    ("p50", 50.0),
    ("p95", 95.0),
    ("p99", 99.0),
)
_TIMINGS = (("latency_ms", "latency"), ("ttft_ms", "TTFT"), ("itl_ms", "ITL"), ("tpot_ms", "TPOT"))
_NO_HISTOGRAMS = Noise(note="no histograms: noise not judged")
_A_COUNT = Noise(note="a count: it depends on the run's length")
_NO_DIFFERENCE = Noise("same", "", "no difference")


def _judge(a: float | None, b: float | None, noise: Callable[[], Noise]) -> Noise:
    """``noise()``, unless the figures are equal: no difference is larger than any noise (a
    run compared with itself is the same everywhere, whatever it stored)."""
    return _NO_DIFFERENCE if a is not None and a == b else noise()


def _metric(summary: RunSummary, name: str, key: PercentileName) -> float | None:
    """A percentile of a metric, None when the run had no sample of it."""
    m = summary.metrics.get(name)
    return m.percentile(key) if m.count else None


def _per_second(run: RunRecord, field: str) -> list[float]:
    """A rate's per-second values over the seconds the load ran whole (the last, partial second
    and the drain after the load ended are left out)."""
    points = list(run.series)
    if run.load_ended_s is not None:
        points = [p for p in points if p.t + 1 <= run.load_ended_s]
    else:
        points = points[:-1]
    return [float(getattr(p, field) or 0) for p in points]  # slo_ok: None in old points


def _rates(a: RunRecord, b: RunRecord) -> list[ComparisonRow]:
    sa, sb = a.summary, b.summary
    return [
        ComparisonRow("requests", sa.requests, sb.requests, "", None, _A_COUNT),
        ComparisonRow(
            "req/s",
            sa.rps,
            sb.rps,
            "/s",
            False,
            _judge(
                sa.rps,
                sb.rps,
                lambda: compare_rates(sa.rps, sb.rps, _per_second(a, "rps"), _per_second(b, "rps")),
            ),
        ),
        ComparisonRow(
            "error rate",
            sa.error_rate,
            sb.error_rate,
            "",
            True,
            _judge(
                sa.error_rate,
                sb.error_rate,
                lambda: compare_error_rates(
                    sa.errors_total, sa.requests, sb.errors_total, sb.requests
                ),
            ),
        ),
        ComparisonRow(
            "output tokens/s",
            sa.output_tokens_per_s,
            sb.output_tokens_per_s,
            "/s",
            False,
            _judge(
                sa.output_tokens_per_s,
                sb.output_tokens_per_s,
                lambda: compare_rates(
                    sa.output_tokens_per_s,
                    sb.output_tokens_per_s,
                    _per_second(a, "output_tokens"),
                    _per_second(b, "output_tokens"),
                ),
            ),
        ),
    ]


def _slo_rows(a: RunRecord, b: RunRecord) -> list[ComparisonRow]:
    """Attainment and goodput when both runs had SLOs: attainment judged as the error rate is
    (two proportions: the requests that missed), goodput as a rate (its per-second values)."""
    sa, sb = a.summary.slo, b.summary.slo
    if sa is None or sb is None:
        return []
    attainment = _judge(
        sa.attainment,
        sb.attainment,
        lambda: compare_error_rates(sa.judged - sa.ok, sa.judged, sb.judged - sb.ok, sb.judged),
    )
    goodput = _judge(
        sa.goodput_rps,
        sb.goodput_rps,
        lambda: compare_rates(
            sa.goodput_rps, sb.goodput_rps, _per_second(a, "slo_ok"), _per_second(b, "slo_ok")
        ),
    )
    return [
        ComparisonRow("SLO attainment", sa.attainment, sb.attainment, "", False, attainment),
        ComparisonRow("goodput", sa.goodput_rps, sb.goodput_rps, "/s", False, goodput),
    ]


def _decoded(run: RunRecord) -> DecodedHistograms | None:
    return None if run.histograms is None else decode_run(run.histograms)


def _percentile_noise(
    ha: DecodedHistograms | None, hb: DecodedHistograms | None, name: str, pct: float
) -> Noise:
    if ha is None or hb is None:
        return _NO_HISTOGRAMS
    return compare_percentiles(ha.get(name), hb.get(name), pct, lower_is_better=True)


def compare_runs(a: RunRecord, b: RunRecord) -> list[ComparisonRow]:
    """Run ``b``'s figures against ``a``'s (the baseline), each with its noise judgement."""
    rows = _rates(a, b) + _slo_rows(a, b)
    ha, hb = _decoded(a), _decoded(b)
    for name, label in _TIMINGS:
        for key, pct in _PERCENTILES:
            va, vb = _metric(a.summary, name, key), _metric(b.summary, name, key)
            noise = _judge(va, vb, partial(_percentile_noise, ha, hb, name, pct))
            rows.append(ComparisonRow(f"{label} {key}", va, vb, "ms", True, noise))
    return rows


def _config_values(run: RunRecord) -> dict[str, str]:
    config = run.config
    return {
        "preset": run.preset or config.preset or "custom",
        "target": describe_target(run.target),
        "mock": describe_mock(run.target, config),
        "model": run.target.model or config.target.model,
        "mode": "capacity search" if config.search else config.load.mode,
        "load": describe_search(config.search) if config.search else load_size(config.load),
        "duration": duration_text(config.load),
        "streaming": describe_streaming(config),
        "requests": describe_requests(config),
    }


def config_rows(runs: Sequence[RunRecord]) -> list[ConfigRow]:
    """Each configuration figure (preset, target, mock timing, model, mode, load, duration,
    streaming, request kinds) across the runs, baseline first."""
    values = [_config_values(run) for run in runs]
    if any(run.config.slo for run in runs):  # runs judged by other SLOs are not alike
        for v, run in zip(values, runs, strict=True):
            v["SLOs"] = " ".join(s.text for s in slos_of(run.config.slo)) or "none"
    return [ConfigRow(key, tuple(v[key] for v in values)) for key in values[0]]


def compare(runs: Sequence[RunRecord]) -> Comparison:
    """Two or more runs: their configuration, what differs, each later run against the first."""
    if len(runs) < 2:
        raise ValueError("compare needs two runs or more")
    config = config_rows(runs)
    base = runs[0]
    return Comparison(
        runs=tuple(r.id for r in runs),
        config=tuple(config),
        unlike=tuple(row.label for row in config if row.differs),
        against_baseline=tuple(
            RunComparison(base.id, run.id, tuple(compare_runs(base, run))) for run in runs[1:]
        ),
    )


def run_value(v: float | None, row: ComparisonRow, signed: bool = False) -> str:
    """One figure of a comparison row as ``loadtui compare`` and the report write it (ms
    rows without their unit: the tables say it)."""
    if v is None:
        return "-"
    sign = ("+" if v > 0 else "-" if v < 0 else "±") if signed else ""
    a = abs(v)
    if row.unit == "ms":
        return sign + fmt_ms(a)
    if row.unit == "/s":
        return f"{sign}{a:,.1f}/s"
    if row.label in ("error rate", "SLO attainment"):
        return f"{sign}{a:.2%}"
    return f"{sign}{a:,.0f}"
