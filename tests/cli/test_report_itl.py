"""ITL and TPOT over time in the files that leave the tool: the HTML report draws them per
second (one run, several runs overlaid), the CSV history has their columns — from a real
streaming run against the mock over loopback — and a run file saved before the series kept them
still gets the whole-run table."""

from __future__ import annotations

import csv
import dataclasses
from html.parser import HTMLParser
from pathlib import Path

import pytest

from helpers import LATE_MS, REPO, run_cli
from loadtui.mock import MockProcess
from loadtui.model.record import RunRecord
from loadtui.outputs.report import render_report
from loadtui.storage.runfile import load_record

pytestmark = pytest.mark.integration  # the real run starts processes

DATA = REPO / "tests" / "data"
ITL_TITLE = "Inter-token latency (ITL) percentiles per second"
TPOT_TITLE = "Time per output token (TPOT) percentiles per second"
WHOLE_RUN = "ITL and TPOT (whole run)"
CHARTS_BEFORE = 6
"""Latency, TTFT, requests/s, errors/s, users and the distribution: a report without ITL/TPOT
charts (tests/cli/test_report.py counts them)."""


class _Charts(HTMLParser):
    """The ``aria-label`` of every ``<svg>``: one per chart, named by its title."""

    def __init__(self) -> None:
        super().__init__()
        self.labels: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "svg":
            self.labels.append(dict(attrs).get("aria-label") or "")


def _charts(html: str) -> list[str]:
    page = _Charts()
    page.feed(html)
    page.close()
    return page.labels


@pytest.fixture()
def streamed(tmp_path: Path, mock: MockProcess) -> Path:
    """A real streaming run (the smoke preset streams its chat) saved with --out."""
    run_file = tmp_path / "run.json"
    args = ("--headless", "--preset", "smoke", "--duration", "2s", "--url", mock.url)
    done = run_cli(*args, "--out", str(run_file))
    assert done.returncode == 0, done.stderr
    return run_file


def test_the_report_draws_itl_and_tpot_per_second(streamed: Path, tmp_path: Path) -> None:
    report = tmp_path / "r.html"
    made = run_cli("report", str(streamed), "-o", str(report))
    assert made.returncode == 0, made.stderr
    html = report.read_text(encoding="utf-8")
    labels = _charts(html)
    assert len(labels) == CHARTS_BEFORE + 2
    assert labels.count(ITL_TITLE) == 1 and labels.count(TPOT_TITLE) == 1
    # right after latency and TTFT, in the latency section
    assert labels.index(ITL_TITLE) == 2 and labels.index(TPOT_TITLE) == 3
    assert WHOLE_RUN not in html  # charted: no table instead


def test_several_runs_overlay_and_an_old_one_keeps_its_table(streamed: Path) -> None:
    new, old = load_record(streamed), load_record(DATA / "run-a.json")
    html = render_report([new, old])
    labels = _charts(html)
    assert labels.count(ITL_TITLE) == 1 and labels.count(TPOT_TITLE) == 1  # one chart, both runs
    assert WHOLE_RUN in html  # the old run's figures, since it has no series of them
    table = html[html.index(WHOLE_RUN) :]
    table = table[: table.index("</figure>")]
    assert old.id in table  # the old run is listed in the table...
    assert new.id not in table  # ...the streamed run is charted, not listed


def test_an_old_run_file_keeps_the_whole_run_table() -> None:
    html = render_report([load_record(DATA / "run-a.json")])
    labels = _charts(html)
    assert len(labels) == CHARTS_BEFORE and ITL_TITLE not in labels
    assert WHOLE_RUN in html and "no per-second series of them" in html


def test_a_run_that_streamed_nothing_keeps_the_table(streamed: Path) -> None:
    run = load_record(streamed)
    plain = dataclasses.replace(
        run, series=tuple(dataclasses.replace(p, itl_ms=None, tpot_ms=None) for p in run.series)
    )
    assert _charts(render_report([plain])).count(ITL_TITLE) == 0
    assert WHOLE_RUN in render_report([plain])


def test_the_csv_history_has_itl_and_tpot_columns(streamed: Path, tmp_path: Path) -> None:
    prefix = tmp_path / "out"
    done = run_cli("export", str(streamed), "--format", "csv", "-o", str(prefix))
    assert done.returncode == 0, done.stderr
    with open(f"{prefix}_stats_history.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    run: RunRecord = load_record(streamed)
    assert len(rows) == len(run.series)
    streamed_rows = [r for r in rows if r["TTFT p50 (ms)"]]
    assert streamed_rows
    for row in streamed_rows:
        itl = [float(row[f"ITL {p} (ms)"]) for p in ("p50", "p95", "p99")]
        tpot = [float(row[f"TPOT {p} (ms)"]) for p in ("p50", "p95", "p99")]
        # the mock sends a chunk every 10 ms; a chunk read late can shorten the next gap a little
        # a first chunk read late shortens a TPOT too (seen: 9.199 on a busy machine)
        # (and a starved reader takes chunks together: ITL p50 0.658 with both cores hogged)
        assert 0.0 < itl[0] <= 10.0 + LATE_MS and 0.0 < tpot[0] <= 10.0 + LATE_MS, row
        assert itl == sorted(itl) and tpot == sorted(tpot)


def test_an_old_file_s_history_leaves_them_empty(tmp_path: Path) -> None:
    prefix = tmp_path / "old"
    done = run_cli("export", str(DATA / "run-a.json"), "--format", "csv", "-o", str(prefix))
    assert done.returncode == 0, done.stderr
    with open(f"{prefix}_stats_history.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and all(r["ITL p50 (ms)"] == "" and r["TPOT p99 (ms)"] == "" for r in rows)
    assert any(r["TTFT p50 (ms)"] for r in rows)  # the figures it has are still there
