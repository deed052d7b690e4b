"""The typed run record: what a run produced, as plain frozen data every layer reads by name.

Metrics and the coordinator fill these types; the run service assembles a ``RunRecord``; only
``loadtui.storage`` turns one into JSON and back (docs/run-format.md is the JSON's schema, and
old files load through it). The console, the app, compare and every output after them read
attributes, never string keys, so a renamed field is a type error rather than a blank cell.

Maps (``errors``, ``by_label``, ...) are ordinary dicts typed as ``Mapping``: treat them as
read-only. Times are milliseconds where a name ends in ``_ms`` and seconds where it ends in
``_s``; rates are per second.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from loadtui.model.controls import ControlChange
from loadtui.model.plan import MockSpec, RunConfig
from loadtui.model.search import SearchView
from loadtui.model.servermetrics import ServerSeries

__all__ = [
    "METRICS",
    "SCHEMA_VERSION",
    "STATUSES",
    "CheckSummary",
    "ErrorSample",
    "GeneratorHealth",
    "LabelSummary",
    "LostWorker",
    "MetricSummary",
    "Metrics",
    "OverheadSummary",
    "PercentileName",
    "Percentiles",
    "RunHistograms",
    "RunRecord",
    "RunResult",
    "RunStatus",
    "RunSummary",
    "SeriesPoint",
    "SloSummary",
    "TargetInfo",
    "ThresholdResult",
    "TokenSource",
    "WorkerClock",
    "run_status",
]

SCHEMA_VERSION = 1
"""The run file's ``schema_version``; storage refuses other versions."""

RunStatus = Literal["completed", "stopped", "interrupted", "failed", "running"]
"""``running`` is a checkpoint (docs/run-format.md)."""
STATUSES: tuple[RunStatus, ...] = ("completed", "stopped", "interrupted", "failed", "running")


def run_status(text: str) -> RunStatus:
    """``text`` as a ``RunStatus``; ValueError when it is not one."""
    for status in STATUSES:
        if text == status:
            return status
    raise ValueError(f"not a run status: {text!r}")


METRICS = (
    "latency_ms",
    "latency_actual_ms",
    "ttft_ms",
    "itl_ms",
    "tpot_ms",
    "headers_ms",
    "send_lag_ms",
)
"""Every histogram a run keeps, in the order tables show them (formulas: docs/metrics.md)."""

PercentileName = Literal["p50", "p90", "p95", "p99", "p999"]


@dataclass(frozen=True, slots=True)
class MetricSummary:
    """One metric over a whole run (or label), in ms; zeros with ``count`` 0 when no samples."""

    count: int = 0
    mean: float = 0.0
    min: float = 0.0
    max: float = 0.0
    p50: float = 0.0
    p90: float = 0.0
    p95: float = 0.0
    p99: float = 0.0
    p999: float = 0.0

    def percentile(self, name: PercentileName) -> float:
        """The value of ``p50`` … ``p999`` by name (for tables that list several)."""
        value: float = getattr(self, name)
        return value


@dataclass(frozen=True, slots=True)
class Percentiles:
    """A per-second point's percentiles, in ms; None where the second had no sample (no TTFT
    without a streamed answer) — drawn as a gap, never as a zero."""

    p50: float | None = None
    p95: float | None = None
    p99: float | None = None


@dataclass(frozen=True, slots=True)
class Metrics:
    """Every histogram's summary (the names in ``METRICS``)."""

    latency_ms: MetricSummary = field(default_factory=MetricSummary)
    """From the intended send time (equal to the actual one in closed loop)."""
    latency_actual_ms: MetricSummary = field(default_factory=MetricSummary)
    ttft_ms: MetricSummary = field(default_factory=MetricSummary)
    itl_ms: MetricSummary = field(default_factory=MetricSummary)
    tpot_ms: MetricSummary = field(default_factory=MetricSummary)
    headers_ms: MetricSummary = field(default_factory=MetricSummary)
    send_lag_ms: MetricSummary = field(default_factory=MetricSummary)

    def get(self, name: str) -> MetricSummary:
        """A metric by its name in ``METRICS`` (thresholds and tables name them)."""
        if name not in METRICS:
            raise KeyError(name)
        value: MetricSummary = getattr(self, name)
        return value


@dataclass(frozen=True, slots=True)
class LabelSummary:
    """One request label's share of the run (mix entry, ``direct``/``proxied``, batch step)."""

    requests: int = 0
    errors: int = 0
    latency_ms: MetricSummary = field(default_factory=MetricSummary)
    ttft_ms: MetricSummary = field(default_factory=MetricSummary)
    itl_ms: MetricSummary = field(default_factory=MetricSummary)
    """Empty for the label's non-streamed requests, and in run files from before labels kept
    ITL and TPOT."""
    tpot_ms: MetricSummary = field(default_factory=MetricSummary)


