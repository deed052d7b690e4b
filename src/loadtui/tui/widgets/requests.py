"""The Requests tab: per request label, checks and proxy overhead — the same tables as the
headless summary (``render.sections``), from the frame's whole-run summary — and every error
class with the messages the server gave for it (``error_reasons``: a list per class, when the
run has them; each shown as plain text, one per line).
"""

from __future__ import annotations

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from loadtui.model.record import RunSummary
from loadtui.render.sections import workflow_sections
from loadtui.run.frame import LiveFrame
from loadtui.tui.format import count

__all__ = ["RequestsPanel", "errors_table"]


def errors_table(totals: RunSummary) -> Table | None:
    """Errors by class (all of them, most frequent first), cancelled requests, and the reasons
    kept per class; None when the run had neither errors nor cancelled requests."""
    errors, cancelled, reasons = totals.errors, totals.cancelled, totals.error_reasons
    if not errors and not cancelled:
        return None
    table = Table(
        title="errors by class", title_justify="left", box=box.SIMPLE_HEAD, padding=(0, 1)
    )
    table.add_column("class")
    table.add_column("count", justify="right")
    table.add_column("reasons", overflow="fold")
    for cls, n in sorted(errors.items(), key=lambda kv: (-kv[1], kv[0])):
        table.add_row(Text(cls), count(n), _reasons(reasons.get(cls)))
    if cancelled:
        table.add_row(Text("cancelled"), count(cancelled), Text("cut off by the stop (not errors)"))
    return table


def _reasons(given: tuple[str, ...] | None) -> Text:
    """A class's messages, one per line, as plain text (a server's words are never markup)."""
    if not given:
        return Text("")
    return Text("\n").join(Text(m) for m in given)


class RequestsPanel(Static):
    frame: reactive[LiveFrame | None] = reactive(None, always_update=True)

    def watch_frame(self, frame: LiveFrame | None) -> None:
        if frame is None:
            return
        parts: list[RenderableType] = list(workflow_sections(frame.totals))
        errors = errors_table(frame.totals)
        if errors is not None:
            parts.append(errors)
        if parts:
            self.update(Group(*parts))
        else:
            self.update("one kind of request, no checks, no errors: all is on the Overview tab")
