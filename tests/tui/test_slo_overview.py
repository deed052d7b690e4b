"""The app's overview shows a run's SLOs: goodput, attainment and how often each SLO was missed.

The counters panel is mounted alone in a tiny app and given fixed frames (no run, no engine)."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from textual.app import App, ComposeResult

from loadtui.model.record import RunSummary, SloSummary
from loadtui.run.frame import LiveFrame
from loadtui.tui.widgets.panels import CountersPanel

_SLO = SloSummary(
    judged=200,
    ok=150,
    ok_tokens=1200,
    attainment=0.75,
    goodput_rps=12.5,
    goodput_tokens_per_s=100.0,
    misses={"ttft": 40, "latency": 10},
)


class _One(App[None]):
    def compose(self) -> ComposeResult:
        yield CountersPanel(id="counters")


def _shown(frame: LiveFrame) -> str:
    async def scenario() -> str:
        app = _One()
        async with app.run_test(size=(100, 12)) as pilot:
            panel = app.query_one(CountersPanel)
            panel.frame = frame
            await pilot.pause()
            return str(panel.render())

    return asyncio.run(scenario())


def test_goodput_attainment_and_each_slo_s_misses_are_shown():
    totals = RunSummary(requests=200, ok=190, errors_total=10, rps=16.7, slo=_SLO)
    recent = RunSummary(slo=replace(_SLO, goodput_rps=9.0))
    live = _shown(LiveFrame(phase="running", totals=totals, recent=recent))
    assert "goodput 9.0/s now · 12.5/s avg · 100 tok/s" in live
    assert "SLOs met 75.0% (150/200)" in live
    assert "missed ttft 40 (20.0%), latency 10 (5.0%)" in live  # every SLO, how often
    saved = _shown(LiveFrame(phase="completed", totals=totals))
    assert "goodput 12.5/s avg" in saved and "now" not in saved.split("goodput")[1]


def test_a_run_without_slos_shows_no_slo_line():
    shown = _shown(LiveFrame(phase="completed", totals=RunSummary(requests=3, ok=3)))
    assert "requests 3" in shown and "goodput" not in shown
