"""A live run as Prometheus's text exposition format: what ``/metrics`` serves.

Built in the parent, on the thread that owns the coordinator, from the exactly merged
aggregate of every worker's snapshots (``Coordinator.totals``) — never in a worker, so the
endpoint costs the request loop nothing. The format (text 0.0.4) is written here rather than
through ``prometheus_client``: it is a few lines of escaping and number formatting, and the
package would be a runtime dependency for them; the tests read the output with
``prometheus_client``'s own parser. The series and their meaning: docs/prometheus.md.

Latency, TTFT, ITL and TPOT are *histograms* (fixed buckets in seconds, cumulative counts
taken from the merged HDR histograms), not summaries: buckets add across runs and instances
and ``rate()`` gives any window's percentiles (``histogram_quantile``), where a summary's
quantiles would be the whole run's only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from loadtui.engine.coordinator import Coordinator
from loadtui.metrics.histogram import Histogram
from loadtui.model.slo import MISS_PREFIX
from loadtui.model.snapshot import WorkerSnapshot

__all__ = ["BUCKETS_S", "CONTENT_TYPE", "HISTOGRAMS", "RunInfo", "exposition"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

BUCKETS_S = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    120.0,
    300.0,
)
"""Bucket bounds in seconds, for every histogram: from an ITL of a millisecond to a five-minute
answer (a value above the last is counted in ``+Inf`` only)."""

HISTOGRAMS = (
    ("loadtui_request_latency_seconds", "latency_ms", "Request latency, from the intended send"),
    ("loadtui_ttft_seconds", "ttft_ms", "Time to first token (streamed answers)"),
    ("loadtui_itl_seconds", "itl_ms", "Inter-token latency, between streamed chunks"),
    ("loadtui_tpot_seconds", "tpot_ms", "Time per output token after the first"),
)
"""(series name, the run's histogram, help text)."""


@dataclass(frozen=True, slots=True)
class RunInfo:
    """What names the run in ``loadtui_run_info``: its id, preset and target (redacted)."""

    run_id: str = ""
    preset: str = ""
    target: str = ""


def exposition(coord: Coordinator, info: RunInfo, finished: bool = False) -> str:
    """The run so far (or, ``finished``, as saved) in the text format. Call on the thread that
    owns ``coord``."""
    totals = coord.totals
    counters = totals.counters
    latest = list(coord.latest.values())
    elapsed = coord.elapsed if coord.ended_at is None else coord.ended_at
    out: list[str] = []
    _family(out, "loadtui_run_info", "gauge", "The run served (value 1)", [(_info(info), 1)])
    _gauge(out, "loadtui_run_elapsed_seconds", "Seconds since the load started", elapsed)
    _gauge(out, "loadtui_run_finished", "1 once the run has ended and been saved", int(finished))
    _requests(out, counters["requests"], {k: s.requests for k, s in totals.labels.items()})
    _family(
        out,
        "loadtui_errors_total",
        "counter",
        "Failed requests by error class (docs/metrics.md)",
        [({"class": k}, v) for k, v in sorted(totals.errors.items())],
    )
    _family(
        out,
        "loadtui_label_errors_total",
        "counter",
        "Failed requests by request label",
        [({"label": k}, s.errors) for k, s in sorted(totals.labels.items())],
    )
    for name, key, text in (
        ("loadtui_output_tokens_total", "output_tokens", "Output tokens received"),
        ("loadtui_input_tokens_total", "input_tokens", "Input tokens sent, as the server counts"),
        ("loadtui_cancelled_total", "cancelled", "Requests cancelled when the run ended"),
        ("loadtui_dropped_total", "dropped", "Open loop: arrivals never sent"),
    ):
        _family(out, name, "counter", text, [({}, counters[key])])
    if "slo_judged" in counters:
        _slo_families(out, counters)
    _load_gauges(out, coord, latest)
    for name, key, text in HISTOGRAMS:
        _histogram(out, name, text + ", seconds", totals.hist[key])
    return "\n".join(out) + "\n"


def _slo_families(out: list[str], counters: Mapping[str, int]) -> None:
    """A run with SLOs: requests judged, those that met every SLO (goodput is their rate) and
    their tokens, and each SLO's misses (docs/metrics.md, "SLOs and goodput")."""
    for name, key, text in (
        ("loadtui_slo_judged_total", "slo_judged", "Requests judged against the SLOs"),
        ("loadtui_slo_ok_total", "slo_ok", "Requests that met every SLO (goodput)"),
        ("loadtui_slo_ok_tokens_total", "slo_ok_tokens", "Output tokens of those requests"),
    ):
        _family(out, name, "counter", text, [({}, counters[key])])
    _family(
        out,
        "loadtui_slo_misses_total",
        "counter",
        "Requests that missed an SLO, by SLO",
        [
            ({"slo": key.removeprefix(MISS_PREFIX)}, v)
            for key, v in sorted(counters.items())
            if key.startswith(MISS_PREFIX)
        ],
    )


def _load_gauges(out: list[str], coord: Coordinator, latest: list[WorkerSnapshot]) -> None:
    _gauge(out, "loadtui_users", "Virtual users running", sum(s.users for s in latest))
    _gauge(out, "loadtui_target_users", "Users the load shape asks for now", coord.target_users)
    rate = coord.target_rate
    _family(
        out,
        "loadtui_target_rate_per_second",
        "gauge",
        "Open loop: the arrival rate the shape asks for now",
        [({}, rate)] if rate is not None else [],
    )
    _gauge(out, "loadtui_in_flight", "Requests in flight", sum(s.in_flight for s in latest))
    _gauge(out, "loadtui_workers", "Worker processes", coord.n)
    cpu = max((s.cpu_percent for s in latest), default=0.0)
    lag = max((s.loop_lag_ms for s in latest), default=0.0) / 1000.0
    _gauge(out, "loadtui_generator_cpu_percent", "The busiest worker's CPU percent", cpu)
    _gauge(out, "loadtui_generator_loop_lag_seconds", "Worst worker event-loop lag", lag)


def _requests(out: list[str], total: int, by_label: Mapping[str, int]) -> None:
    """Per label; requests without a label (a run of one kind has none) under ``label=""``,
    which Prometheus reads as no label: the series always add up to the run's requests."""
    samples: list[tuple[dict[str, str], float]] = [
        ({"label": k}, v) for k, v in sorted(by_label.items())
    ]
    rest = total - sum(by_label.values())
    if rest or not samples:
        samples.insert(0, ({}, rest))
    _family(out, "loadtui_requests_total", "counter", "Completed requests (ok + errors)", samples)


def _histogram(out: list[str], name: str, text: str, hist: Histogram) -> None:
    below, sum_ms = hist.cumulative(tuple(b * 1000.0 for b in BUCKETS_S))
    out.append(f"# HELP {name} {_help(text)}")
    out.append(f"# TYPE {name} histogram")
    for bound, count in zip(BUCKETS_S, below, strict=True):
        out.append(f'{name}_bucket{{le="{_number(bound)}"}} {count}')
    out.append(f'{name}_bucket{{le="+Inf"}} {hist.count}')
    out.append(f"{name}_sum {_number(sum_ms / 1000.0)}")
    out.append(f"{name}_count {hist.count}")


def _gauge(out: list[str], name: str, text: str, value: float) -> None:
    _family(out, name, "gauge", text, [({}, value)])


def _family(
    out: list[str],
    name: str,
    kind: str,
    text: str,
    samples: Iterable[tuple[Mapping[str, str], float | None]],
) -> None:
    out.append(f"# HELP {name} {_help(text)}")
    out.append(f"# TYPE {name} {kind}")
    for labels, value in samples:
        if value is not None:
            out.append(f"{name}{_labels(labels)} {_number(value)}")


def _info(info: RunInfo) -> dict[str, str]:
    return {"id": info.run_id, "preset": info.preset, "target": info.target}


def _labels(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
    return "{" + inner + "}"


def _escape(value: str) -> str:
    """A label value as the format wants it: backslash, double quote and newline escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _number(value: float) -> str:
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))
