"""The capacity search as it goes: the curve building step by step, and where the search is.

A capacity search (``--search``, the ``capacity`` preset) raises the load in steps and judges
each on its SLO attainment; the run service hands the app a ``SearchView`` in every frame. This
panel draws it as one table sorted by load — the curve read top to bottom: the attainment bar
shrinks and the TTFT bar grows past the knee, and refinement steps land between the probes that
bracket it — with the running step marked (‖ while it is held). Above it: what the search aims
for and where it is; once over, the search's own message (its capacity and interval, said once). Every string the
search or a server wrote is shown as plain text, never as markup.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import DataTable, Static

from loadtui.model.search import SearchView, StepView, load_unit
from loadtui.tui.format import ms

__all__ = ["FACTORS", "CapacityPanel", "head", "next_factor", "step_row"]

FACTORS = (1.1, 1.25, 1.5, 2.0, 3.0)
"""The step sizes the keys move between (the load is multiplied by this from one step to the
next while probing)."""

_EIGHTHS = " ▏▎▍▌▋▊▉█"
_LEVELS = " ▁▂▃▄▅▆▇█"
BAR_CELLS = 8
"""Width of the attainment bar: one cell is 1/8 of full attainment, one eighth of a cell 1/64."""

_VERDICT_STYLE = {
    "running": ("… running", "bold yellow"),
    "pass": ("✔ pass", "green"),
    "fail": ("✘ fail", "red"),
    "saturated": ("saturated", "magenta"),
    "skipped": ("skipped", "dim"),
}
_OUTCOME_STYLE = {
    "capacity": "bold green",
    "never_compliant": "bold red",
    "ceiling": "bold yellow",
    "generator_saturated": "bold magenta",
    "stopped": "bold",
}
_SEARCHING = {
    "rate": "searching: each step holds a rate until its attainment is clearly above or below"
    " the target",
    "users": "searching: each step holds a number of users until its attainment is clearly"
    " above or below the target",
}
COLUMNS = ("", "#", "load", "req", "attainment", "verdict", "TTFT p95", "ITL p95", "goodput", "err")
"""The steps table's columns; ``load`` is headed by the unit (``req/s`` or ``users``)."""


def next_factor(current: float, step: int) -> float:
    """The next step size up (``step`` 1) or down (-1) in ``FACTORS`` from ``current`` (which
    may lie between them, e.g. a preset's 1.8); it stays at the ends."""
    if step > 0:
        return next((f for f in FACTORS if f > current + 1e-9), FACTORS[-1])
    return next((f for f in reversed(FACTORS) if f < current - 1e-9), FACTORS[0])


def load_number(view: SearchView, load: float) -> str:
    """A load as a number: whole users, or requests/s to four figures — as the search's own
    message writes it, so one load reads the same in the table and in the message."""
    if view.mode == "users" or load >= 10_000:
        return f"{load:,.0f}"
    return f"{load:.4g}"


def unit(view: SearchView) -> str:
    return load_unit(view.mode)


def load_text(view: SearchView, load: float) -> str:
    """A load with its unit: ``12.5 req/s``, ``40 users``."""
    return f"{load_number(view, load)} {unit(view)}"


def _bar(fraction: float, cells: int) -> str:
    eighths = round(max(0.0, min(1.0, fraction)) * cells * 8)
    full, part = divmod(eighths, 8)
    return ("█" * full + (_EIGHTHS[part] if part else "")).ljust(cells)


def _attainment(step: StepView, target: float) -> Text:
    if step.attainment is None:
        return Text("—".ljust(BAR_CELLS + 1), style="dim")
    style = "green" if step.attainment >= target else "red"
    text = Text(_bar(step.attainment, BAR_CELLS), style=style)
    text.append(f" {step.attainment:.2f}")
    if step.attainment_ci is not None:
        lo, hi = step.attainment_ci
        text.append(f" {lo:.2f}–{hi:.2f}".replace("0.", "."), style="dim")
    return text


def _ttft(step: StepView, highest: float) -> Text:
    """p95 TTFT with a one-cell level against the highest step's: the curve's other side."""
    value = step.ttft_p95_ms
    if value is None:
        return Text("—", style="dim")
    level = round(value / highest * 8) if highest > 0 else 0
    return Text(f"{_LEVELS[max(1, level)]} {ms(value)}ms")


