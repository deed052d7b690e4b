"""Small HTML building blocks for the report: tables whose every cell is escaped.

A cell is plain text (escaped here) unless it is ``Markup`` — HTML this package built itself
from escaped parts. Text from a run file (labels, reasons, response bodies, URLs) therefore
cannot become markup by accident: it has to be passed as a plain ``str``.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from loadtui.run.units import fmt_ms

__all__ = ["Cell", "Markup", "badge", "count", "ms", "pct", "table"]


class Markup(str):
    """HTML built by this package from escaped parts: put into a page as it is."""

    __slots__ = ()


Cell = str | int | float | None


def text(value: Cell) -> str:
    """A cell's HTML: ``Markup`` as is, anything else escaped (None is a dash)."""
    if isinstance(value, Markup):
        return value
    if value is None:
        return "—"
    return escape(str(value))


def table(
    head: Sequence[str], rows: Sequence[Sequence[Cell]], cls: str = "", caption: str = ""
) -> Markup:
    """A table: the first column is a row heading, the others are right-aligned figures."""
    klass = f' class="{escape(cls)}"' if cls else ""
    out = [f"<table{klass}>"]
    if caption:
        out.append(f"<caption>{escape(caption)}</caption>")
    out.append("<thead><tr>" + "".join(f"<th>{text(h)}</th>" for h in head) + "</tr></thead>")
    out.append("<tbody>")
    for row in rows:
        cells = [f"<th>{text(row[0])}</th>", *(f"<td>{text(c)}</td>" for c in row[1:])]
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return Markup("".join(out))


def ms(value: float | None, samples: int = 1) -> str:
    """Milliseconds as the console writes them; a dash when there were no samples."""
    return fmt_ms(value) if samples else "—"


def count(value: int | float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def pct(rate: float) -> str:
    """A rate in 0..1 as a percentage."""
    return f"{rate * 100:.2f} %"


def badge(ok: bool, skipped: bool = False) -> Markup:
    if skipped:
        return Markup('<span class="badge skip">skipped</span>')
    if ok:
        return Markup('<span class="badge pass">pass</span>')
    return Markup('<span class="badge fail">FAIL</span>')
