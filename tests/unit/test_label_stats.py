"""Per-label statistics after the labels review: a drain folds each label's ITL into the run's
before it resets (so every interval and every second holds exactly its own gaps), the parent's
label histograms are made only when they get samples (the run file unchanged), a live frame
summarises only what it shows of each label, and a label with no finished request shows no
latency."""

from __future__ import annotations

import random
import tracemalloc
from dataclasses import replace
from pathlib import Path

import pytest
from rich.console import Console

from loadtui.metrics.histogram import PERCENTILES, Histogram
from loadtui.metrics.runhist import LABEL_METRICS
from loadtui.metrics.series import Series
from loadtui.metrics.stats import Aggregate, LabelStats, Recorder, decode_histograms
from loadtui.model.record import LabelSummary, MetricSummary, RunSummary
from loadtui.model.snapshot import WorkerSnapshot
from loadtui.outputs.report_sections import Shown, labels_section
from loadtui.render.sections import workflow_sections
from loadtui.storage.runfile import load_record

DATA = Path(__file__).parents[1] / "data"

LABELS = [f"turn {k}" for k in range(20)]


def test_each_drain_holds_exactly_the_gaps_of_its_interval() -> None:
    """A labelled stream spans three drains, an unlabelled one records into the run's ITL: each
    snapshot holds the gaps of its own interval, whole run and label (a fold after the reset
    would shift the label's gaps one interval later), and the seconds add up to the run."""
    rec = Recorder()
    spanning = rec.itl_of("chat")  # what read_stream holds for the whole stream
    whole = rec.hist["itl_ms"]  # an unlabelled stream's (a run of one label records here)
    gaps = {  # per interval: (labelled gaps, unlabelled gaps), each interval its own value
        0.5: ([10.0, 10.0], [10.0]),
        1.5: ([20.0, 20.0, 20.0], []),
        2.5: ([], [30.0]),
    }
    snaps: list[WorkerSnapshot] = []
    for t, (labelled, unlabelled) in gaps.items():
        for ms in labelled:
            spanning.record_ms(ms)
        for ms in unlabelled:
            whole.record_ms(ms)
        if t == 1.5:  # the labelled stream ends in the second interval
            rec.label("chat").record(100.0, True, 5.0)
        snaps.append(rec.drain(0, t))
    for snap, (labelled, unlabelled) in zip(snaps, gaps.values(), strict=True):
        decoded = decode_histograms(snap)
        assert decoded["itl_ms"].count == len(labelled) + len(unlabelled), snap.t
        entry = snap.labels.get("chat")
        if labelled:
            assert entry is not None
            assert Histogram.decode(entry[4]).count == len(labelled), snap.t
        else:
            assert entry is None, snap.t  # no request, no gap: no entry
    assert snaps[0].labels["chat"][0] == 0  # gaps before the label's first request ends

    series = Series()
    totals = Aggregate()
    for snap in snaps:
        decoded = decode_histograms(snap)
        series.add(snap, decoded)
        totals.add_decoded(snap, decode_histograms(snap))
    points = series.finalize_through(10)
    assert [p.t for p in points] == [0, 1, 2]
    for point, value in zip(points, (10.0, 20.0, 30.0), strict=True):
        assert point.itl_ms is not None  # 3 significant digits: 10 ms reads 10.007
        assert point.itl_ms.p50 == point.itl_ms.p99 == pytest.approx(value, rel=1e-3)
    per_second = [decode_histograms(s)["itl_ms"].count for s in snaps]
    assert sum(per_second) == totals.hist["itl_ms"].count == 7
    assert totals.labels["chat"].itl.count == 5 and totals.labels["chat"].requests == 1


def _snapshots(streamed: bool) -> list[WorkerSnapshot]:
    """Two drains of a worker whose 20 labels each finished a few requests."""
    rec = Recorder()
    out = []
    for t in (0.25, 0.5):
        for k, name in enumerate(LABELS):
            for i in range(3):
                rec.label(name).record(50.0 + k + i, ok=i != 2, ttft_ms=5.0 + k)
                if streamed:
                    for g in range(4):
                        rec.itl_of(name).record_ms(1.0 + k + g)
                    rec.label(name).tpot.record_ms(2.0 + k)
        out.append(rec.drain(0, t))
    return out


def test_the_parents_label_histograms_are_made_only_when_filled() -> None:
    """20 labels that are not streamed: their ITL and TPOT (and a TTFT-less label's TTFT) take
    no counts array of their own; merged aggregates share none of their histograms."""
    snaps = _snapshots(streamed=False)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        agg = Aggregate()
        for snap in snaps:
            agg.add_decoded(snap, {})
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    # latency and TTFT, 188 KB each, per label; all four made up front was ~15 MB
    assert kept < len(LABELS) * 2.5 * 188_000
    stats = agg.labels["turn 3"]
    assert stats.requests == 6 and stats.errors == 2 and stats.latency.count == 6
    assert not stats.itl.count and not stats.tpot.count
    assert agg.summary(1.0).by_label["turn 3"].itl_ms == MetricSummary()

    other = Aggregate()
    other.merge(agg)  # a copy: adding to one never changes the other
    other.add_decoded(snaps[0], {})
    assert agg.labels["turn 3"].latency.count == 6
    assert other.labels["turn 3"].latency.count == 9


