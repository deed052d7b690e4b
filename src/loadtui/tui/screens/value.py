"""A small dialog for an exact live value: ``users 50``, ``rate 20``, ``think 1-2s``."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from loadtui.model.controls import ControlChange, parse_control

__all__ = ["ValueScreen", "parse_value"]

_ALIASES = {
    "u": "users",
    "user": "users",
    "users": "users",
    "r": "rate",
    "rate": "rate",
    "t": "think_time",
    "think": "think_time",
    "think_time": "think_time",
}


def parse_value(text: str) -> ControlChange:
    """``users 50`` / ``rate 20`` / ``think 1-2s`` (a bare number means users, or the rate in
    open loop — the caller decides). Raises ValueError with a message for the user."""
    parts = text.split()
    if len(parts) != 2 or parts[0].lower() not in _ALIASES:
        raise ValueError("type users N, rate N or think LOW-HIGH (for example: users 50)")
    action = _ALIASES[parts[0].lower()]
    raw: Any = parts[1]
    if action == "users":
        try:
            raw = int(raw)
        except ValueError:
            raise ValueError(f"users needs a whole number, got {parts[1]!r}") from None
    elif action == "rate":
        try:
            raw = float(raw.removesuffix("/s"))
        except ValueError:
            raise ValueError(f"rate needs a number (requests/s), got {parts[1]!r}") from None
    change = parse_control({"action": action, "value": raw, "at": 0}, source="live")
    return ControlChange(change.action, change.value, None, "live")


class ValueScreen(ModalScreen[ControlChange | None]):
    BINDINGS = [
        Binding("escape", "cancel", "cancel", id="value.cancel", tooltip="Close without a change")
    ]

    def __init__(self, open_loop: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.open_loop = open_loop

    def compose(self) -> ComposeResult:
        with Vertical(id="value-box", classes="dialog"):
            yield Label(
                "Set an exact value — users N · rate N (req/s; 0 lifts a closed-loop cap) · think LOW-HIGH"
            )
            yield Input(placeholder="rate 20" if self.open_loop else "users 50", id="value-input")
            yield Label("", id="value-error", classes="error-text")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if text.replace(".", "", 1).isdigit():
            text = f"{'rate' if self.open_loop else 'users'} {text}"
        try:
            self.dismiss(parse_value(text))
        except ValueError as exc:
            self.query_one("#value-error", Label).update(Content(str(exc)))

    def action_cancel(self) -> None:
        self.dismiss(None)
