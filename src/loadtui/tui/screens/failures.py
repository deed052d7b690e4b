"""The failure detail view: each error class of a run, and the responses kept as its samples.

A count says *that* requests failed; the samples (``ErrorSample``: the first few failed
responses of each class, redacted) say what the target answered — status, headers and the start
of the body. Opened with **e** from the run screen (what the run has kept so far) and from a
saved run's detail. Everything a server sent is shown as plain text: a body ``[bold]x[/]``
shows as typed, never as markup.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from loadtui.model.record import ErrorSample

__all__ = ["FailureScreen", "failure_classes", "samples_text"]


def failure_classes(
    errors: Mapping[str, int], samples: Sequence[ErrorSample]
) -> list[tuple[str, int, int]]:
    """(class, count, samples kept) for every class with errors or samples, most frequent
    first."""
    kept: dict[str, int] = {}
    for s in samples:
        kept[s.error_class] = kept.get(s.error_class, 0) + 1
    names = set(errors) | set(kept)
    rows = [(name, errors.get(name, 0), kept.get(name, 0)) for name in names]
    return sorted(rows, key=lambda r: (-r[1], r[0]))


def samples_text(error_class: str, samples: Sequence[ErrorSample]) -> Text:
    """The samples of one class as plain text (never markup: a server's words are shown as
    typed)."""
    mine = [s for s in samples if s.error_class == error_class]
    if not mine:
        return Text(f"no sample kept for {error_class} (batch jobs keep none)")
    out = Text()
    for i, s in enumerate(mine, 1):
        status = "no response" if s.status is None else f"status {s.status}"
        head = f"#{i} {error_class} · at {s.at_s:.3f} s · {status}"
        if s.label:
            head += f" · {s.label}"
        out.append(head + "\n", style="bold")
        if s.reason:
            out.append(f"reason: {s.reason}\n")
        for name, value in s.headers.items():
            out.append(f"{name}: ", style="dim")
            out.append(f"{value}\n")
        if s.body:
            cut = " (cut to its first 4 KB)" if s.body_truncated else ""
            out.append(f"body{cut}:\n", style="dim")
            out.append(s.body.rstrip("\n") + "\n")
        out.append("\n")
    return out


class FailureScreen(ModalScreen[None]):
    """Error classes on the left, the selected class's samples on the right."""

    CSS_PATH: ClassVar[str] = str(Path(__file__).parents[1] / "css" / "failures.tcss")
    BINDINGS = [Binding("escape,q,e", "close", "close", id="failures.close", tooltip="Close")]

    def __init__(
        self, errors: Mapping[str, int], samples: Sequence[ErrorSample], **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.samples = tuple(samples)
        self.rows = failure_classes(errors, samples)

    def compose(self) -> ComposeResult:
        with Vertical(id="failures-box", classes="dialog"):
            yield Label("[b]Failures[/b] — the first responses of each error class")
            with Horizontal(id="failures-body"):
                yield OptionList(
                    *(
                        Option(Text(f"{name} {n:,} ({k} kept)"), id=name)
                        for name, n, k in self.rows
                    ),
                    id="failure-classes",
                )
                with VerticalScroll(id="failure-scroll"):
                    yield Static(id="failure-samples")
            yield Static(
                "↑/↓ choose a class · bodies cut to 4 KB, keys shown as *** · Esc closes",
                classes="note",
            )

    def on_mount(self) -> None:
        shown = self.query_one("#failure-samples", Static)
        if not self.rows:
            shown.update(Text("no errors in this run"))
            return
        classes = self.query_one(OptionList)
        classes.highlighted = 0
        classes.focus()

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        name = event.option.id
        if name is not None:
            self.query_one("#failure-samples", Static).update(samples_text(name, self.samples))

    def action_close(self) -> None:
        self.dismiss(None)
