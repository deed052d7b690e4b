"""Per-user status, one page at a time: fast with thousands of users.

Only the rows of the visible page are put in the table, so a redraw costs the same with 10 or
10,000 users; sorting the compact row tuples is the only per-user work (well under a millisecond
for a thousand). The run screen's keys ``[``/``]`` page and ``o`` cycles the sort of the table
in view, wherever the focus is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import DataTable, Static

from loadtui.engine.worker import USER_ROWS_MAX
from loadtui.model.outcomes import UserState
from loadtui.model.snapshot import UserRow
from loadtui.tui.format import count, ms

__all__ = ["SORTS", "UserTable", "sort_rows"]

STATE_NAMES = {
    UserState.IDLE: "idle",
    UserState.CONNECTING: "connecting",
    UserState.WAITING: "waiting 1st token",
    UserState.STREAMING: "streaming",
    UserState.THINKING: "thinking",
    UserState.ERROR: "error",
    UserState.PAUSED: "paused",
    UserState.STOPPED: "stopped",
}
# errors first, then the users holding a request open, then the idle ones
_STATE_ORDER = {
    UserState.ERROR: 0,
    UserState.CONNECTING: 1,
    UserState.WAITING: 2,
    UserState.STREAMING: 3,
    UserState.THINKING: 4,
    UserState.PAUSED: 5,
    UserState.IDLE: 6,
    UserState.STOPPED: 7,
}

SORTS = ("user", "state", "latency", "age")


def sort_rows(rows: Sequence[UserRow], by: str) -> list[UserRow]:
    """Rows in display order: by user id, by state, slowest last latency first, oldest request."""
    if by == "state":
        return sorted(rows, key=lambda r: (_STATE_ORDER.get(UserState(r.state), 9), r.uid))
    if by == "latency":
        return sorted(rows, key=lambda r: (-r.last_latency, r.uid))
    if by == "age":
        return sorted(rows, key=lambda r: (-r.age, r.uid))
    return sorted(rows, key=lambda r: r.uid)


class UserTable(Vertical):
    rows: reactive[Sequence[UserRow]] = reactive((), always_update=True)
    sort_by: reactive[str] = reactive("state")
    page: reactive[int] = reactive(0)

    def __init__(self, page_size: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._fixed_page = page_size
        self.total = 0
        """Users running (``LiveFrame.users``): more than the rows when workers cap their rows."""

    def compose(self) -> ComposeResult:
        yield Static("", classes="users-caption")
        yield DataTable(cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label, width in (
            ("user", 6),
            ("state", 17),
            ("age s", 7),
            ("last ms", 8),
            ("TTFT ms", 8),
            ("reqs", 7),
            ("errs", 6),
        ):
            table.add_column(label, width=width)
        self._redraw()

    @property
    def page_size(self) -> int:
        if self._fixed_page:
            return self._fixed_page
        return max(5, self.size.height - 2)  # less the caption and the header row

    def action_page(self, step: int) -> None:
        self.page = max(0, self.page + step)

    def action_sort(self) -> None:
        self.sort_by = SORTS[(SORTS.index(self.sort_by) + 1) % len(SORTS)]

    def on_resize(self) -> None:
        self._redraw()  # the page size follows the height

    def watch_rows(self) -> None:
        self._redraw()

    def watch_sort_by(self) -> None:
        self._redraw()

    def watch_page(self) -> None:
        self._redraw()

    def _redraw(self) -> None:
        if not self.is_mounted or not self.size.area:
            return  # hidden (another tab, or the narrow layout): drawn when it is resized into view
        rows = self.rows
        size = self.page_size
        pages = max(1, -(-len(rows) // size))
        page = min(self.page, pages - 1)
        shown = sort_rows(rows, self.sort_by)[page * size : (page + 1) * size]
        table = self.query_one(DataTable)
        table.clear()
        for row in shown:
            table.add_row(
                str(row.uid),
                STATE_NAMES.get(UserState(row.state), "?"),
                f"{row.age:.1f}" if row.age >= 0 else "—",
                ms(row.last_latency),
                ms(row.last_ttft),
                count(row.requests),
                count(row.errors),
            )
        first = page * size + 1 if rows else 0
        last_shown = min(len(rows), (page + 1) * size)
        self.query_one(".users-caption", Static).update(
            f"users {first}–{last_shown} of {self._listed(len(rows))} · page {page + 1}/{pages}"
            f" · sorted by {self.sort_by}  ([b]\\[ ][/b] page · [b]o[/b] sort)"
        )

    def _listed(self, n: int) -> str:
        """``400`` or, when each worker sent only its lowest ids' rows, ``400 listed of 10,000
        users (lowest ids, up to 200 per worker)``: never a row count passed off as the users."""
        if self.total <= n:
            return count(n)
        return (
            f"{count(n)} listed of {count(self.total)} users"
            f" (lowest ids, up to {USER_ROWS_MAX} per worker)"
        )