@dataclass(frozen=True, slots=True)
class CheckSummary:
    passed: int = 0
    failed: int = 0
    pass_rate: float = 0.0


@dataclass(frozen=True, slots=True)
class OverheadSummary:
    """Proxy overhead: proxied − direct at p50/p95/p99, in ms (overhead mode only)."""

    pairs: int = 0
    latency_ms: Percentiles | None = None
    ttft_ms: Percentiles | None = None


@dataclass(frozen=True, slots=True)
class TokenSource:
    """How many requests' token counts came from server usage vs counting content chunks."""

    usage: int = 0
    counted_chunks: int = 0


@dataclass(frozen=True, slots=True)
class SloSummary:
    """Per-request SLOs over the run (docs/metrics.md, "SLOs and goodput")."""

    judged: int = 0
    """Finished requests, failed ones included."""
    ok: int = 0
    """Requests that met every SLO."""
    ok_tokens: int = 0
    """Their output tokens."""
    attainment: float = 0.0
    """``ok / judged``."""
    goodput_rps: float = 0.0
    goodput_tokens_per_s: float = 0.0
    misses: Mapping[str, int] = field(default_factory=dict)
    """Per SLO name (``ttft``, ``itl``, ``tpot``, ``latency``): requests that missed it."""

    def miss_share(self, name: str) -> float:
        """The share of judged requests that missed SLO ``name``."""
        return self.misses.get(name, 0) / self.judged if self.judged else 0.0

    @property
    def worst(self) -> str | None:
        """The SLO missed most often (None: none was missed)."""
        missed = [(count, name) for name, count in self.misses.items() if count]
        return max(missed, key=lambda m: m[0])[1] if missed else None


@dataclass(frozen=True, slots=True)
class RunSummary:
    """The whole run's figures (``summary`` in the run file)."""

    requests: int = 0
    """Completed requests (ok + errors)."""
    ok: int = 0
    errors_total: int = 0
    errors: Mapping[str, int] = field(default_factory=dict)
    """Error class → count (classes in docs/metrics.md)."""
    error_reasons: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    status_codes: Mapping[int | str, int] = field(default_factory=dict)
    """HTTP status → count; a key that is not a number (a hand-edited or foreign run file) is
    kept as the file's text, shown as typed, never dropped."""
    cancelled: int = 0
    dropped: int = 0
    late: int = 0
    error_rate: float = 0.0
    success_rate: float = 0.0
    duration_s: float = 0.0
    rps: float = 0.0
    output_tokens: int = 0
    input_tokens: int = 0
    output_tokens_per_s: float = 0.0
    token_source: TokenSource = field(default_factory=TokenSource)
    bytes_received: int = 0
    metrics: Metrics = field(default_factory=Metrics)
    by_label: Mapping[str, LabelSummary] = field(default_factory=dict)
    checks: Mapping[str, CheckSummary] = field(default_factory=dict)
    overhead: OverheadSummary | None = None
    slo: SloSummary | None = None
    """Goodput and attainment; None when the run had no SLOs."""


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    """One second of the run."""

    t: int
    users: int = 0
    target_users: int | None = None
    target_rate: float | None = None
    in_flight: int = 0
    rps: int = 0
    """Requests completed in this second."""
    arrivals: int = 0
    dropped: int = 0
    late: int = 0
    errors: int = 0
    output_tokens: int = 0
    latency_ms: Percentiles = field(default_factory=Percentiles)
    ttft_ms: Percentiles = field(default_factory=Percentiles)
    itl_ms: Percentiles | None = None
    """Inter-token latency this second; None when no streamed answer gave a gap between chunks
    (and in run files saved before the series kept it)."""
    tpot_ms: Percentiles | None = None
    """Time per output token this second; None as for ``itl_ms``."""
    slo_ok: int | None = None
    """Requests finished this second that met every SLO; None when the run has no SLOs."""
    slo_judged: int | None = None
    """Requests judged this second (attainment = ``slo_ok / slo_judged``)."""


@dataclass(frozen=True, slots=True)
class LostWorker:
    worker: int
    at_s: float
    reason: str


@dataclass(frozen=True, slots=True)
class WorkerClock:
    """How one worker's clock stood to the coordinator's and how on time its load began."""

    worker: int
    clock_offset_ms: float
    """Its wall clock minus the coordinator's (a round trip's midpoint; error ≤ ``rtt_ms`` / 2)."""
    rtt_ms: float
    """The best of the round trips that measured the offset."""
    start_skew_ms: float | None
    """When its load began minus the intended start, on the coordinator's clock; None if it
    never began (stopped first, or lost). Where it ran is ``GeneratorHealth.nodes``."""


