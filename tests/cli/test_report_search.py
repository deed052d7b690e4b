"""The report of a capacity search run: a "Capacity search" section with the result, the curve
against load (dots, confidence bars, the target line) and the steps, every text escaped; and
the configuration says it was a search (run/describe.py, shared with ``show`` and ``compare``).
The run is ``tests/data/run-mix.json`` given a search's config and result."""

from __future__ import annotations

import dataclasses
from html.parser import HTMLParser

from helpers import REPO
from loadtui.model.record import RunRecord
from loadtui.model.search import SearchSpec, SearchView, StepView
from loadtui.outputs.report import render_report
from loadtui.run.compare import config_rows
from loadtui.storage.runfile import load_record

XSS = "<script>alert(1)</script>"


def _step(index: int, load: float, attainment: float, verdict: str) -> StepView:
    return StepView(
        index=index, load=load, phase="probe" if index < 3 else "refine", started_s=5.0 * index,
        duration_s=5.0, requests=100, attainment=attainment,
        attainment_ci=(attainment - 0.04, min(1.0, attainment + 0.02)),
        goodput_rate=load * attainment, error_rate=0.0, ttft_p50_ms=40.0 * load,
        ttft_p95_ms=60.0 * load, itl_p50_ms=10.0, itl_p95_ms=12.0, latency_p50_ms=200.0,
        latency_p95_ms=310.0, verdict=verdict, held=index == 1,
    )  # fmt: skip


def _search_run(message: str = "capacity found") -> RunRecord:
    run = load_record(REPO / "tests" / "data" / "run-mix.json")
    steps = (_step(0, 10, 1.0, "pass"), _step(1, 20, 0.97, "pass"), _step(2, 40, 0.3, "fail"))
    steps += (_step(3, 30, 0.8, "fail"),)
    view = SearchView(
        mode="rate", target=0.9, error_limit=0.01, step_factor=2.0, steps=steps, current=None,
        capacity=20.0, interval=(20.0, 30.0), outcome="capacity", message=message,
    )  # fmt: skip
    spec = SearchSpec(mode="rate", start=10, step_factor=2.0, max_load=200)
    return dataclasses.replace(
        run, search=view, config=run.config.model_copy(update={"search": spec})
    )


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def count(self, tag: str, cls: str) -> int:
        return sum(1 for t, a in self.tags if t == tag and cls in (a.get("class") or "").split())


def test_a_search_run_has_a_capacity_section_with_its_curve_and_steps() -> None:
    html = render_report([_search_run()])
    page = _Tags()
    page.feed(html)
    assert ("section", {"id": "search"}) in page.tags
    assert "Capacity: 20 req/s</strong> (between 20 and 30 req/s)" in html
    assert "SLO attainment ≥ 0.90" in html
    labels = [a.get("aria-label") for t, a in page.tags if t == "svg"]
    assert {"SLO attainment by load", "TTFT by load", "Goodput by load"} <= set(labels)
    assert page.count("circle", "point") == 4 * 4  # attainment, TTFT p50 and p95, goodput
    assert page.count("path", "errorbar") == 4
    assert 'stroke-dasharray="6 4"' in html  # the target line
    assert page.count("table", "steps") == 1
    assert "0.970 [0.930, 0.990]" in html and "held" in html


def test_a_plain_run_has_no_capacity_section() -> None:
    html = render_report([load_record(REPO / "tests" / "data" / "run-mix.json")])
    assert 'id="search"' not in html


def test_the_search_message_is_escaped() -> None:
    html = render_report([_search_run(XSS)])
    assert XSS not in html and "&lt;script&gt;" in html


def test_configuration_show_and_compare_say_it_was_a_search() -> None:
    run = _search_run()
    said = "capacity search (rate): from 10 req/s, ×2 per step, ceiling 200 req/s"
    assert said in render_report([run])
    rows = {row.label: row.values for row in config_rows([run, run])}
    assert said in rows["load"][0] and rows["mode"][0] == "capacity search"
