"""The HTML report (outputs/report.py): what the page holds, that it loads nothing, that text
from a run file stays text, that several runs overlay — and ``loadtui report`` / ``--report``
as a user runs them (a real run against the mock over loopback)."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

from helpers import REPO, run_cli
from loadtui.metrics.histogram import Histogram
from loadtui.mock import MockProcess
from loadtui.model.controls import ControlChange
from loadtui.model.record import (
    ErrorSample,
    LabelSummary,
    Metrics,
    Percentiles,
    RunHistograms,
    RunRecord,
    SeriesPoint,
)
from loadtui.outputs.report import render_report, write_report
from loadtui.storage.runfile import load_record

DATA = REPO / "tests" / "data"
TIME_CHARTS = 5
"""Latency, TTFT, requests/s, errors/s, users (a closed-loop run: no arrivals chart)."""
XSS = "<script>alert(1)</script>"


class _Page(HTMLParser):
    """Every start tag with its attributes, and the text inside each ``<svg>``'s legend."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.svgs: list[list[str]] = []
        self._in_legend_text = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "svg":
            self.svgs.append([])
        self._in_legend_text = tag == "text" and bool(self.svgs) and self._legend_open
        if tag == "g":
            self._legend_open = dict(attrs).get("class") == "legend-item"

    _legend_open = False

    def handle_data(self, data: str) -> None:
        if self._in_legend_text:
            self.svgs[-1].append(data)
            self._in_legend_text = False

    def count(self, tag: str, cls: str | None = None) -> int:
        return sum(
            1 for t, a in self.tags if t == tag and (cls is None or cls in (a.get("class") or ""))
        )


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    return page


def _mix() -> RunRecord:
    return load_record(DATA / "run-mix.json")


def test_page_parses_with_one_svg_per_chart() -> None:
    page = _parse(render_report([_mix()]))
    assert page.count("svg") == TIME_CHARTS + 1  # and the distribution
    labels = [a.get("aria-label") for t, a in page.tags if t == "svg"]
    assert "Latency percentiles per second" in labels
    assert "Latency distribution by percentile" in labels
    assert page.count("path", "series") >= TIME_CHARTS  # every chart drew its lines
    for section in ("config", "summary", "latency", "load", "distribution", "labels"):
        assert ("section", {"id": section}) in page.tags


def test_the_page_loads_nothing() -> None:
    html = render_report([_mix(), load_record(DATA / "run-a.json")])
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.I)
    for banned in ("<script", "<link", "<img", "<iframe", "@import", "url("):
        assert banned not in html.lower()
    assert "Content-Security-Policy" in html and "default-src 'none'" in html


def test_control_changes_are_marked_on_every_time_chart() -> None:
    run = load_record(DATA / "run-a.json")  # users 6, rate 20, pause, resume from a control file
    page = _parse(render_report([run]))
    assert page.count("g", "marker") == TIME_CHARTS * len(run.controls)
    html = render_report([run])
    for label in ("users 6", "rate 20/s", "pause", "resume"):
        assert f">{label}</text>" in html


def _hostile(run: RunRecord) -> RunRecord:
    """A run whose texts are all markup: a reason, a label, a sample's headers and body."""
    summary = dataclasses.replace(
        run.summary,
        errors={"http_500": 2},
        errors_total=2,
        error_reasons={"http_500": (XSS,)},
        by_label={'<img src=x onerror="alert(2)">': LabelSummary(requests=3, errors=1)},
    )
    sample = ErrorSample(
        "http_500",
        1.5,
        status=500,
        label="<b>label</b>",
        reason=XSS,
        headers={"X-Evil": "<svg onload=alert(3)>"},
        body="</pre><script>alert(4)</script>",
    )
    config = run.config.model_copy(update={"description": "<i>mine</i>"})
    return dataclasses.replace(run, summary=summary, error_samples=(sample,), config=config)


def test_text_from_a_run_file_is_escaped() -> None:
    html = render_report([_hostile(_mix())])
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;/pre&gt;&lt;script&gt;alert(4)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;" in html
    page = _parse(html)
    assert page.count("script") == page.count("img") == page.count("i") == 0
    assert page.count("svg") == TIME_CHARTS + 1  # the headers' <svg onload> stayed text


def test_several_runs_are_overlaid_with_a_legend_naming_each() -> None:
    a, b = load_record(DATA / "run-a.json"), load_record(DATA / "run-b.json")
    page = _parse(render_report([a, b]))
    assert page.count("svg") == TIME_CHARTS + 1  # one chart per metric, not one per run
    for legend in page.svgs:
        names = " ".join(legend)
        assert f"A: {a.id}" in names and f"B: {b.id}" in names
    summary_head = [t for t in page.tags if t[0] == "span" and t[1].get("class") == "swatch"]
    assert len(summary_head) >= 2 * 3  # config, summary and generator tables: a column each


def _with_series(run: RunRecord, points: list[SeriesPoint]) -> RunRecord:
    return dataclasses.replace(run, series=tuple(points), controls=())


def test_a_second_without_samples_is_a_gap_not_a_zero() -> None:
    base = _mix()
    points = [
        SeriesPoint(t, rps=5, latency_ms=Percentiles(100.0, 120.0, 130.0), ttft_ms=ttft)
        for t, ttft in enumerate(
            [Percentiles(50.0, 60.0, 70.0), Percentiles(), Percentiles(50.0, 60.0, 70.0)]
        )
    ]
    html = render_report([_with_series(base, points)])
    ttft = html.split('aria-label="Time to first token')[1].split("</svg>")[0]
    drawn = re.findall(r'class="series" d="([^"]+)"', ttft)
    assert len(drawn) == 3
    for d in drawn:  # two separate dots, never a line through zero
        assert d.count("M") == 2 and "L" not in d


