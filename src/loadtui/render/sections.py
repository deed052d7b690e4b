"""Summary sections of the request-mix workflows: per request label, checks, proxy overhead.

Shown only when a run has them (a mix, checks, an overhead or Batch run), each fitting 80
columns; the console summary and the app's Requests tab show the same figures.
"""

from __future__ import annotations

from rich import box
from rich.table import Table
from rich.text import Text

from loadtui.model.record import RunSummary
from loadtui.run.units import fmt_ms

__all__ = ["workflow_sections"]


def _ms(v: float | None) -> str:
    return fmt_ms(v, missing="-")  # the one formatter: the app's Requests tab shows these too


def _by_label(s: RunSummary) -> Table | None:
    labels = s.by_label
    if len(labels) < 2:
        return None
    t = Table(title="by request (ms)", title_justify="left", box=box.SIMPLE_HEAD, padding=(0, 1))
    t.add_column("request", no_wrap=True)
    # ITL p50 for a mix with streams (files from before labels kept ITL have none: no column)
    itl = any(row.itl_ms.count for row in labels.values())
    cols = ("count", "errors", "p50", "p95", "p99", "TTFT p50", "TTFT p95")
    for col in (*cols, "ITL p50") if itl else cols:
        t.add_column(col, justify="right")
    for name, row in labels.items():
        lat, ttft = row.latency_ms, row.ttft_ms
        cells: list[Text | str] = [
            Text(name),  # a preset's own label: plain text, never markup
            f"{row.requests:,}",
            f"{row.errors:,}",
            # a label whose requests are all in flight (a long stream's label has ITL first)
            _ms(lat.p50) if lat.count else "-",
            _ms(lat.p95) if lat.count else "-",
            _ms(lat.p99) if lat.count else "-",
            _ms(ttft.p50) if ttft.count else "-",
            _ms(ttft.p95) if ttft.count else "-",
        ]
        if itl:
            cells.append(_ms(row.itl_ms.p50) if row.itl_ms.count else "-")
        t.add_row(*cells)
    return t


def _checks(s: RunSummary) -> Table | None:
    if not s.checks:
        return None
    t = Table(title="checks", title_justify="left", box=box.SIMPLE_HEAD, padding=(0, 1))
    t.add_column("check")
    t.add_column("passed", justify="right")
    t.add_column("failed", justify="right")
    t.add_column("rate", justify="right")
    for name, c in s.checks.items():
        failed = Text(f"{c.failed:,}", style="red bold" if c.failed else "")
        t.add_row(Text(name), f"{c.passed:,}", failed, f"{c.pass_rate:.2%}")
    return t


def _overhead(s: RunSummary) -> Table | None:
    o = s.overhead
    if o is None:
        return None
    t = Table(
        title=f"proxy overhead = proxied − direct (ms), {o.pairs:,} pairs",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        padding=(0, 1),
        min_width=60,
    )
    t.add_column("metric")
    for col in ("p50", "p95", "p99"):
        t.add_column(col, justify="right")
    for pcts, label in ((o.latency_ms, "latency"), (o.ttft_ms, "TTFT")):
        if pcts is not None:
            t.add_row(label, *(f"{v or 0.0:+.2f}" for v in (pcts.p50, pcts.p95, pcts.p99)))
    return t


def workflow_sections(summary: RunSummary) -> list[Table]:
    """The sections this run has (none for a plain run)."""
    return [t for t in (_by_label(summary), _checks(summary), _overhead(summary)) if t is not None]