def test_lazy_label_histograms_write_the_same_run_file_as_eager_ones() -> None:
    snaps = _snapshots(streamed=True)
    agg = Aggregate()
    for snap in snaps:
        agg.add_decoded(snap, decode_histograms(snap))
    eager: dict[str, LabelStats] = {}
    for snap in snaps:  # the same merge into histograms made up front
        for name, (requests, errors, *hists) in snap.labels.items():
            stats = eager.setdefault(name, LabelStats())
            stats.merge(requests, errors, *(decoded_or_none(h) for h in hists))
    stored = agg.histograms()
    by_label = agg.summary(1.0).by_label
    for name, stats in eager.items():
        assert stored.by_label[name] == {
            metric: h.encode()
            for metric, h in zip(LABEL_METRICS, stats.histograms(), strict=True)
            if h.count
        }
        assert by_label[name] == stats.summary()


def decoded_or_none(data: bytes) -> Histogram | None:
    return Histogram.decode(data) if data else None


def test_a_live_summary_keeps_what_a_frame_shows_of_each_label() -> None:
    """A live frame's label: latency and TTFT whole, ITL's count and p50 (the by-request
    table's cell), no TPOT — unless a live threshold names ITL or TPOT of a label."""
    snaps = _snapshots(streamed=True)
    agg = Aggregate()
    for snap in snaps:
        agg.add_decoded(snap, decode_histograms(snap))
    full = agg.summary(1.0)
    live = agg.summary(1.0, live={})
    assert live.metrics == full.metrics and set(live.by_label) == set(full.by_label)
    for name, whole in full.by_label.items():
        part = live.by_label[name]
        assert part.latency_ms == whole.latency_ms and part.ttft_ms == whole.ttft_ms
        assert part.requests == whole.requests and part.errors == whole.errors
        assert part.itl_ms.count == whole.itl_ms.count > 0
        assert part.itl_ms.p50 == whole.itl_ms.p50
        assert part.tpot_ms == MetricSummary()
    judged = agg.summary(1.0, live={"turn 3": {"itl_ms", "tpot_ms"}, "turn 4": {"tpot_ms"}})
    assert judged.by_label["turn 3"] == full.by_label["turn 3"]  # a threshold reads both
    assert judged.by_label["turn 4"].tpot_ms == full.by_label["turn 4"].tpot_ms
    assert judged.by_label["turn 4"].itl_ms == live.by_label["turn 4"].itl_ms
    assert judged.by_label["turn 5"] == live.by_label["turn 5"]


def _summary(by_label: dict[str, LabelSummary]) -> RunSummary:
    return RunSummary(requests=sum(s.requests for s in by_label.values()), by_label=by_label)


def test_a_label_with_no_finished_request_shows_no_latency() -> None:
    """A long stream's label has ITL gaps long before its first request ends: "-", not 0.00."""
    streaming = LabelSummary(itl_ms=MetricSummary(count=12, p50=5.0))
    done = LabelSummary(requests=3, latency_ms=MetricSummary(count=3, p50=40.0, p95=50.0, p99=60.0))
    console = Console(width=100, record=True)
    console.print(*workflow_sections(_summary({"long": streaming, "short": done})))
    lines = console.export_text().splitlines()
    row = next(line for line in lines if line.strip().startswith("long"))
    assert row.split()[1:] == ["0", "0", "-", "-", "-", "-", "-", "5.00"]
    assert "0.00" not in row


def test_report_and_show_show_the_itl_column_by_one_rule() -> None:
    """Both show ITL when some label has ITL samples (a blank cell for a label without), and
    neither does for a run whose labels have none."""
    plain = LabelSummary(requests=2, latency_ms=MetricSummary(count=2, p50=40.0))
    streamed = LabelSummary(requests=2, itl_ms=MetricSummary(count=4, p50=5.0))
    for by_label, shown in (({"a": plain, "b": plain}, False), ({"a": plain, "b": streamed}, True)):
        run = replace(load_record(DATA / "run-mix.json"), summary=_summary(by_label))
        report = str(labels_section(Shown(run, run.id, "#000")))
        console = Console(width=100, record=True)
        console.print(*workflow_sections(run.summary))
        assert ("ITL p50 / p95 / p99" in report) is shown, by_label
        assert ("TPOT p50 / p95 / p99" in report) is shown, by_label
        assert ("ITL p50" in console.export_text()) is shown, by_label


def test_a_summary_of_decoded_and_merged_histograms_matches_the_librarys() -> None:
    """A summary scans only the buckets between the lowest and highest value, which the
    library tracks on record, on decode and on add: merged snapshots (a frame's, a file's)
    give the library's own figures, a value at the top of the range too."""
    rng = random.Random(5)
    merged = Histogram()
    for spread in (0.2, 1.0, 3.0):
        part = Histogram()
        for _ in range(300):
            part.record_ms(rng.lognormvariate(3.0, spread))
        merged.merge(Histogram.decode(part.encode()))
    merged.merge(Histogram.decode(_one(3_600_000.0).encode()))  # the highest value kept
    merged.merge(_one(0.0001))  # below the lowest: kept as 1 µs
    lib = merged._h
    values = lib.get_percentile_to_value_dict([p for _, p in PERCENTILES])
    assert merged.summary() == MetricSummary(
        count=902,
        mean=round(lib.get_mean_value() / 1000.0, 3),
        min=lib.get_min_value() / 1000.0,
        max=lib.get_max_value() / 1000.0,
        **{name: values[p] / 1000.0 for name, p in PERCENTILES},
    )
    ranks = [1, 451, 902]
    assert merged.values_at_ranks(ranks) == [
        lib.get_highest_equivalent_value(lib.get_value_at_percentile(100.0 * r / 902)) / 1000.0
        for r in ranks
    ]


def _one(ms: float) -> Histogram:
    h = Histogram()
    h.record_ms(ms)
    return h
