"""Each request label keeps every streaming metric's histogram: ITL and TPOT too.

One run (as the app drives it: a session, a run file) over loopback against the mock, with two
streamed labels of different lengths (the mock caps its answer at ``max_tokens``): the run
file's per-label ITL and TPOT histograms decode, add up to the whole run's, and give the
label's summary figures; per-label ITL/TPOT thresholds are judged on them. Old run files, from
before labels kept ITL and TPOT, still load.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from rich.console import Console

from loadtui.metrics.runhist import decode_run
from loadtui.mock import MockProcess
from loadtui.model.plan import RunConfig
from loadtui.model.record import MetricSummary, RunRecord
from loadtui.outputs.html import ms
from loadtui.outputs.report_sections import Shown, labels_section
from loadtui.render.sections import workflow_sections
from loadtui.run.frame import LiveFrame
from loadtui.storage.record_out import summary_document
from loadtui.storage.runfile import load_record
from loadtui.tui.bridge import RunBridge

DATA = Path(__file__).parents[1] / "data"

GAPS = {"short": 2, "long": 6}
"""ITL gaps per complete answer of each label: ``max_tokens`` 3 and 7 (the mock sends 8)."""

THRESHOLDS = {
    "itl{label:short}": ["p(95)<60000"],
    "itl{label:long}": ["p(95)<0.5"],  # the mock's gap is 10 ms: fails
    "tpot{label:long}": ["p(95)<60000"],
}


@dataclass
class Ran:
    run: RunRecord
    saved: RunRecord
    path: Path
    frames: list[LiveFrame]
    """Every frame the run published (as the app takes them)."""


@pytest.fixture(scope="module")
def ran(mock_upstream: MockProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ran]:
    """One 2-second run of two streamed labels, saved and read back."""
    folder = tmp_path_factory.mktemp("labels")
    config = RunConfig.model_validate(
        {
            "target": {"url": mock_upstream.url},
            "load": {"mode": "closed", "users": 4, "duration": 2.0},
            "requests": [
                {"kind": "chat", "name": name, "stream": True, "max_tokens": gaps + 1}
                for name, gaps in GAPS.items()
            ],
            "thresholds": THRESHOLDS,
            "workers": 1,
        }
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LOADTUI_DATA_DIR", str(folder / "data"))
        mp.setenv("LOADTUI_CONFIG_DIR", str(folder / "config"))
        bridge = RunBridge(config, out=folder / "run.json")
        frames: list[LiveFrame] = []
        bridge.on_change = lambda: frames.append(bridge.take())
        bridge.start()
        assert bridge.wait(60) and bridge.error is None
        assert bridge.run is not None
        yield Ran(bridge.run, load_record(folder / "run.json"), folder / "run.json", frames)


def test_each_labels_itl_and_tpot_histograms_add_up_to_the_whole_runs(ran: Ran) -> None:
    run = ran.saved
    assert run.histograms is not None and set(run.summary.by_label) == set(GAPS)
    decoded = decode_run(run.histograms)
    for metric in ("latency_ms", "ttft_ms", "itl_ms", "tpot_ms"):
        per_label = sum(decoded.get(metric, label).count for label in GAPS)
        assert per_label == decoded.get(metric).count > 0, metric  # every request is labelled
    for label, gaps in GAPS.items():
        figures = run.summary.by_label[label]
        streams = figures.ttft_ms.count
        assert streams > 0 and figures.errors == 0, label
        # every complete stream has its gaps; a stream cut by the run's end may add a few
        assert gaps * streams <= figures.itl_ms.count <= gaps * (streams + 4), label
        assert figures.tpot_ms.count == streams, label  # one per stream of two tokens or more
        for metric in ("itl_ms", "tpot_ms"):  # the stored histogram gives the stored summary
            assert decoded.get(metric, label).summary() == getattr(figures, metric), label
    assert ran.saved.summary == ran.run.summary  # the file holds what the run measured


def test_per_label_itl_and_tpot_thresholds_are_judged_on_the_labels_figures(ran: Ran) -> None:
    results = {r.metric: r for r in ran.saved.thresholds}
    assert set(results) == set(THRESHOLDS)
    by_label = ran.saved.summary.by_label
    short, long_ = results["itl{label:short}"], results["itl{label:long}"]
    assert short.passed and short.actual == by_label["short"].itl_ms.p95
    assert not long_.passed and long_.actual == by_label["long"].itl_ms.p95
    tpot = results["tpot{label:long}"]
    assert tpot.passed and tpot.actual == by_label["long"].tpot_ms.p95
    assert not ran.saved.passed


def test_live_frames_summarise_what_they_show_and_the_last_one_everything(ran: Ran) -> None:
    """A live frame keeps each label's latency, TTFT and ITL p50, and the ITL or TPOT a
    label-filtered threshold reads (here: both labels' ITL, ``long``'s TPOT) for judging live;
    the last frame holds the saved run's whole summary."""
    live = [f for f in ran.frames if f.live and len(f.totals.by_label) == len(GAPS)]
    assert live, "no live frame with both labels"
    for frame in live:
        short, long_ = frame.totals.by_label["short"], frame.totals.by_label["long"]
        assert short.tpot_ms == MetricSummary()  # no threshold reads it: not summarised
        assert long_.tpot_ms.count == long_.ttft_ms.count  # read by tpot{label:long}
        judged = {r.metric: r for r in frame.thresholds}
        for name, figures in (("short", short), ("long", long_)):
            result = judged[f"itl{{label:{name}}}"]
            assert result.actual is None or result.actual == figures.itl_ms.p95, name
    last = ran.frames[-1]
    assert not last.live and last.totals == ran.run.summary


