"""The app's overview shows the server's own figures beside the client's (``--server-metrics``):
running, waiting, KV cache, server vs client TTFT p50, failed scrapes; hidden without them.

The panel is mounted alone in a tiny app and given fixed frames (no run, no engine)."""

from __future__ import annotations

import asyncio

from textual.app import App, ComposeResult

from loadtui.model.record import Percentiles, SeriesPoint
from loadtui.model.servermetrics import ServerPoint, ServerSeries
from loadtui.run.frame import LiveFrame
from loadtui.run.options import Overrides
from loadtui.tui.widgets.server import ServerPanel
from test_tui_hardening import started_from_form


class _One(App[None]):
    def compose(self) -> ComposeResult:
        yield ServerPanel(id="server")


def _shown(frame: LiveFrame) -> tuple[bool, str]:
    async def scenario() -> tuple[bool, str]:
        app = _One()
        async with app.run_test(size=(100, 8)) as pilot:
            panel = app.query_one(ServerPanel)
            panel.frame = frame
            await pilot.pause()
            return bool(panel.display), str(panel.render())

    return asyncio.run(scenario())


def test_the_server_panel_shows_the_newest_values_beside_the_client_ttft() -> None:
    series = ServerSeries(
        url="http://gpu:8000/metrics",
        points=(
            ServerPoint(3, {"running": 8, "waiting": 1, "kv_cache": 0.5, "ttft_p50_ms": 412.0}),
            ServerPoint(4, {"running": 8, "waiting": 5, "kv_cache": 0.875}),  # no TTFT this s
        ),
        scrapes=6,
        failures={"timeout": 1},
    )
    last = SeriesPoint(t=4, ttft_ms=Percentiles(p50=450.0))
    shown, text = _shown(LiveFrame(phase="running", last=last, server=series))
    assert shown
    assert "running 8 · waiting 5 · KV cache 88%" in text
    assert "TTFT p50 server 412 ms · client 450 ms" in text  # the newest second that had one
    assert "scrapes 6 · failed 1 (timeout 1)" in text


def test_a_run_without_server_metrics_has_no_panel() -> None:
    shown, _ = _shown(LiveFrame(phase="running"))
    assert not shown


def test_server_metrics_on_the_command_line_reach_the_run_the_form_starts() -> None:
    """The setup form has no field for them: ``--server-metrics`` and ``--server-metric`` are
    kept, as ``--backend`` is."""

    prefill = Overrides(mock=True, server_metrics="mock", server_metric=["vllm:x"])
    started = started_from_form(prefill)
    assert started.server_metrics is not None
    assert (started.server_metrics.url, started.server_metrics.series) == ("mock", ("vllm:x",))
