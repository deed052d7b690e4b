"""The export writers on run records built by hand: what a real short run cannot show (exact
histograms, a skipped threshold, a failed run, hostile text), read back with the csv module and
junitparser. The end-to-end exports of real runs are tests/cli/test_export.py's."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from pathlib import Path

import pytest
from junitparser import Failure, JUnitXml, Skipped

from loadtui.headless.exports import write_run_outputs
from loadtui.metrics.histogram import Histogram
from loadtui.model.record import (
    LabelSummary,
    RunHistograms,
    RunRecord,
    ThresholdResult,
)
from loadtui.outputs.csv_export import STATS_PERCENTILES, failure_rows, stats_rows
from loadtui.outputs.exports import WRITERS, Export, write_exports
from loadtui.outputs.junit import junit_xml
from loadtui.storage.runfile import load_record, save_run

DATA = Path(__file__).parents[1] / "data"


@pytest.fixture()
def run_a() -> RunRecord:
    return load_record(DATA / "run-a.json")


def _histogram(values: range) -> Histogram:
    h = Histogram()
    for ms in values:
        h.record_ms(float(ms))
    return h


def _suite(run: RunRecord):  # the one testsuite, as a CI parser reads it
    xml = JUnitXml.fromstring(junit_xml(run).decode("utf-8"))
    (suite,) = list(xml)
    return suite


def _by_name(rows: list[list[str]]) -> dict[str, dict[str, str]]:
    header, *body = rows
    return {row[1]: dict(zip(header, row, strict=True)) for row in body}


def test_histograms_give_every_percentile_exactly(run_a: RunRecord):
    whole, chat_itl = _histogram(range(1, 1001)), _histogram(range(5, 25))
    run = replace(
        run_a,
        summary=replace(run_a.summary, by_label={"chat": LabelSummary(1000, 2, whole.summary())}),
        histograms=RunHistograms(
            whole={"latency_ms": whole.encode()},
            by_label={"chat": {"latency_ms": whole.encode(), "itl_ms": chat_itl.encode()}},
        ),
    )
    rows = _by_name(stats_rows(run))
    for name in ("chat", "Aggregated"):
        for p in STATS_PERCENTILES:
            assert float(rows[name][f"{p:g}%"]) == pytest.approx(whole.percentile(p), abs=1e-3)
    assert float(rows["Aggregated"]["66%"]) == pytest.approx(660, rel=0.01)
    itl = chat_itl.summary()
    assert float(rows["chat"]["ITL p95 (ms)"]) == pytest.approx(itl.p95, abs=1e-3)
    assert rows["chat"]["TTFT Median (ms)"] == ""  # the label's summary has no TTFT samples


def test_a_label_without_samples_has_empty_cells_not_zeros(run_a: RunRecord):
    run = replace(
        run_a, summary=replace(run_a.summary, by_label={"quiet": LabelSummary(requests=0)})
    )
    row = _by_name(stats_rows(run))["quiet"]
    assert row["Request Count"] == "0"
    assert row["Median Response Time"] == row["50%"] == row["TTFT p99 (ms)"] == ""


def test_text_a_spreadsheet_would_run_is_kept_as_text(run_a: RunRecord):
    summary = replace(
        run_a.summary,
        by_label={'=HYPERLINK("http://x")': LabelSummary(requests=1)},
        errors={"http_4xx": 3},
        error_reasons={"http_4xx": ("-1 bad", 'ok, "quoted"\nnext line')},
    )
    run = replace(run_a, summary=summary)
    text = io.StringIO(newline="")
    csv.writer(text).writerows(stats_rows(run))
    parsed = list(csv.reader(io.StringIO(text.getvalue(), newline="")))
    assert parsed[1][1] == '\'=HYPERLINK("http://x")'
    (_, failures) = failure_rows(run)
    assert failures == ["http_4xx", "3", '\'-1 bad | ok, "quoted"\nnext line']


def test_junit_skipped_no_samples_and_failed_run(run_a: RunRecord):
    run = replace(
        run_a,
        status="failed",
        error="RuntimeError: worker 0 died\x1b[31m",
        thresholds=(
            ThresholdResult("ttft", "p(95)<500", None, True, "not judged: no streams", True),
            ThresholdResult("itl", "p(99)<20", None, False, "no samples"),
            ThresholdResult("error_rate", "rate<0.01", 0.25, False),
            ThresholdResult("latency", "p(99)<1000", 1234567.891, False),
        ),
    )
    suite = _suite(run)
    assert (suite.tests, suite.failures, suite.skipped) == (5, 4, 1)
    cases = {case.name: case for case in suite}
    (skipped,) = cases["ttft p(95)<500"].result
    assert isinstance(skipped, Skipped) and skipped.message == "not judged: no streams"
    (none,) = cases["itl p(99)<20"].result
    assert none.message == "actual none vs expected p(99)<20: no samples"  # why, where CI shows
    assert "no samples" in none.text
    (rate,) = cases["error_rate rate<0.01"].result
    assert rate.message == "actual 0.25 vs expected rate<0.01"  # a rate has no unit
    (slow,) = cases["latency p(99)<1000"].result
    assert slow.message == "actual 1234567.891 ms vs expected p(99)<1000"  # no 1.23457e+06
    (died,) = cases["run completed"].result
    assert isinstance(died, Failure)
    assert died.message == "the run failed: RuntimeError: worker 0 died\\x1b[31m"


def test_junit_without_thresholds_is_one_case(run_a: RunRecord):
    passed = _suite(replace(run_a, thresholds=()))
    assert (passed.tests, passed.failures) == (1, 0)
    interrupted = _suite(replace(run_a, thresholds=(), status="interrupted"))
    assert (interrupted.tests, interrupted.failures) == (1, 1)
    assert _suite(replace(run_a, thresholds=(), status="stopped")).failures == 0


def test_each_format_is_a_writer(run_a: RunRecord, tmp_path: Path):
    exports = [Export(fmt, tmp_path / fmt) for fmt in WRITERS]
    written, failed = write_exports(run_a, None, exports)
    assert failed == []
    assert sorted(p.name for p in written) == [
        "csv_failures.csv",
        "csv_stats.csv",
        "csv_stats_history.csv",
        "html",
        "junit",
        "summary-json",
    ]
    assert json.loads((tmp_path / "summary-json").read_text())["path"] is None
    assert list(tmp_path.glob(".*")) == []  # no temporary file left behind


def test_end_of_run_outputs_and_what_failed(run_a: RunRecord, tmp_path: Path):
    saved = save_run(run_a, tmp_path / "run.json", remember=False)
    good = Export("junit", tmp_path / "j.xml", "--junit")
    bad = Export("summary-json", tmp_path / "no-such-folder" / "s.json", "--summary-json")
    notes: list[str] = []
    warnings: list[str] = []

    def outputs(path: Path | None, report: Path | None, *exports: Export) -> list[str]:
        return write_run_outputs(run_a, path, report, exports, notes.append, warnings.append)

    assert outputs(saved, None, good) == [] and warnings == []
    assert notes == [f"exported: {good.dest}"] and (tmp_path / "j.xml").is_file()
    reason = f"cannot write --summary-json {bad.dest}: No such file or directory"
    assert outputs(saved, None, bad, good) == [reason] and warnings == [reason]
    assert outputs(None, None, good) == []  # not saved: a failure of its own already
    assert warnings[-1] == "no export written: the run was not saved"
    report = tmp_path / "no-such-folder" / "r.html"
    assert outputs(saved, report)[0].startswith(f"cannot write --report {report}: ")


def test_the_report_is_made_from_the_saved_run_unless_there_is_none(
    run_a: RunRecord, tmp_path: Path
):
    saved = save_run(run_a, tmp_path / "run.json", remember=False)
    in_memory = replace(run_a, id="20990101-000000-only-in-memory")
    report = tmp_path / "r.html"
    notes: list[str] = []
    assert write_run_outputs(in_memory, saved, report, (), notes.append, notes.append) == []
    assert notes == [f"report saved: {report}"]
    html = report.read_text(encoding="utf-8")
    assert run_a.id in html and in_memory.id not in html  # the file, read back
    assert write_run_outputs(in_memory, None, report, (), notes.append, notes.append) == []
    assert in_memory.id in report.read_text(encoding="utf-8")  # nothing saved: memory


@pytest.mark.parametrize(
    "values",
    [[*range(1, 1001), 3_600_000], [7], []],
    ids=["wide, with the top of the range", "one value", "empty"],
)
def test_percentiles_in_one_scan_equal_percentile_one_by_one(values: list[int]):
    h = Histogram()
    for ms in values:
        h.record_ms(float(ms))
    pcts = (0, 0.1, 50, 66, 99.99, 99.999, 100)
    assert h.percentiles(pcts) == [h.percentile(p) for p in pcts]
