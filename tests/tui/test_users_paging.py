"""The users table pages past the 200 rows a worker sends: a live run of 450 users.

A worker sends the rows of at most ``USER_ROWS_MAX`` users a snapshot (its lowest ids unless
asked for others), so with one worker and 450 users the table first lists ids 0–199; ``}``
moves the window of ids, the run thread asks the workers for those rows
(``Coordinator.show_users``) and the next frames bring them; ``{`` and Home go back. The
users think for a minute after their first request, so the mock is barely loaded and every
row has a state worth showing.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest

from loadtui.engine.worker import USER_ROWS_MAX
from loadtui.model.snapshot import UserRow
from loadtui.run.frame import LiveFrame
from loadtui.storage.presets import load_preset
from loadtui.tui.app import LoadtuiApp, StartNow
from loadtui.tui.settings import Settings
from loadtui.tui.widgets.users import STATE_NAMES, UserTable
from test_tui_hardening import FixedRun, _live, _show, _until
from waits import keys, until

USERS = 450


def _config() -> Any:
    return load_preset("baseline").with_overrides(
        load={
            "mode": "closed",
            "users": USERS,
            "spawn_rate": 0,
            "think_time": (60, 60),
            "duration": 60,
        },
        mock={"latency": 0.01, "ttft": 0.02, "itl": 0.005, "tokens": 4},
        workers=1,
    )


def _listed(table: UserTable) -> list[tuple[int, str]]:
    """(user id, state) of every row on screen."""
    data = table.query_one("DataTable")
    return [
        (int(str(row[0])), str(row[1]))
        for row in (data.get_row_at(i) for i in range(data.row_count))  # type: ignore[attr-defined]
    ]


def _caption(table: UserTable) -> str:
    return str(table.query_one(".users-caption").render())


def _shows(table: UserTable, first: int, last: int) -> bool:
    """Every row on screen is a user of ids ``first`` … ``last``, and there are some."""
    rows = _listed(table)
    return bool(rows) and all(first <= uid <= last for uid, _ in rows)


@pytest.mark.slow
@pytest.mark.integration
def test_the_users_table_pages_past_200_users_a_worker_and_back() -> None:
    async def scenario() -> tuple[LoadtuiApp, list[str]]:
        app = LoadtuiApp(start=StartNow(_config()), settings=Settings())
        captions = []
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: getattr(app.screen, "phase", "") == "running")
            screen = app.screen
            await until(pilot, lambda: screen._shown and screen._shown.users == USERS)
            keys(pilot, "2")
            table = screen.query_one("#users", UserTable)
            await until(pilot, lambda: table.size.area and _listed(table))
            assert _shows(table, 0, USER_ROWS_MAX - 1)  # the worker's lowest 200 ids
            captions.append(_caption(table))

            keys(pilot, "right_curly_bracket")
            await until(pilot, lambda: _shows(table, 200, 399))
            captions.append(_caption(table))
            states = {state for _, state in _listed(table)}
            # real states from the worker: after its first answer each user thinks a minute
            assert "thinking" in states and states <= set(STATE_NAMES.values())
            keys(pilot, "right_square_bracket")  # a page within the window, as before
            await until(pilot, lambda: table.page == 1)
            assert _shows(table, 200, 399)

            keys(pilot, "right_curly_bracket")
            await until(pilot, lambda: _shows(table, 400, USERS - 1))
            assert table.page == 0  # a new window starts at its first page
            captions.append(_caption(table))

            keys(pilot, "right_curly_bracket")  # nothing past the last user: it stays
            keys(pilot, "left_curly_bracket")
            await until(pilot, lambda: _shows(table, 200, 399))

            keys(pilot, "home")
            await until(pilot, lambda: _shows(table, 0, 199))
            captions.append(_caption(table))

            keys(pilot, "x")
            await until(pilot, lambda: app.bridge.finished, timeout=30)
            await pilot.press("ctrl+q")
        return app, captions

    app, captions = asyncio.run(scenario())
    assert "200 listed of 450 users (lowest ids, up to 200 per worker)" in captions[0]
    assert "ids 200–399 of 450 users" in captions[1]
    assert "ids 400–449 of 450 users · rows 1–" in captions[2]
    assert "of 50 ·" in captions[2]
    assert "ids 0–199 of 450 users" in captions[3]
    assert all("{ } more users" in caption for caption in captions)
    run = app.bridge.run
    assert run is not None and run.status == "stopped"
    # the pages are a view, not a change of the run: the timeline holds only the stop
    assert [c.action for c in run.controls] == ["stop"]


class _Pages(FixedRun):
    """A fixed frame that notes the users pages the screen asks the run thread for."""

    def __init__(self, frame: LiveFrame) -> None:
        super().__init__(frame)
        self.pages: list[tuple[int, int]] = []

    def show_users(self, first: int, count: int) -> None:
        self.pages.append((first, count))


def _frame(users: int) -> LiveFrame:
    rows = [UserRow(uid, 4, 0.1, 100.0, 50.0, 1, 0) for uid in range(min(users, 200))]
    return _live(users=users, workers=1, users_rows=tuple(rows))


def test_a_page_is_asked_once_per_key_and_follows_users_that_leave() -> None:
    """200 users or fewer a worker: every user has a row, the keys ask for nothing. Past that,
    one page per key however many frames come; when users fall below the window (a live
    change) the last window that still has users is asked for, once; none once the run is
    over."""

    async def scenario() -> tuple[list[tuple[int, int]], str, list[tuple[int, int]], str]:
        app = LoadtuiApp(settings=Settings())
        async with app.run_test(size=(100, 30)) as pilot:
            source = _Pages(_frame(150))
            screen = await _show(pilot, source)
            await pilot.press("2")
            table = screen.query_one("#users", UserTable)
            await _until(pilot, lambda: table.size.area)
            await pilot.press("right_curly_bracket", "left_curly_bracket", "home")
            few = list(source.pages), _caption(table)

            screen.show_frame(_frame(1000))
            await pilot.press("left_curly_bracket")  # nothing before the first ids
            await pilot.press(*["right_curly_bracket"] * 3)
            for users in (1000, 1000, 350, 350, 340):
                screen.show_frame(_frame(users))
            await pilot.press("home", "home")
            caption = _caption(table)
            screen.show_frame(replace(_frame(1000), phase="completed"))
            await pilot.press("right_curly_bracket")  # a saved run's rows cannot be asked for
            return *few, source.pages, caption

    few_pages, few_caption, pages, caption = asyncio.run(scenario())
    assert few_pages == []
    assert few_caption.startswith("users 1–") and "of 150 ·" in few_caption
    assert "{ }" not in few_caption
    assert pages == [(200, 200), (400, 200), (600, 200), (200, 200), (0, 200)]
    assert "ids 0–199 of 340 users" in caption
