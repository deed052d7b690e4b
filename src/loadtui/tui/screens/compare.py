"""Two saved runs side by side: their configuration, the not-alike warning, the same figures
with deltas (B against A) and a verdict only beyond the noise — what ``loadtui compare`` prints
(run/compare.py computes it, render/comparison.py draws the configuration for both)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from loadtui.model.record import RunRecord
from loadtui.render.comparison import config_summary, verdict_text, warning_text
from loadtui.run.compare import compare
from loadtui.tui.format import ms, rate

__all__ = ["CompareScreen"]


def _value(v: float | None, unit: str, label: str, signed: bool = False) -> str:
    if v is None:
        return "—"
    sign = ("+" if v > 0 else "−" if v < 0 else "±") if signed else ""
    a = abs(v)
    if unit == "ms":
        return sign + ms(a)
    if unit == "/s":
        return sign + rate(a)
    if label == "error rate":
        return f"{sign}{a:.2%}"
    return f"{sign}{a:,.0f}"


class CompareScreen(Screen[None]):
    BINDINGS = [Binding("escape", "back", "back", id="compare.back", tooltip="Back to history")]

    def __init__(self, a: RunRecord, b: RunRecord, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.a, self.b = a, b
        self.comparison = compare([a, b])

    def compose(self) -> ComposeResult:
        yield Static(
            Content.from_markup(
                "[b]Compare[/b]  A = $a\n         B = $b",
                a=f"{self.a.id} ({self.a.status})",
                b=f"{self.b.id} ({self.b.status})",
            ),
            id="compare-title",
        )
        yield Static(config_summary(self.comparison), id="compare-config")
        warning = warning_text(self.comparison)
        if warning is not None:
            yield Static(warning, id="compare-warning")
        yield DataTable(id="comparison", cursor_type="row", zebra_stripes=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("figure", "A", "B", "Δ (B−A)", "Δ %", "")
        for row in self.comparison.against_baseline[0].rows:
            table.add_row(
                Text(row.label),  # request labels come from the run files: plain text
                _value(row.a, row.unit, row.label),
                _value(row.b, row.unit, row.label),
                _value(row.delta, row.unit, row.label, signed=True),
                "—" if row.ratio is None else f"{row.ratio:+.1%}",
                verdict_text(row),
            )
        table.focus()

    def action_back(self) -> None:
        self.app.pop_screen()
