"""A yes/no question, for what must never happen by accident: quitting a run, replaying a run
file from elsewhere, deleting a run. The question may name a host from that file: it is shown as
plain text."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label

__all__ = ["ConfirmScreen"]


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS = [
        Binding("y", "answer(True)", "yes", id="confirm.yes", tooltip="Yes"),
        Binding("n,escape", "answer(False)", "no", id="confirm.no", tooltip="No"),
    ]

    def __init__(self, question: str, default: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.question = question
        self.default = default
        """What enter answers (the focused button); no for what cannot be undone."""

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box", classes="dialog"):
            yield Label(self.question, markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Yes (y)", id="yes", variant="error", compact=True)
                yield Button("No (n)", id="no", compact=True)

    def on_mount(self) -> None:
        if not self.default:
            self.query_one("#no", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
