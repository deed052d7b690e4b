"""The percentile table: latency, TTFT, ITL and TPOT for the whole run and the recent window."""

from __future__ import annotations

from typing import Any

from textual.reactive import reactive
from textual.widgets import DataTable

from loadtui.model.record import PercentileName
from loadtui.run.frame import LiveFrame
from loadtui.tui.format import count, ms

__all__ = ["PercentileTable"]

ROWS = (("latency", "latency_ms"), ("TTFT", "ttft_ms"), ("ITL", "itl_ms"), ("TPOT", "tpot_ms"))
COLUMNS: tuple[tuple[str, PercentileName], ...] = (
    ("p50", "p50"),
    ("p90", "p90"),
    ("p95", "p95"),
    ("p99", "p99"),
    ("p99.9", "p999"),
)


class PercentileTable(DataTable[str]):
    """Milliseconds; '—' where a metric saw no samples (ITL and TPOT need streaming)."""

    frame: reactive[LiveFrame | None] = reactive(None, always_update=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(show_cursor=False, zebra_stripes=True, cursor_type="none", **kwargs)

    def on_mount(self) -> None:
        self.add_column("metric", key="metric")
        self.add_column("over", key="over")
        for label, key in COLUMNS:
            self.add_column(label, key=key, width=7)
        self.add_column("max", key="max", width=7)
        self.add_column("n", key="n", width=8)

    def watch_frame(self, frame: LiveFrame | None) -> None:
        if frame is None or not self.is_mounted:
            return
        self.clear()
        windows = [("run", frame.totals)]
        if frame.recent is not None:
            windows.append((f"{frame.window_s}s", frame.recent))
        for label, key in ROWS:
            for over, summary in windows:
                m = summary.metrics.get(key)
                n = m.count
                cells = [ms(m.percentile(k)) if n else "—" for _, k in COLUMNS]
                self.add_row(
                    label if over == "run" else "",
                    over,
                    *cells,
                    ms(m.max) if n else "—",
                    count(n),
                )