def test_distribution_comes_from_the_histograms_when_the_file_has_them() -> None:
    run = _mix()
    plain = render_report([run])
    assert "this run file has no histograms" in plain
    h = Histogram()
    for i in range(1, 1001):
        h.record_ms(float(i))  # p99.9 is 999 ms, far from the summary's figures
    with_h = dataclasses.replace(run, histograms=RunHistograms(whole={"latency_ms": h.encode()}))
    html = render_report([with_h])
    assert "From the exact histograms" in html
    curve = html.split('aria-label="Latency distribution')[1].split("</svg>")[0]
    assert ">1000<" in curve or ">1k<" in curve  # the y axis reaches the histogram's tail


def test_an_hour_long_run_is_drawn_reduced_with_its_spike_and_fast() -> None:
    base = _mix()
    points = [
        SeriesPoint(t, users=20, rps=50, latency_ms=Percentiles(100.0, 150.0, 200.0))
        for t in range(3600)
    ]
    points[1234] = SeriesPoint(1234, users=20, rps=50, latency_ms=Percentiles(100, 150, 9000.0))
    controls = tuple(
        ControlChange("users", 10 + i, float(t), "live")
        for i, t in enumerate(range(300, 3600, 300))
    )
    run = dataclasses.replace(_with_series(base, points), controls=controls)
    started = time.process_time()
    html = render_report([run])
    cpu = time.process_time() - started
    assert cpu < 2.0, f"an hour's report took {cpu:.2f} s of CPU"
    latency = html.split('aria-label="Latency percentiles')[1].split("</svg>")[0]
    p99 = re.findall(r'class="series" d="([^"]+)"', latency)[2]
    assert p99.count("L") < 1300  # reduced to about one point a pixel
    assert ">10k<" in latency  # the one-second 9 s spike survived the reduction (axis to 10 s)
    assert len(html) < 1_000_000


def test_write_report_writes_the_page(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    write_report([_mix()], out)
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert list(tmp_path.iterdir()) == [out]  # no temporary file left behind


# -- the commands, as a user runs them ------------------------------------------------------


def test_report_command_writes_report_html_in_the_current_folder(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "loadtui",
            "report",
            str(DATA / "run-a.json"),
            str(DATA / "run-b.json"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "report saved: report.html"
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "loadtui report: 2 runs" in html


def test_report_command_refuses_bad_input_in_one_line(tmp_path: Path) -> None:
    cases = [
        (("report", str(tmp_path / "missing.json"), "-o", str(tmp_path / "r.html")), "no such"),
        (("report", str(DATA / "run-a.json"), "-o", str(tmp_path / "no" / "r.html")), "exist"),
        (("report", str(DATA / "run-a.json"), "-o", str(tmp_path)), "is a folder"),
        (("report", "not an id"), "not a run id"),
        (("report",), "RUN"),
        (("--report", str(tmp_path / "r.html")), "needs --headless"),  # the app has none
        (("--headless", "--report", str(tmp_path / "no" / "r.html")), "does not exist"),
    ]
    for args, why in cases:
        done = run_cli(*args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
        assert why in done.stderr, (args, done.stderr)
    assert not (tmp_path / "r.html").exists()


def test_headless_run_and_replay_write_the_report(tmp_path: Path, mock: MockProcess) -> None:
    run_file, report = tmp_path / "run.json", tmp_path / "run.html"
    args = ("--headless", "--preset", "smoke", "--duration", "2s", "--url", mock.url)
    done = run_cli(*args, "--out", str(run_file), "--report", str(report))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == f"run saved: {run_file}"  # still the last line
    assert f"report saved: {report}" in done.stderr
    run = load_record(run_file)
    html = report.read_text(encoding="utf-8")
    assert run.id in html and f"{run.summary.requests:,}" in html
    again = tmp_path / "again.html"
    replayed = run_cli(
        "replay",
        str(run_file),
        "--headless",
        "--url",
        mock.url,
        "--out",
        str(tmp_path / "r2.json"),
        "--report",
        str(again),
    )
    assert replayed.returncode == 0, replayed.stderr
    assert load_record(tmp_path / "r2.json").id in again.read_text(encoding="utf-8")


def test_an_open_loop_run_shows_arrivals_and_in_flight_instead_of_users() -> None:
    run = _mix()
    load = run.config.load.model_copy(update={"mode": "open", "rate": 10.0})
    page = _parse(
        render_report(
            [dataclasses.replace(run, config=run.config.model_copy(update={"load": load}))]
        )
    )
    labels = [a.get("aria-label") for t, a in page.tags if t == "svg"]
    assert "Arrivals per second (open loop)" in labels
    assert "Requests in flight (open loop)" in labels
    assert "Users" not in labels  # always 0 in open loop: not a chart worth drawing


def test_a_run_that_failed_before_any_second_still_renders() -> None:
    run = dataclasses.replace(
        _with_series(_mix(), []),
        status="failed",
        error="worker 0 died",
        summary=dataclasses.replace(_mix().summary, metrics=Metrics()),
    )
    html = render_report([run])
    page = _parse(html)
    assert page.count("svg") == TIME_CHARTS + 1
    assert html.count(">no samples</text>") == TIME_CHARTS + 1
    assert "failed (worker 0 died)" in html
