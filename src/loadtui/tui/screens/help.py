"""Every key of the screen you came from (and the app's), with what it does.

Built from the live bindings, so it can never disagree with the footer: a key the screen hides
now (``check_action`` False — the capacity search's keys in a run without a search, the users
keys in one with a search) is not listed either.
"""

from __future__ import annotations

from typing import Any

from textual.actions import parse
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Label, Static

__all__ = ["HelpScreen", "binding_rows"]

_NOTES = (
    "Latency is measured from the intended send time (open loop: the schedule, not the send).",
    "TTFT = first content token; ITL = gaps between tokens; TPOT = (latency − TTFT)/(tokens − 1).",
    "Formulas and the run-file format: docs/metrics.md, docs/run-format.md, docs/tui.md.",
)


def binding_rows(screen: Screen[Any]) -> list[tuple[str, str, str]]:
    """(key, description, tooltip) for every binding active on ``screen``, app bindings included."""
    rows = []
    seen = set()
    for active in screen.active_bindings.values():
        b: Binding = active.binding
        if b.system or (b.id is None and not b.show) or (b.action in seen and not b.show):
            continue  # Textual's own plumbing (focus, copy) is not ours to document
        if _hidden(screen, b.action):
            continue
        seen.add(b.action)
        shown_key = screen.app.get_key_display(b)
        rows.append((shown_key, b.description or b.action, b.tooltip or active.tooltip or ""))
    return rows


def _hidden(screen: Screen[Any], action: str) -> bool:
    """The screen hides this key now (greyed keys, ``None``, are still listed)."""
    _, name, params = parse(action)
    return screen.check_action(name, params) is False


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding(
            "escape,q,f1,question_mark", "close", "close", id="help.close", tooltip="Close help"
        )
    ]

    def __init__(self, below: Screen[Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.below = below

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box", classes="dialog"):
            yield Label(
                f"[b]Keys[/b] — {type(self.below).__name__.removesuffix('Screen').lower()} screen"
            )
            yield DataTable(id="help-keys", cursor_type="row", zebra_stripes=True)
            for note in _NOTES:
                yield Static(note, classes="note")
            yield Static(
                "↑/↓ scroll the keys · ctrl+p opens the command palette (theme, history, new run,"
                " …) · Esc closes.",
                classes="note",
            )

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("key", "does", "detail")
        for row in binding_rows(self.below):
            table.add_row(*row)

    def action_close(self) -> None:
        self.dismiss(None)
