"""Sparklines of the last two minutes: TTFT p50 and p95, requests/s and errors/s."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import Label, Sparkline

from loadtui.tui.format import count, ms
from loadtui.tui.frame import SPARK_SECONDS, Frame

__all__ = ["SparkPanel"]

LINES = (
    ("ttft_p50", "TTFT p50", ms),
    ("ttft_p95", "TTFT p95", ms),
    ("rps", "req/s", count),
    ("errors", "errors/s", count),
)


class SparkPanel(Vertical):
    frame: reactive[Frame | None] = reactive(None, always_update=True)

    def compose(self) -> ComposeResult:
        for key, label, _ in LINES:
            with Horizontal(classes="spark-row"):
                yield Label(label, classes="spark-label")
                yield Sparkline([], id=f"spark-{key.replace('_', '-')}", classes=f"spark {key}")
                yield Label("—", id=f"now-{key.replace('_', '-')}", classes="spark-now")

    def watch_frame(self, frame: Frame | None) -> None:
        if frame is None or not self.is_mounted:
            return
        for key, _, fmt in LINES:
            values = frame.spark.get(key, [])
            line = self.query_one(f"#spark-{key.replace('_', '-')}", Sparkline)
            line.data = values[-SPARK_SECONDS:] or [0.0]
            now = self.query_one(f"#now-{key.replace('_', '-')}", Label)
            # a second without a streamed answer has no TTFT: show that, not a 0 ms TTFT
            no_data = not values or (key.startswith("ttft") and not values[-1])
            now.update("—" if no_data else fmt(values[-1]))
