"""Interval statistics: recorded in a worker, drained into snapshots, merged by the coordinator.

``Recorder`` is the hot-path side: plain attribute increments and histogram records, no
allocation per request beyond what HdrHistogram does. ``Aggregate`` is the merging side: it adds
snapshots (or other aggregates) exactly, and produces the typed ``RunSummary`` that run files,
the console and the app read (loadtui.model.record).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping

from loadtui.metrics.formulas import (
    error_rate,
    goodput_per_s,
    output_tokens_per_s,
    overhead_ms,
    pass_rate,
    slo_attainment,
)
from loadtui.metrics.histogram import Histogram
from loadtui.metrics.runhist import LABEL_METRICS, encode_run
from loadtui.metrics.samples import SampleBook
from loadtui.model.outcomes import reason_text
from loadtui.model.record import (
    METRICS,
    CheckSummary,
    LabelSummary,
    Metrics,
    MetricSummary,
    OverheadSummary,
    Percentiles,
    RunHistograms,
    RunSummary,
    SloSummary,
    TokenSource,
)
from loadtui.model.slo import MISS_PREFIX, SloJudge
from loadtui.model.snapshot import WorkerSnapshot

__all__ = ["HISTOGRAMS", "REASONS_PER_CLASS", "Aggregate", "LabelStats", "Recorder", "add_reasons"]

HISTOGRAMS = METRICS
"""The record's ``METRICS``: latency_ms is measured from the intended send time (equal to the actual one in closed loop);
latency_actual_ms from the actual send; send_lag_ms = actual − intended send time (open loop)."""

REASONS_PER_CLASS = 5
"""Distinct error reasons kept per error class: the first few name the fault; more would only
grow every snapshot and the run file."""

COUNTERS = (
    "requests",
    "ok",
    "cancelled",
    "output_tokens",
    "input_tokens",
    "tokens_from_usage",
    "tokens_counted",
    "bytes",
    "arrivals",
    "dropped",
    "late",
)
"""The recorder's counters (its attributes of the same names) and a snapshot's ``counters`` keys.
Open loop: each scheduled arrival is either sent (``arrivals``; it then ends in ``requests`` or
``cancelled``) or ``dropped`` (the backlog was full, it fell more than a second behind, or the
run ended first); ``late``: sent more than ``LATE_MS`` after its intended time."""


class _Unfilled(Histogram):
    """The empty histogram an aggregate reads where nothing was added yet (``Aggregate.hist``,
    a label's in ``LabelStats(lazy=True)``): one shared by every aggregate, so a parent holding
    ~15 aggregates and 20 labels makes no 188 KB array it does not fill (a non-streamed label
    never fills ITL or TPOT). Writing into it is refused rather than felt by all of them."""

    __slots__ = ()

    def record_ms(self, ms: float) -> None:
        raise TypeError(
            "an aggregate's histogram is filled by Aggregate.hist.add or LabelStats.merge"
        )

    def merge(self, other: Histogram) -> None:
        raise TypeError(
            "an aggregate's histogram is filled by Aggregate.hist.add or LabelStats.merge"
        )


_UNFILLED = _Unfilled()


_SLOTS = ("latency", "ttft", "itl", "tpot")
"""``LabelStats``' histogram attributes in ``LABEL_METRICS`` order."""


class LabelStats:
    """One request label's share of an interval (or of a whole run, once merged): its counts,
    and its latency, TTFT, ITL and TPOT histograms (each recorded as the whole run's is)."""

    __slots__ = ("errors", "itl", "latency", "requests", "tpot", "ttft")

    def __init__(self, lazy: bool = False) -> None:
        """``lazy``: an aggregate's label, merged into and never recorded into: its histograms
        are ``_UNFILLED`` until their first sample. A worker's (``Recorder.label``) are real:
        ``record`` and ``Recorder.itl_of`` write into them."""
        self.requests = 0
        self.errors = 0
        self.latency = _UNFILLED if lazy else Histogram()
        self.ttft = _UNFILLED if lazy else Histogram()
        self.itl = _UNFILLED if lazy else Histogram()
        """Every gap of the label's streams. In a worker, ``read_stream`` records a labelled
        stream's gaps here only, and ``Recorder.drain`` adds them to the run's ITL."""
        self.tpot = _UNFILLED if lazy else Histogram()
        """One per successful stream of two tokens or more (``formulas.tpot_ms``)."""

    def record(self, latency_ms: float, ok: bool, ttft_ms: float | None = None) -> None:
        self.requests += 1
        if not ok:
            self.errors += 1
        self.latency.record_ms(latency_ms)
        if ttft_ms is not None:
            self.ttft.record_ms(ttft_ms)

    def merge(
        self, requests: int, errors: int, *hists: Histogram | None, adopt: bool = False
    ) -> None:
        """Add counts and the histograms in ``LABEL_METRICS`` order (latency, TTFT, ITL, TPOT;
        None: no samples). ``adopt``: the histograms are the caller's to give (just decoded),
        so an unfilled one takes the histogram itself rather than a copy."""
        self.requests += requests
        self.errors += errors
        for name, more in zip(_SLOTS, hists, strict=False):
            if more is None or not more.count:
                continue
            mine: Histogram = getattr(self, name)
            if mine is _UNFILLED:
                if adopt:
                    setattr(self, name, more)
                    continue
                mine = Histogram()
                setattr(self, name, mine)
            mine.merge(more)

    def histograms(self) -> tuple[Histogram, Histogram, Histogram, Histogram]:
        """The label's histograms in ``LABEL_METRICS`` order."""
        return (self.latency, self.ttft, self.itl, self.tpot)

    def encoded(self) -> tuple[int, int, bytes, bytes, bytes, bytes]:
        """A snapshot's entry: counts, then each histogram encoded (empty bytes: no samples)."""
        lat, ttft, itl, tpot = (h.encode() if h.count else b"" for h in self.histograms())
        return (self.requests, self.errors, lat, ttft, itl, tpot)

    def reset(self) -> None:
        """Start a fresh interval, in place: a stream that spans a drain keeps feeding the
        ITL histogram ``Recorder.itl_of`` gave it."""
        self.requests = self.errors = 0
        for h in self.histograms():
            if h is not _UNFILLED:
                h.reset()

    def summary(self) -> LabelSummary:
        return LabelSummary(
            requests=self.requests,
            errors=self.errors,
            latency_ms=self.latency.summary(),
            ttft_ms=self.ttft.summary(),
            itl_ms=self.itl.summary(),
            tpot_ms=self.tpot.summary(),
        )

    def live_summary(self, full: Collection[str] = ()) -> LabelSummary:
        """What a live frame shows of the label (the by-request table): latency and TTFT in
        full; ITL's count and p50 only, TPOT nothing, unless ``full`` names ``itl_ms`` or
        ``tpot_ms`` (a live threshold reads them). Each summary scans its histogram's buckets:
        summarising every label's ITL and TPOT on every frame doubled a frame's cost with 20
        streamed labels (benchmarks/frame_labels_bench.py)."""
        itl = self.itl
        if "itl_ms" in full:
            itl_ms = itl.summary()
        elif itl.count:
            (p50,) = itl.values_at_ranks([_rank(itl.count, 50.0)])
            itl_ms = MetricSummary(count=itl.count, p50=p50)
        else:
            itl_ms = MetricSummary()
        return LabelSummary(
            requests=self.requests,
            errors=self.errors,
            latency_ms=self.latency.summary(),
            ttft_ms=self.ttft.summary(),
            itl_ms=itl_ms,
            tpot_ms=self.tpot.summary() if "tpot_ms" in full else MetricSummary(),
        )


def _rank(count: int, percentile: float) -> int:
    """The 1-based rank of ``percentile`` among ``count`` samples, as HdrHistogram's
    ``get_target_count_at_percentile`` (and so ``Histogram.summary``) takes it."""
    return max(int(percentile * count / 100.0 + 0.5), 1)


class Recorder:
    """Accumulates one interval in a worker. Not thread-safe; one per event loop.

    The counters (``COUNTERS``) are plain int attributes, declared one by one so mypy sees each
    and the hot path pays one attribute increment; ``drain`` packs them into the snapshot."""

    __slots__ = (
        "arrivals",
        "bytes",
        "cancelled",
        "checks",
        "dropped",
        "errors",
        "hist",
        "input_tokens",
        "labels",
        "late",
        "ok",
        "output_tokens",
        "reasons",
        "requests",
        "samples",
        "slo",
        "slo_judged",
        "slo_miss",
        "slo_ok",
        "slo_ok_tokens",
        "status_codes",
        "tokens_counted",
        "tokens_from_usage",
    )

    def __init__(self, slo: SloJudge | None = None) -> None:
        self.slo = slo
        """The run's SLOs (None: no request is judged, no ``slo_*`` counter is sent)."""
        self.slo_judged = 0
        self.slo_ok = 0
        self.slo_ok_tokens = 0
        self.slo_miss = [0] * len(slo.slos) if slo is not None else []
        """Requests that missed each SLO, in the order of ``slo.slos``."""
        self.samples = SampleBook()
        """Error samples (the first few failed responses per class): not drained per interval,
        the reporter hands the new ones to each snapshot."""
        self.hist: dict[str, Histogram] = {name: Histogram() for name in HISTOGRAMS}
        self.errors: dict[str, int] = {}
        self.status_codes: dict[int, int] = {}
        self.labels: dict[str, LabelStats] = {}
        self.checks: dict[str, list[int]] = {}
        self.reasons: dict[str, list[str]] = {}
        self.requests = 0
        self.ok = 0
        self.cancelled = 0
        self.output_tokens = 0
        self.input_tokens = 0
        self.tokens_from_usage = 0
        self.tokens_counted = 0
        self.bytes = 0
        self.arrivals = 0
        self.dropped = 0
        self.late = 0

    def counters(self) -> dict[str, int]:
        """The counters by name (``COUNTERS``, and the SLO ones), as a snapshot carries them."""
        counters = {
            "requests": self.requests,
            "ok": self.ok,
            "cancelled": self.cancelled,
            "output_tokens": self.output_tokens,
            "input_tokens": self.input_tokens,
            "tokens_from_usage": self.tokens_from_usage,
            "tokens_counted": self.tokens_counted,
            "bytes": self.bytes,
            "arrivals": self.arrivals,
            "dropped": self.dropped,
            "late": self.late,
        }
        if self.slo is not None:
            counters.update(self.slo_counters())
        return counters

    def slo_counters(self) -> dict[str, int]:
        """``slo_judged``, ``slo_ok``, ``slo_ok_tokens`` and one ``slo_miss:<name>`` per SLO
        (docs/metrics.md, "SLOs and goodput")."""
        assert self.slo is not None
        counters = {
            "slo_judged": self.slo_judged,
            "slo_ok": self.slo_ok,
            "slo_ok_tokens": self.slo_ok_tokens,
        }
        counters.update(zip(self.slo.counters, self.slo_miss, strict=True))
        return counters

    def judge(
        self, ttft: float, itl: float | None, tpot: float | None, latency: float, tokens: int
    ) -> bool:
        """Judge a successful request against the SLOs (values in ms); True if it met all."""
        assert self.slo is not None
        self.slo_judged += 1
        missed = self.slo.missed(ttft, itl, tpot, latency)
        if not missed:
            self.slo_ok += 1
            self.slo_ok_tokens += tokens
            return True
        for i in missed:
            self.slo_miss[i] += 1
        return False

    def label(self, name: str) -> LabelStats:
        stats = self.labels.get(name)
        if stats is None:
            stats = self.labels[name] = LabelStats()
        return stats

    def itl_of(self, name: str) -> Histogram:
        """Where a stream labelled ``name`` records its ITL gaps: the label's histogram only,
        added to the run's at each drain (``fold_label_itl``). Recording each gap twice cost
        ~7 % CPU per streamed event (benchmarks/label_itl_bench.py); one merge per label per
        interval costs next to nothing."""
        return self.label(name).itl

    def fold_label_itl(self) -> None:
        """Add the labels' ITL gaps of this interval to the run's ITL histogram: in a run of
        several labels every stream is labelled and records its gaps under its label only."""
        itl = self.hist["itl_ms"]
        for stats in self.labels.values():
            itl.merge(stats.itl)  # (merge skips an empty histogram)

    def check(self, name: str, passed: bool) -> None:
        counts = self.checks.get(name)
        if counts is None:
            counts = self.checks[name] = [0, 0]
        counts[0 if passed else 1] += 1

    def error(self, error_class: str) -> None:
        self.errors[error_class] = self.errors.get(error_class, 0) + 1

    def reason(self, error_class: str, exc: BaseException) -> None:
        """Keep why a request failed (the first few distinct messages per class, redacted)."""
        kept = self.reasons.get(error_class)
        if kept is None:
            kept = self.reasons[error_class] = []
        elif len(kept) >= REASONS_PER_CLASS:
            return  # full: do not even format the message
        text = reason_text(exc)
        if text not in kept:
            kept.append(text)

    def status(self, code: int) -> None:
        self.status_codes[code] = self.status_codes.get(code, 0) + 1

    def drain(self, worker: int, t: float) -> WorkerSnapshot:
        """Package this interval as a snapshot and start a fresh one."""
        if self.labels:
            self.fold_label_itl()
        snap = WorkerSnapshot(
            worker=worker,
            t=t,
            counters=self.counters(),
            errors=self.errors,
            status_codes=self.status_codes,
            histograms={name: h.encode() for name, h in self.hist.items() if h.count},
            labels={
                name: s.encoded() for name, s in self.labels.items() if s.requests or s.itl.count
            },
            checks={name: (c[0], c[1]) for name, c in self.checks.items()},
            error_reasons=self.reasons,
        )
        for h in self.hist.values():
            h.reset()
        self.errors = {}
        self.status_codes = {}
        for stats in self.labels.values():  # kept: a stream in flight holds its ITL histogram
            stats.reset()
        self.checks = {}
        self.reasons = {}
        self.requests = self.ok = self.cancelled = 0
        self.output_tokens = self.input_tokens = 0
        self.tokens_from_usage = self.tokens_counted = 0
        self.bytes = self.arrivals = self.dropped = self.late = 0
        if self.slo is not None:
            self.slo_judged = self.slo_ok = self.slo_ok_tokens = 0
            self.slo_miss = [0] * len(self.slo_miss)
        return snap


class _Hists(dict[str, Histogram]):
    """An aggregate's histograms, each made when first used: a histogram is a 188 KB counts
    array and a parent holds ~15 aggregates (the whole run, the warm-up, the series' open
    seconds, the recent window's buckets), while a non-streaming closed-loop run never fills ITL,
    TPOT or send lag and a run without a warm-up never fills ``warm``.

    Reading a name never filled (``metrics()``, a series point, the exposition, each tick) gives
    one shared empty histogram and makes nothing; only ``add`` makes one. So never write into
    what a read returns: the aggregate's histograms are filled by ``add`` alone."""

    __slots__ = ()

    def __missing__(self, name: str) -> Histogram:
        return _UNFILLED

    def add(self, name: str, h: Histogram) -> None:
        """Merge ``h`` into this aggregate's ``name`` (an empty ``h`` makes nothing)."""
        if h.count:
            mine = self.get(name)
            if mine is None:
                mine = self[name] = Histogram()
            mine.merge(h)


class Aggregate:
    """Exactly merged statistics over any set of intervals and workers."""

    __slots__ = ("checks", "counters", "errors", "hist", "labels", "reasons", "status_codes")

    def __init__(self) -> None:
        self.counters: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.status_codes: Counter[int] = Counter()
        self.hist = _Hists()
        self.labels: dict[str, LabelStats] = {}
        self.checks: dict[str, list[int]] = {}
        self.reasons: dict[str, list[str]] = {}

    def add_decoded(
        self, snap: WorkerSnapshot, decoded: dict[str, Histogram], labels: bool = True
    ) -> None:
        """Add a snapshot whose main histograms are decoded; ``labels=False`` skips the
        per-label ones (per-second points and the recent window do not show them)."""
        self.counters.update(snap.counters)
        self.errors.update(snap.errors)
        self.status_codes.update(snap.status_codes)
        for name, h in decoded.items():
            self.hist.add(name, h)
        for name, (requests, errors, *hists) in snap.labels.items() if labels else ():
            stats = self.labels.get(name)
            if stats is None:
                stats = self.labels[name] = LabelStats(lazy=True)
            # an empty one (b"": a label not streamed) is not decoded into a 92 KB histogram
            decoded_hists = (Histogram.decode(h) if h else None for h in hists)
            stats.merge(requests, errors, *decoded_hists, adopt=True)
        for name, (passed, failed) in snap.checks.items():
            counts = self.checks.setdefault(name, [0, 0])
            counts[0] += passed
            counts[1] += failed
        if snap.error_reasons:
            add_reasons(self.reasons, snap.error_reasons)

    def merge(self, other: Aggregate) -> None:
        """Add another aggregate (exact: counters add, histograms merge)."""
        self.counters.update(other.counters)
        self.errors.update(other.errors)
        self.status_codes.update(other.status_codes)
        for name, h in other.hist.items():
            self.hist.add(name, h)
        for name, s in other.labels.items():
            mine = self.labels.get(name)
            if mine is None:
                mine = self.labels[name] = LabelStats(lazy=True)
            mine.merge(s.requests, s.errors, *s.histograms())
        for name, (passed, failed) in other.checks.items():
            counts = self.checks.setdefault(name, [0, 0])
            counts[0] += passed
            counts[1] += failed
        if other.reasons:
            add_reasons(self.reasons, other.reasons)

    def add_snapshot(self, snap: WorkerSnapshot) -> None:
        self.add_decoded(snap, decode_histograms(snap))

    @property
    def requests(self) -> int:
        return self.counters["requests"]

    @property
    def errors_total(self) -> int:
        return sum(self.errors.values())

    def summary(
        self, duration_s: float, live: Mapping[str, Collection[str]] | None = None
    ) -> RunSummary:
        """The whole of these intervals as a run summary (formulas: metrics/formulas.py).
        ``live``: a live frame's summary, each label's ``LabelStats.live_summary`` with the
        metrics ``live`` names for that label in full (None: every label in full, as run files
        keep them)."""
        requests = self.requests
        errors = self.errors_total
        out_tokens = self.counters["output_tokens"]
        counters = self.counters
        return RunSummary(
            requests=requests,
            ok=counters["ok"],
            errors_total=errors,
            errors=dict(sorted(self.errors.items())),
            error_reasons={k: tuple(v) for k, v in sorted(self.reasons.items())},
            status_codes=dict(sorted(self.status_codes.items())),
            cancelled=counters["cancelled"],
            dropped=counters["dropped"],
            late=counters["late"],
            error_rate=round(error_rate(errors, requests), 6),
            success_rate=round(1.0 - error_rate(errors, requests), 6) if requests else 0.0,
            duration_s=round(duration_s, 3),
            rps=round(requests / duration_s, 3) if duration_s > 0 else 0.0,
            output_tokens=out_tokens,
            input_tokens=counters["input_tokens"],
            output_tokens_per_s=round(output_tokens_per_s(out_tokens, duration_s), 3),
            token_source=TokenSource(
                usage=counters["tokens_from_usage"], counted_chunks=counters["tokens_counted"]
            ),
            bytes_received=counters["bytes"],
            metrics=self.metrics(),
            by_label=self.label_summaries(live),
            checks={
                name: CheckSummary(passed=p, failed=f, pass_rate=round(pass_rate(p, f), 6))
                for name, (p, f) in sorted(self.checks.items())
            },
            overhead=overhead(self.labels),
            slo=self.slo_summary(duration_s),
        )

    def label_summaries(
        self, live: Mapping[str, Collection[str]] | None = None
    ) -> dict[str, LabelSummary]:
        """Each label's summary, by name; ``live``: as ``summary`` says."""
        labels = sorted(self.labels.items())
        if live is None:
            return {name: s.summary() for name, s in labels}
        return {name: s.live_summary(live.get(name, ())) for name, s in labels}

    def slo_summary(self, duration_s: float) -> SloSummary | None:
        """Goodput, attainment and misses from the ``slo_*`` counters; None without SLOs."""
        counters = self.counters
        if "slo_judged" not in counters:
            return None
        ok, judged, tokens = counters["slo_ok"], counters["slo_judged"], counters["slo_ok_tokens"]
        return SloSummary(
            judged=judged,
            ok=ok,
            ok_tokens=tokens,
            attainment=round(slo_attainment(ok, judged), 6),
            goodput_rps=round(goodput_per_s(ok, duration_s), 3),
            goodput_tokens_per_s=round(goodput_per_s(tokens, duration_s), 3),
            misses={
                key.removeprefix(MISS_PREFIX): count
                for key, count in counters.items()
                if key.startswith(MISS_PREFIX)
            },
        )

    def histograms(self) -> RunHistograms:
        """Every histogram encoded, whole run and per label (the run file's ``histograms``)."""
        return encode_run(
            {name: self.hist[name] for name in HISTOGRAMS},  # the file's order, made or not
            {
                name: dict(zip(LABEL_METRICS, s.histograms(), strict=True))
                for name, s in self.labels.items()
            },
        )

    def metrics(self) -> Metrics:
        """Every histogram's summary."""
        h = self.hist
        return Metrics(
            latency_ms=h["latency_ms"].summary(),
            latency_actual_ms=h["latency_actual_ms"].summary(),
            ttft_ms=h["ttft_ms"].summary(),
            itl_ms=h["itl_ms"].summary(),
            tpot_ms=h["tpot_ms"].summary(),
            headers_ms=h["headers_ms"].summary(),
            send_lag_ms=h["send_lag_ms"].summary(),
        )


def add_reasons(into: dict[str, list[str]], more: dict[str, list[str]]) -> None:
    """Merge error reasons: per class, the first ``REASONS_PER_CLASS`` distinct ones."""
    for error_class, texts in more.items():
        kept = into.setdefault(error_class, [])
        for text in texts:
            if len(kept) >= REASONS_PER_CLASS:
                break
            if text not in kept:
                kept.append(text)


def overhead(labels: Mapping[str, LabelStats]) -> OverheadSummary | None:
    """Proxy overhead (``proxied`` − ``direct``) at p50/p95/p99 for latency and TTFT; None
    unless the run sent both kinds."""
    direct, proxied = labels.get("direct"), labels.get("proxied")
    if direct is None or proxied is None or not direct.requests or not proxied.requests:
        return None
    return OverheadSummary(
        pairs=min(direct.requests, proxied.requests),
        latency_ms=_overhead_pcts(direct.latency, proxied.latency),
        ttft_ms=_overhead_pcts(direct.ttft, proxied.ttft),
    )


def _overhead_pcts(direct: Histogram, proxied: Histogram) -> Percentiles | None:
    if not direct.count or not proxied.count:
        return None

    def at(q: float) -> float:
        return round(overhead_ms(proxied.percentile(q), direct.percentile(q)), 3)

    return Percentiles(p50=at(50.0), p95=at(95.0), p99=at(99.0))


def decode_histograms(snap: WorkerSnapshot) -> dict[str, Histogram]:
    return {name: Histogram.decode(data) for name, data in snap.histograms.items()}
