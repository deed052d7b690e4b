"""The HTML report: one self-contained page made from one or more saved runs.

``loadtui report RUN [RUN...] -o report.html``, ``--report FILE.html`` at the end of a headless
run or replay, and ``export --format html`` all call ``write_report``. The page holds its CSS
inline and its charts as SVG (outputs/svg.py); it loads nothing — a Content-Security-Policy
forbids every fetch and script — so it opens the same offline, in a mail attachment or a CI
artifact. Several runs are overlaid in each chart and set side by side in each table.
docs/report.md describes what is in it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from html import escape
from pathlib import Path

from loadtui import __version__
from loadtui.model.record import RunRecord
from loadtui.outputs.destination import write_atomic
from loadtui.outputs.html import Markup
from loadtui.outputs.report_charts import (
    distribution_chart,
    load_charts,
    percentile_charts,
    slo_charts,
    whole_run_only,
)
from loadtui.outputs.report_compare import comparison_section
from loadtui.outputs.report_search import search_section
from loadtui.outputs.report_sections import (
    Shown,
    config_section,
    errors_section,
    generator_section,
    labels_section,
    percentiles_section,
    slo_section,
    summary_section,
    thresholds_section,
)
from loadtui.outputs.report_server import server_section

__all__ = ["render_report", "write_report"]

RUN_COLORS = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#17becf",
    "#8c564b",
    "#e377c2",
)

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
"""Nothing is fetched, nothing runs: the page is text, CSS and SVG."""

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#222;margin:0;background:#fff}
main{max-width:1000px;margin:0 auto;padding:16px 20px 48px}
h1{font-size:22px;margin:8px 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
h3{font-size:15px;margin:14px 0 4px}h4{font-size:14px;margin:12px 0 4px}
.meta,figcaption,.note{color:#666;font-size:12.5px}
table{border-collapse:collapse;margin:6px 0 10px;font-size:13px}
th,td{border-bottom:1px solid #e6e6e6;padding:3px 10px;text-align:left;vertical-align:top}
thead th{background:#f4f4f4;border-bottom:1px solid #ccc}
table.figures td{text-align:right;font-variant-numeric:tabular-nums}
table.errors td:last-child,table.thresholds td:last-child{text-align:left}
table.side td{font-variant-numeric:tabular-nums}
table.steps td{white-space:nowrap}
caption{text-align:left;font-weight:600;padding:4px 0}
.swatch{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:6px;vertical-align:-1px}
.badge{padding:0 6px;border-radius:3px;font-weight:600;font-size:12px}
.pass{background:#dff3e0;color:#19692c}.fail{background:#fbe0e0;color:#a11}.skip{background:#eee;color:#666}
figure.plot{margin:10px 0 18px}svg.chart{width:100%;height:auto;display:block}
.sample{border:1px solid #e3e3e3;border-radius:4px;padding:6px 10px;margin:8px 0;background:#fcfcfc}
.sample-head{font-weight:600;margin:2px 0}
pre{white-space:pre-wrap;word-break:break-all;background:#f6f6f6;padding:6px 8px;margin:4px 0;font-size:12px;max-height:24em;overflow:auto}
ul.warn,p.warn{color:#8a5a00;margin:4px 0}
@media print{main{max-width:none;padding:0}figure.plot,table,.sample{break-inside:avoid}pre{max-height:none}}
"""


def _shown(runs: Sequence[RunRecord]) -> list[Shown]:
    """Names and colours: a run's id, lettered when there are several (the same file twice
    is still two legend entries)."""
    if len(runs) == 1:
        return [Shown(runs[0], runs[0].id, RUN_COLORS[0])]
    return [
        Shown(
            run,
            f"{chr(ord('A') + i) if i < 26 else i + 1}: {run.id}",
            RUN_COLORS[i % len(RUN_COLORS)],
        )
        for i, run in enumerate(runs)
    ]


def _per_run(title: str, runs: Sequence[Shown], body: Markup | str) -> str:
    """A sub-heading for each run's part of a section when there are several."""
    return f"<h3>{escape(title)}</h3>{body}" if len(runs) > 1 else str(body)


