"""The report's "Server metrics" section: what the server said about itself, over time.

A run with ``--server-metrics`` keeps the server's series (``RunRecord.server``) on the same
seconds as the client's; drawn beside them they answer what the client's figures alone cannot:
were requests queueing in the server (running and waiting), was its KV cache full, and how much
of the TTFT the client saw the server saw too. Every name here came from a server or a user:
escaped (``html.escape``, the svg module's own escaping).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from loadtui.model.servermetrics import ServerSeries
from loadtui.outputs.html import Markup, table
from loadtui.outputs.report_sections import Shown
from loadtui.outputs.svg import Line, Point, time_chart

__all__ = ["server_section"]

_EACH = "Each point is one scrape, drawn in the middle of the second it was made in."
_RUNNING, _WAITING = "#1f6feb", "#d1242f"
_EXTRA_CHARTS = 8
"""The most ``--server-metric`` series drawn (each its own chart); the rest are in the file."""


def _points(series: ServerSeries, key: str, scale: float = 1.0) -> list[Point]:
    return [
        (p.t + 0.5, None if (v := p.values.get(key)) is None else v * scale) for p in series.points
    ]


def _figure(title: str, svg: str, caption: str) -> str:
    return (
        f'<figure class="plot"><h3>{escape(title)}</h3>{svg}'
        f"<figcaption>{escape(caption)}</figcaption></figure>"
    )


def _pair(
    runs: Sequence[tuple[Shown, ServerSeries]], first: tuple[str, str], second: tuple[str, str]
) -> list[Line]:
    """Two lines per run: solid ``first``, dashed ``second`` (key, legend name) — one colour
    each for a single run, the run's colour for several."""
    lines = []
    for shown, series in runs:
        several = len(runs) > 1
        prefix = f"{shown.name} " if several else ""
        lines.append(
            Line(prefix + first[1], _points(series, first[0]), shown.color if several else _RUNNING)
        )
        lines.append(
            Line(
                prefix + second[1],
                _points(series, second[0]),
                shown.color if several else _WAITING,
                "6 4",
            )
        )
    return lines


def _ttft_lines(runs: Sequence[tuple[Shown, ServerSeries]]) -> list[Line]:
    """The server's TTFT p50 (solid) against the client's of the same seconds (dashed)."""
    lines = []
    for shown, series in runs:
        several = len(runs) > 1
        prefix = f"{shown.name} " if several else ""
        client: list[Point] = [(p.t + 0.5, p.ttft_ms.p50) for p in shown.run.series]
        color = shown.color if several else _RUNNING
        lines.append(Line(prefix + "server TTFT p50", _points(series, "ttft_p50_ms"), color))
        lines.append(
            Line(prefix + "client TTFT p50", client, shown.color if several else _WAITING, "6 4")
        )
    return lines


def _scrapes(runs: Sequence[tuple[Shown, ServerSeries]]) -> Markup:
    rows = [
        (
            shown.name,
            series.url,
            series.scrapes,
            ", ".join(f"{k} {n}" for k, n in sorted(series.failures.items())) or "none",
            ", ".join(f"{k}: {v}" for k, v in series.sources.items()) or "none of the known",
        )
        for shown, series in runs
    ]
    head = ("run", "endpoint", "scrapes", "failed", "read from")
    return table(head, rows, cls="server")


def _extra_keys(runs: Sequence[tuple[Shown, ServerSeries]]) -> list[str]:
    known = {"running", "waiting", "kv_cache", "ttft_p50_ms", "ttft_p95_ms"}
    keys = [k for _, s in runs for p in s.points for k in p.values if k not in known]
    return list(dict.fromkeys(keys))[:_EXTRA_CHARTS]


def server_section(shown: Sequence[Shown]) -> Markup:
    """Running and waiting requests, KV cache, server vs client TTFT, each named series."""
    runs = [(s, s.run.server) for s in shown if s.run.server is not None]
    if not runs:
        return Markup("")
    x_max = max(
        max([sh.run.summary.duration_s, *(p.t + 1 for p in s.points[-1:])]) for sh, s in runs
    )
    out: list[str] = [_scrapes(runs)]
    title = "Requests running and waiting in the server"
    lines = _pair(runs, ("running", "running"), ("waiting", "waiting"))
    out.append(_figure(title, time_chart(title, "requests", lines, x_max), _EACH))
    title = "TTFT p50: the server's against the client's"
    ttft = time_chart(title, "ms", _ttft_lines(runs), x_max)
    why = " The server measures from when it took the request; the client adds the network."
    out.append(_figure(title, ttft, _EACH + why))
    if any(s.peak("kv_cache") is not None for _, s in runs):
        title = "KV-cache usage"
        kv = [Line(sh.name, _points(s, "kv_cache", 100.0), sh.color) for sh, s in runs]
        out.append(_figure(title, time_chart(title, "%", kv, x_max), _EACH))
    for key in _extra_keys(runs):
        extra = [Line(sh.name, _points(s, key), sh.color) for sh, s in runs]
        out.append(_figure(key, time_chart(key, "", extra, x_max), _EACH))
    return Markup("".join(out))