def test_the_summary_json_carries_each_labels_itl_and_tpot(ran: Ran) -> None:
    doc = summary_document(ran.saved)
    for label in GAPS:
        row = doc["summary"]["by_label"][label]
        assert row["itl_ms"]["count"] == ran.saved.summary.by_label[label].itl_ms.count > 0
        assert row["tpot_ms"]["p95"] == ran.saved.summary.by_label[label].tpot_ms.p95


def _trio(m: MetricSummary) -> str:
    return f"{ms(m.p50)} / {ms(m.p95)} / {ms(m.p99)} ms"


def test_the_reports_label_table_and_shows_by_request_table_give_itl(ran: Ran) -> None:
    by_label = ran.saved.summary.by_label
    table = str(labels_section(Shown(ran.saved, ran.saved.id, "#000")))
    assert "ITL p50 / p95 / p99" in table and "TPOT p50 / p95 / p99" in table
    for figures in by_label.values():
        assert _trio(figures.itl_ms) in table and _trio(figures.tpot_ms) in table
    console = Console(width=100, record=True)
    console.print(*workflow_sections(ran.saved.summary))
    lines = console.export_text().splitlines()
    header = next(line for line in lines if "ITL p50" in line)
    for label, figures in by_label.items():
        row = next(line for line in lines if line.strip().startswith(label))
        assert row.split()[-1] == ms(figures.itl_ms.p50), label  # the last column: ITL p50
    assert header.rstrip().endswith("ITL p50")


def test_a_file_whose_labels_kept_latency_and_ttft_only_loads(ran: Ran, tmp_path: Path) -> None:
    """The shape files had before labels kept ITL and TPOT: the same run without them."""
    raw = json.loads(ran.path.read_text())
    for label in GAPS:
        for key in ("itl_ms", "tpot_ms"):
            del raw["summary"]["by_label"][label][key]
            del raw["histograms"]["by_label"][label][key]
    old = tmp_path / "old.json"
    old.write_text(json.dumps(raw))
    run = load_record(old)
    assert run.histograms is not None
    decoded = decode_run(run.histograms)
    for label in GAPS:
        figures = run.summary.by_label[label]
        assert figures.ttft_ms == ran.saved.summary.by_label[label].ttft_ms
        assert not figures.itl_ms.count and not decoded.get("itl_ms", label).count
    # no label kept ITL: neither the report nor `show` has a column of dashes
    report = str(labels_section(Shown(run, run.id, "#000")))
    assert "ITL p50" not in report and "TPOT p50" not in report and "TTFT p50" in report
    console = Console(width=100, record=True)
    console.print(*workflow_sections(run.summary))
    assert "ITL p50" not in console.export_text()


def test_an_old_run_file_without_per_label_itl_or_tpot_loads() -> None:
    run = load_record(DATA / "run-mix.json")
    assert run.summary.by_label
    for label in run.summary.by_label.values():
        assert label.latency_ms.count and not label.itl_ms.count and not label.tpot_ms.count