def _sections(runs: list[Shown]) -> list[tuple[str, str, str]]:
    """(anchor, heading, HTML) of each section, in the page's order."""

    def each(section: Callable[[Shown], Markup]) -> str:
        return "".join(_per_run(s.name, runs, section(s)) for s in runs)

    compared = (  # several runs: each against the first, as ``loadtui compare`` judges it
        [("compare", "Compared with the first run", comparison_section(runs))]
        if len(runs) > 1
        else []
    )
    return [
        ("config", "Configuration", config_section(runs)),
        ("summary", "Summary", summary_section(runs) + each(percentiles_section)),
        *compared,
        *_search_sections(runs, each),
        ("latency", "Latency over time", percentile_charts(runs) + whole_run_only(runs)),
        ("load", "Load over time", load_charts(runs) + _controls(runs)),
        *_server_sections(runs),
        ("distribution", "Latency distribution", distribution_chart(runs)),
        *_slo_sections(runs, each),
        ("labels", "Per label", each(labels_section)),
        ("thresholds", "Thresholds", each(thresholds_section)),
        ("generator", "Generator health", generator_section(runs)),
        ("errors", "Errors", each(errors_section)),
    ]


def _slo_sections(
    runs: list[Shown], each: Callable[[Callable[[Shown], Markup]], str]
) -> list[tuple[str, str, str]]:
    """The SLO section, when any of the runs had SLOs."""
    if not any(s.run.summary.slo is not None for s in runs):
        return []
    return [("slo", "SLOs and goodput", slo_charts(runs) + each(slo_section))]


def _server_sections(runs: list[Shown]) -> list[tuple[str, str, str]]:
    """What the server said about itself (``--server-metrics``), when any run scraped it."""
    if not any(s.run.server is not None for s in runs):
        return []
    return [("server", "Server metrics", server_section(runs))]


def _search_sections(
    runs: list[Shown], each: Callable[[Callable[[Shown], Markup]], str]
) -> list[tuple[str, str, str]]:
    """The capacity search's result, curve and steps, when any of the runs was a search."""
    if not any(s.run.search is not None for s in runs):
        return []
    return [("search", "Capacity search", each(search_section))]


def _controls(runs: Sequence[Shown]) -> str:
    rows = [
        f"<tr><th>{escape(s.name)}</th><td>{c.at or 0:.1f} s</td><td>{escape(c.action)}</td>"
        f"<td>{escape('' if c.value is None else str(c.value))}</td><td>{escape(c.source)}</td></tr>"
        for s in runs
        for c in s.run.controls
    ]
    if not rows:
        return "<p>No control changes.</p>"
    head = "<tr><th>run</th><th>at</th><th>action</th><th>value</th><th>source</th></tr>"
    return (
        f'<h3>Control changes</h3><table class="controls"><thead>{head}</thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def render_report(runs: Sequence[RunRecord]) -> str:
    """The report page for ``runs`` (at least one), as HTML text."""
    if not runs:
        raise ValueError("a report needs at least one run")
    shown = _shown(runs)
    title = (
        f"loadtui report: {shown[0].run.id}"
        if len(shown) == 1
        else f"loadtui report: {len(shown)} runs"
    )
    sections = _sections(shown)
    nav = " · ".join(f'<a href="#{a}">{escape(h)}</a>' for a, h, _ in sections)
    made = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = "".join(
        f'<section id="{a}"><h2>{escape(h)}</h2>{html}</section>' for a, h, html in sections
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body><main>"
        f"<h1>{escape(title)}</h1>"
        f'<p class="meta">Made by loadtui {escape(__version__)} on {made}. {nav}</p>'
        f"{body}</main></body></html>\n"
    )


def write_report(runs: Sequence[RunRecord], path: Path) -> None:
    """Write the report for ``runs`` to ``path`` whole or not at all (``write_atomic``: a
    temporary file in the same folder, renamed into place; OSError as is)."""
    write_atomic(Path(path), render_report(runs).encode("utf-8"))
