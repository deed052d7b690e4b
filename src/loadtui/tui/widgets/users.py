"""Per-user status, one page at a time: fast with thousands of users.

Only the rows of the visible page are put in the table, so a redraw costs the same with 10 or
10,000 users; sorting the compact row tuples is the only per-user work (well under a millisecond
for a thousand). The run screen's keys ``[``/``]`` page and ``o`` cycles the sort of the table
in view, wherever the focus is.

Each worker sends the rows of at most ``USER_ROWS_MAX`` users (its lowest ids unless asked for
others), so past that the table shows a window of user ids: ``{``/``}`` move it, the run
screen asks the workers for those ids' rows, and the table lists only rows of its window (the
frames still on their way show the old one).
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

__all__ = ["SORTS", "UserTable", "Window", "moved_window", "sort_rows", "window_size"]

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

Window = tuple[int, int]
"""User ids ``first`` … ``first + count - 1``: what the users table lists."""


def window_size(workers: int) -> int:
    """Ids in one window: as many rows as the workers send, ``USER_ROWS_MAX`` each (ids are
    dealt round-robin, ``uid % workers``, so a window of this size is that many rows)."""
    return USER_ROWS_MAX * max(1, workers)


def moved_window(window: Window | None, step: int, size: int, users: int) -> Window | None:
    """The window ``step`` windows on from ``window`` (None: the first) among ``users`` ids;
    None when there is none there (before the first id, past the last)."""
    first = (window[0] if window else 0) + step * size
    if first < 0 or first >= users:
        return None
    return first, size


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
    window: reactive[Window | None] = reactive(None)
    """The ids asked for with ``{``/``}``; None until then: every row the workers send (each
    its lowest ids), as a run with few users always shows."""

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

    def watch_window(self) -> None:
        self.page = 0  # a new window starts at its first page
        self._redraw()

    def _window_rows(self) -> Sequence[UserRow]:
        """The rows to list: those of the window (a frame from before the window moved brings
        other ids, which are not shown as if they were the window's)."""
        if self.window is None:
            return self.rows
        first, size = self.window
        return [row for row in self.rows if first <= row.uid < first + size]

    def _redraw(self) -> None:
        if not self.is_mounted or not self.size.area:
            return  # hidden (another tab, or the narrow layout): drawn when it is resized into view
        rows = self._window_rows()
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
        self.query_one(".users-caption", Static).update(self._caption(len(rows), page, pages))

    def _caption(self, n: int, page: int, pages: int) -> str:
        """Which users are listed, of how many: ``users 1–20 of 400`` (with ``listed of 10,000
        users (lowest ids, up to 200 per worker)`` when each worker sent only its lowest ids'
        rows), or in a window ``ids 200–399 of 1,000 users · rows 1–20 of 200``: never a row
        count passed off as the users."""
        size = self.page_size
        first = page * size + 1 if n else 0
        shown = f"{first}–{min(n, (page + 1) * size)} of {count(n)}"
        if self.window is not None:
            ids, width = self.window
            last = min(ids + width, max(self.total, ids + 1)) - 1
            rows = f"rows {shown}" if n or not self.total else "rows on their way"
            listed = f"ids {ids:,}–{last:,} of {count(self.total)} users · {rows}"
        elif self.total > n:
            listed = (
                f"users {shown} listed of {count(self.total)} users"
                f" (lowest ids, up to {USER_ROWS_MAX} per worker)"
            )
        else:
            listed = f"users {shown}"
        more = " · [b]{ }[/b] more users" if self.window or self.total > n else ""
        return (
            f"{listed} · page {page + 1}/{pages} · sorted by {self.sort_by}"
            f"  ([b]\\[ ][/b] page{more} · [b]o[/b] sort)"
        )