def step_row(view: SearchView, step: StepView, highest_ttft: float) -> tuple[str | Text, ...]:
    """One row of the steps table (``COLUMNS``)."""
    running = step.index == view.current
    # only the running step can be held: a finished step's hold is history, not a state
    mark = ("▶" if running else " ") + ("‖" if step.held and running else " ")
    label, style = _VERDICT_STYLE.get(step.verdict, (step.verdict, ""))
    return (
        Text(mark, style="bold"),
        str(step.index + 1),  # counted from 1 on screen, as the console's table does
        # a refinement step (bisection between the last pass and the first fail) is marked
        Text(load_number(view, step.load) + ("" if step.phase == "probe" else " ·")),
        f"{step.requests:,}",
        _attainment(step, view.target),
        Text(label, style=style),
        _ttft(step, highest_ttft),
        f"{ms(step.itl_p95_ms)}ms" if step.itl_p95_ms is not None else "—",
        f"{step.goodput_rate:,.1f}/s",
        f"{step.error_rate * 100:.1f}%",
    )


def head(view: SearchView) -> Text:
    """What the search aims for, then where it is (two lines) or, once over, its message."""
    text = Text()
    text.append(f"capacity search by {view.mode}", style="bold")
    n = len(view.steps)
    text.append(
        f" · attainment ≥ {view.target:.2f} · errors ≤ {view.error_limit * 100:g}%"
        f" · step ×{view.step_factor:g} · {n} step{'' if n == 1 else 's'}\n"
    )
    if view.outcome is not None and view.message:
        # the search's message says the capacity and its interval (or why there is none):
        # said once, as the engine wrote it — plain text, whatever it holds (a server's error)
        text.append(view.message, style=_OUTCOME_STYLE.get(view.outcome, ""))
        return text
    if view.capacity is not None:
        text.append(f"capacity {load_text(view, view.capacity)}", style="bold green")
        if view.interval is not None:
            lo, hi = view.interval
            text.append(f" (between {load_text(view, lo)} and {load_text(view, hi)})")
    else:
        text.append("capacity: not known yet", style="dim")
    current = next((s for s in view.steps if s.index == view.current), None)
    if current is not None and view.outcome is None:
        held = ", held" if current.held else ""
        text.append(
            f" · now step {current.index + 1} ({current.phase}) at {load_text(view, current.load)}"
            f", {current.duration_s:.0f} s{held}"
        )
    text.append("\n")
    if view.message:  # plain text, as above
        text.append(view.message, style=_OUTCOME_STYLE.get(view.outcome or "", ""))
    elif view.outcome is None:
        text.append(_SEARCHING[view.mode], style="dim")
    return text


class CapacityPanel(Vertical):
    """The search's head and its steps table; set ``view`` with each frame."""

    view: reactive[SearchView | None] = reactive(None, always_update=True)

    def __init__(self, view: SearchView | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.set_reactive(CapacityPanel.view, view)

    def compose(self) -> ComposeResult:
        yield Static(id="capacity-head", markup=False)
        yield DataTable(id="capacity-steps", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        view = self.view
        table.add_columns(*(unit(view) if c == "load" and view else c for c in COLUMNS))
        self._draw(view)

    def watch_view(self, view: SearchView | None) -> None:
        if self.is_mounted:
            self._draw(view)

    def _draw(self, view: SearchView | None) -> None:
        if view is None:
            return
        self.query_one("#capacity-head", Static).update(head(view))
        table: DataTable[Any] = self.query_one(DataTable)
        # a search has tens of steps, not thousands: the rows are written again each frame
        # (a step's figures change while it runs, and a refinement step slots in by load)
        row, scroll = table.cursor_row, table.scroll_y  # where the reader was stays put
        table.clear()
        highest = max((s.ttft_p95_ms or 0.0 for s in view.steps), default=0.0)
        for step in sorted(view.steps, key=lambda s: (s.load, s.index)):
            table.add_row(*step_row(view, step, highest), key=str(step.index))
        table.move_cursor(row=row, scroll=False)
        table.scroll_to(y=scroll, animate=False)
