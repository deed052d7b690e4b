"""Thresholds in the app: the command line's reach the setup form's run, and a run stopped by
an ``abort_on_fail`` threshold says which one and why in the thresholds panel."""

from __future__ import annotations

import asyncio

from loadtui.model.record import ThresholdResult
from loadtui.run.options import Overrides
from loadtui.tui.app import LoadtuiApp
from loadtui.tui.settings import Settings
from test_tui_hardening import FixedRun, _live, _show, started_from_form


def test_command_line_thresholds_reach_the_run_the_setup_form_starts() -> None:
    prefill = Overrides(mock=True, threshold=["latency{label:chat} p(99)<800"], abort_on_fail=True)

    started = started_from_form(prefill)
    (spec,) = started.thresholds["latency{label:chat}"]
    assert (spec.threshold, spec.abort_on_fail) == ("p(99)<800", True)
    assert started.thresholds["error_rate"]  # the preset's (smoke) stay


def test_the_panel_names_the_threshold_that_stopped_the_run() -> None:
    aborted = ThresholdResult(
        metric="ttft{label:proxied}",
        expression="p(95)<100",
        actual=312.6,
        passed=False,
        reason="abort_on_fail: failed at 3s (314.9), which stopped the run",
        aborted=True,
    )

    async def scenario() -> str:
        app = LoadtuiApp(settings=Settings())
        async with app.run_test(size=(120, 30)) as pilot:
            frame = _live(thresholds=(aborted,), phase="stopped")
            screen = await _show(pilot, FixedRun(frame))
            return str(screen.query_one("#thresholds").render())

    shown = asyncio.run(scenario())
    assert "✘ ttft{label:proxied} p(95)<100 (312.6: abort_on_fail: failed at 3s" in shown
