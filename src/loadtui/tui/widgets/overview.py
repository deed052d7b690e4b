"""Everything about a run's figures in one block: used live on the run screen and, for a saved
run, on the run detail screen."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.reactive import reactive

from loadtui.run.frame import LiveFrame
from loadtui.tui.widgets.panels import CountersPanel, HealthPanel, ThresholdsPanel
from loadtui.tui.widgets.percentiles import PercentileTable
from loadtui.tui.widgets.server import ServerPanel
from loadtui.tui.widgets.sparks import SparkPanel

__all__ = ["RunOverview"]


class RunOverview(VerticalScroll):
    """Scrolls when the terminal is shorter than the block (it fits 80×24 with three thresholds)."""

    frame: reactive[LiveFrame | None] = reactive(None, always_update=True)

    def compose(self) -> ComposeResult:
        yield PercentileTable(id="percentiles")
        yield SparkPanel(id="sparks")
        with Horizontal(id="panels"):
            yield CountersPanel(id="counters", classes="panel")
            with Vertical(id="side"):
                yield HealthPanel(id="health", classes="panel")
                yield ServerPanel(id="server", classes="panel")  # --server-metrics only
                yield ThresholdsPanel(id="thresholds", classes="panel")

    def watch_frame(self, frame: LiveFrame | None) -> None:
        if frame is None or not self.is_mounted:
            return
        self.query_one(PercentileTable).frame = frame
        self.query_one(SparkPanel).frame = frame
        self.query_one(CountersPanel).frame = frame
        self.query_one(HealthPanel).frame = frame
        self.query_one(ServerPanel).frame = frame
        self.query_one(ThresholdsPanel).frame = frame
