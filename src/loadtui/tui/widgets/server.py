"""The server's own figures beside the client's: what ``--server-metrics`` scraped last.

Running and waiting requests and the KV cache say whether the server is the bottleneck; its
TTFT p50 next to the client's TTFT p50 of the same moment says how much of the wait the client
saw happened inside the server (the rest is network, proxies, the client). Hidden for a run
that did not scrape. Text from the server (a series' name) goes in as ``Content``, never as
markup.
"""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from loadtui.model.servermetrics import ServerSeries
from loadtui.run.frame import LiveFrame
from loadtui.tui.format import count, ms

__all__ = ["ServerPanel", "server_lines"]


def _last(series: ServerSeries, key: str) -> float | None:
    """The newest value of ``key`` (a histogram's percentile is missing in a second with no
    observation: the newest second that had one)."""
    for point in reversed(series.points):
        if key in point.values:
            return point.values[key]
    return None


def server_lines(frame: LiveFrame) -> list[str]:
    """The panel's lines (empty for a run without server metrics)."""
    series = frame.server
    if series is None:
        return []
    kv = _last(series, "kv_cache")
    kv_text = "—" if kv is None else f"{kv * 100:.0f}%"
    client = frame.last.ttft_ms.p50 if frame.last is not None else None
    server_ttft = _last(series, "ttft_p50_ms")
    failed = series.failed
    kinds = " · ".join(f"{k} {n}" for k, n in sorted(series.failures.items()))
    return [
        f"server running {count(_last(series, 'running'))} · waiting "
        f"{count(_last(series, 'waiting'))} · KV cache {kv_text}",
        f"TTFT p50 server {ms(server_ttft)} ms · client {ms(client)} ms",
        f"scrapes {count(series.scrapes)} · failed {count(failed)}"
        + (f" ({kinds})" if kinds else ""),
    ]


class ServerPanel(Static):
    """Shown once a frame carries the server's series (``--server-metrics``)."""

    frame: reactive[LiveFrame | None] = reactive(None, always_update=True)

    def on_mount(self) -> None:
        self.display = False

    def watch_frame(self, frame: LiveFrame | None) -> None:
        lines = [] if frame is None else server_lines(frame)
        self.display = bool(lines)
        if lines:
            self.set_class(bool(frame and frame.server and frame.server.failed), "-warning")
            self.update(Content("\n").join(Content(line) for line in lines))