@dataclass(frozen=True, slots=True)
class GeneratorHealth:
    """The load generator's own health (docs/metrics.md, "Generator health")."""

    workers: int = 0
    cpu_percent_max: float = 0.0
    cpu_percent_mean: float = 0.0
    loop_lag_ms_max: float = 0.0
    saturated_seconds: int = 0
    in_flight_cap_seconds: int = 0
    workers_lost: int = 0
    lost_workers: tuple[LostWorker, ...] = ()
    warnings: tuple[str, ...] = ()
    target_rate_mean: float | None = None
    """Open loop only: the mean target arrival rate."""
    achieved_rate: float | None = None
    """Open loop only: arrivals / load time."""
    worker_clocks: tuple[WorkerClock, ...] = ()
    """Each worker's clock offset and start skew (empty in files written before them)."""
    nodes: tuple[str, ...] = ()
    """Where each worker ran, by index, when not on this machine (Ray actors: host and IP)."""


@dataclass(frozen=True, slots=True)
class ThresholdResult:
    metric: str
    expression: str
    actual: float | None
    passed: bool
    reason: str | None = None
    """Why ``actual`` is None (no samples), or why it was not judged."""
    skipped: bool = False
    """Not judged (a streaming metric in a run without streams); counts as passed."""
    aborted: bool = False
    """This threshold (``abort_on_fail``) failed during the run and stopped it; ``reason`` says
    when. It counts as failed whatever the final figures say."""


@dataclass(frozen=True, slots=True)
class TargetInfo:
    """What was actually hit (URLs redacted; ``api_key`` is ``"***"`` or None, never a key)."""

    url: str
    embedded_mock: bool = False
    direct_url: str | None = None
    mock: MockSpec | None = None
    model: str | None = None
    api_key: str | None = None


@dataclass(frozen=True, slots=True)
class RunHistograms:
    """The run's exact histograms, each in HdrHistogram's standard compressed encoding
    (``loadtui.metrics.histogram.Histogram.decode`` reads one): any percentile can be computed
    later and runs merge exactly. Files from before they were stored have none."""

    whole: Mapping[str, bytes] = field(default_factory=dict)
    """Metric name (``METRICS``) → encoded histogram over the whole run."""
    by_label: Mapping[str, Mapping[str, bytes]] = field(default_factory=dict)
    """Label → metric name → encoded histogram (the metrics a label keeps)."""


@dataclass(frozen=True, slots=True)
class ErrorSample:
    """One failed response kept as an example of its error class (the first few per class):
    what the target actually said, redacted, its body cut to a few KB."""

    error_class: str
    at_s: float
    """Seconds since the run started."""
    status: int | None = None
    """HTTP status, None when no response came (a connect error, a timeout)."""
    label: str | None = None
    reason: str | None = None
    """The exception or check that classed it, one line."""
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str = ""
    body_truncated: bool = False


@dataclass(frozen=True, slots=True)
class RunResult:
    """What the coordinator hands the run service when the load has ended."""

    load_ended_s: float | None
    controls: tuple[ControlChange, ...]
    series: tuple[SeriesPoint, ...]
    summary: RunSummary
    generator: GeneratorHealth
    histograms: RunHistograms | None = None
    """The merged histograms the summary was computed from (encoded)."""
    error_samples: tuple[ErrorSample, ...] = ()
    """The first few failed responses of each class (not yet redacted: the session does it)."""


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One run, as saved (docs/run-format.md)."""

    id: str
    status: RunStatus
    started_at: str
    """ISO 8601, UTC."""
    ended_at: str
    config: RunConfig
    target: TargetInfo
    summary: RunSummary
    generator: GeneratorHealth = field(default_factory=GeneratorHealth)
    series: tuple[SeriesPoint, ...] = ()
    controls: tuple[ControlChange, ...] = ()
    thresholds: tuple[ThresholdResult, ...] = ()
    load_ended_s: float | None = None
    error: str | None = None
    preset: str | None = None
    replay_of: str | None = None
    loadtui_version: str = ""
    peak_users: int | None = None
    """The most users any second had; None in files from before it was recorded."""
    config_error: str | None = None
    """Why this run's saved config cannot be run again (a newer version's key, a value out of
    range): ``config`` then holds what of it validated, for showing; a replay refuses it."""
    histograms: RunHistograms | None = None
    """None in files from before histograms were stored: figures come from ``summary``."""
    error_samples: tuple[ErrorSample, ...] = ()
    search: SearchView | None = None
    """A capacity search's steps and result (docs/capacity.md); None for a plain run."""
    server: ServerSeries | None = None
    """What the server's own metrics said each second (``--server-metrics``); None when
    they were not scraped (and in files from before they were)."""
    schema_version: int = SCHEMA_VERSION

    @property
    def passed(self) -> bool:
        """Every threshold passed (or was not judged)."""
        return all(t.passed for t in self.thresholds)

    @property
    def aborted_by(self) -> ThresholdResult | None:
        """The threshold (``abort_on_fail``) that stopped the run early, if one did."""
        return next((t for t in self.thresholds if t.aborted), None)
