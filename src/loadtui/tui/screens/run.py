"""The run screen — the heart of the product: steer the load live and watch what it does.

The bridge's run thread tells the screen when a frame is new (``FrameReady``, a Textual message
posted from that thread); the screen takes the newest frame and draws it. Frames come at most
every 0.5 s and one at a time (the bridge tells again only after the screen took the last one),
so drawing costs the same whatever the run's length or user count, a slow screen never works
through stale frames, and a slow frame can never delay a request: load and timestamps live in
worker processes. Keys become ``ControlChange``s sent to the bridge; the
status line shows what was asked at once, before the engine confirms it.
"""

from __future__ import annotations

from typing import Any

from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, TabbedContent, TabPane

from loadtui.model.controls import ControlChange
from loadtui.model.search import SearchView
from loadtui.run.frame import LiveFrame
from loadtui.tui.bridge import RunBridge
from loadtui.tui.format import clock
from loadtui.tui.screens.failures import FailureScreen
from loadtui.tui.screens.plan import stage_end
from loadtui.tui.screens.value import ValueScreen
from loadtui.tui.widgets.capacity import CapacityPanel, next_factor
from loadtui.tui.widgets.overview import RunOverview
from loadtui.tui.widgets.requests import RequestsPanel
from loadtui.tui.widgets.status import RunStatus
from loadtui.tui.widgets.timeline import Timeline
from loadtui.tui.widgets.users import UserTable, Window, moved_window, window_size

__all__ = ["RunScreen", "next_rate"]

_LIVE = ("running", "paused")
_USERS = Binding.Group("users", compact=True)
_USERS10 = Binding.Group("×10", compact=True)
_RATE = Binding.Group("rate", compact=True)
_TABS = Binding.Group("tabs", compact=True)
TRACE_RATE = (
    "a trace run's arrivals follow the trace: the rate cannot change (replay it faster with "
    "--trace-speedup)"
)
_CONTROL_ACTIONS = {"users", "rate", "pause", "stop", "set_value"}
_SEARCH = Binding.Group("step size", compact=True)
_SEARCH_ACTIONS = {"search", "search_step"}
_SEARCH_DRIVES = {"users", "rate", "set_value"}
"""Keys hidden in a capacity search: the search sets the load of each step itself."""
CAPACITY_TAB = ("5", "tab-capacity", "Capacity")
"""The tab a capacity search adds (and shows) when its first frame comes: absent otherwise."""
TABS = (
    ("1", "tab-overview", "Overview"),
    ("2", "tab-users", "Users"),
    ("3", "tab-requests", "Requests"),
    ("4", "tab-timeline", "Timeline"),
)
"""Digit, pane id, label: the tabs are labelled with their key so they are found without F1."""
NOTIFY_S = 3
"""Toasts on the run screen are short: at 80×24 they sit over the health and thresholds."""


def next_rate(current: float, step: int) -> float:
    """±10% per key press, at least ±1/s above 10/s and ±0.1/s below; never below 0.1/s."""
    delta = max(current * 0.1, 1.0 if current >= 10 else 0.1)
    return round(max(0.1, current + step * delta), 1)


def search_of(frame: LiveFrame | None) -> SearchView | None:
    """The frame's capacity search, if its run has one (and there is a frame)."""
    return frame.search if frame is not None else None


def _search_ended(before: LiveFrame | None, frame: LiveFrame) -> bool:
    """The search got its outcome with ``frame``: its keys then leave the footer, though the
    run may still be draining in the same phase."""
    was, now = search_of(before), search_of(frame)
    return bool(now and now.outcome) and not (was and was.outcome)


def _search_bindings() -> list[Binding]:
    """The capacity search's steering keys (docs/capacity.md, docs/tui.md): each sends one
    ``search`` control, recorded in the timeline, so a replay steers the search the same way."""
    keys = (
        ("h", "search('hold')", "hold", "hold", "hold the current step (again: release it)"),
        ("n", "search('skip')", "skip", "skip", "end this step now, go to the next higher load"),
        ("b", "search('back')", "go back", "back", "return to the previous step's load"),
        ("plus", "search_step(1)", "step+", "step_up", "larger steps (×1.1 ×1.25 ×1.5 ×2 ×3)"),
        ("minus", "search_step(-1)", "step−", "step_down", "smaller steps"),
        ("a", "search('accept')", "accept", "accept", "stop and accept the best passing step"),
    )
    return [
        Binding(
            key,
            action,
            label,
            id=f"run.search_{name}",
            tooltip=f"Capacity search: {tip}",
            group=_SEARCH if name.startswith("step") else None,
        )
        for key, action, label, name, tip in keys
    ]


class RunScreen(Screen[None]):
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (150, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall")]
    BINDINGS = [
        Binding(
            "w",
            "users(1)",
            "+1 user",
            id="run.users_up",
            tooltip="Add one virtual user",
            group=_USERS,
        ),
        Binding(
            "s",
            "users(-1)",
            "−1 user",
            id="run.users_down",
            tooltip="Remove one virtual user",
            group=_USERS,
        ),
        Binding(
            "W",
            "users(10)",
            "+10 users",
            id="run.users_up10",
            tooltip="Add ten virtual users",
            group=_USERS10,
        ),
        Binding(
            "S",
            "users(-10)",
            "−10 users",
            id="run.users_down10",
            tooltip="Remove ten virtual users",
            group=_USERS10,
        ),
        Binding(
            "r",
            "rate(1)",
            "rate +10%",
            id="run.rate_up",
            tooltip="Raise the rate (closed loop: a cap) by 10%",
            group=_RATE,
        ),
        Binding(
            "f",
            "rate(-1)",
            "rate −10%",
            id="run.rate_down",
            tooltip="Lower the rate (closed loop: a cap) by 10%",
            group=_RATE,
        ),
        Binding(
            "equals_sign",
            "set_value",
            "set",
            id="run.set",
            tooltip="Type an exact users, rate or think-time value",
        ),
        Binding("p", "pause", "pause", id="run.pause", tooltip="Pause or resume the load"),
        Binding(
            "e",
            "failures",
            "failures",
            show=False,  # the footer is full at 80 columns: F1 lists it (docs/tui.md)
            id="run.failures",
            tooltip="Each error class so far and the responses kept as its samples",
        ),
        *_search_bindings(),
        Binding("x", "stop", "stop", id="run.stop", tooltip="Stop the load, drain, save the run"),
        Binding(
            "escape", "leave", "back", id="run.back", tooltip="Back to setup once the run is saved"
        ),
        *(
            Binding(
                key,
                f"tab('{pane}')",
                label,
                id=f"run.tab_{label.lower()}",
                tooltip=f"Show the {label} tab",
                group=_TABS,
            )
            for key, pane, label in TABS
        ),
        Binding(
            CAPACITY_TAB[0],
            f"tab('{CAPACITY_TAB[1]}')",
            CAPACITY_TAB[2],
            id="run.tab_capacity",
            tooltip="Show the capacity search: its curve and its steps",
            group=_TABS,
        ),
        Binding(
            "left_square_bracket",
            "users_page(-1)",
            "prev page",
            show=False,
            id="run.users_prev",
            tooltip="Users table: previous page",
        ),
        Binding(
            "right_square_bracket",
            "users_page(1)",
            "next page",
            show=False,
            id="run.users_next",
            tooltip="Users table: next page",
        ),
        Binding(
            "left_curly_bracket",
            "users_window(-1)",
            "prev users",
            show=False,
            id="run.users_window_prev",
            tooltip="Users table: the window of lower user ids",
        ),
        Binding(
            "right_curly_bracket",
            "users_window(1)",
            "next users",
            show=False,
            id="run.users_window_next",
            tooltip="Users table: the window of higher user ids",
        ),
        Binding(
            "home",
            "users_first",
            "first users",
            show=False,
            priority=True,  # over the table's own Home, which only reaches its first row
            id="run.users_first",
            tooltip="Users table: first page of the lowest ids",
        ),
        Binding(
            "o",
            "users_sort",
            "sort users",
            show=False,
            id="run.users_sort",
            tooltip="Users table: sort by state, latency, age or id",
        ),
    ]

    class Saved(Message):
        """The run ended and its file is written."""

        def __init__(self, path: str) -> None:
            super().__init__()
            self.path = path

    class FrameReady(Message):
        """The run thread has a new frame or message for the screen (posted from that thread).

        It carries nothing: the handler takes the newest frame from the bridge, so a message
        that waited behind a slow redraw never shows an old frame."""

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, RunScreen.FrameReady)

    def __init__(self, bridge: RunBridge, title: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bridge = bridge
        self.title_text = title
        self._shown: LiveFrame | None = None
        self._said = 0
        self._announced = False
        self.phase = "starting"
        self._asked_at = 0
        """How many controls the timeline must hold before the asked values are confirmed."""
        self._held_until: float | None = None
        """A staged run: when the next stage replaces the live change (shown in the header)."""
        self._capacity: CapacityPanel | None = None
        """The capacity search's panel, once a frame brought a search (its tab is added then)."""
        self._asked_factor: float | None = None
        """A step size asked by key and not yet confirmed: the next press goes on from it."""
        self._users_window: Window | None = None
        """The user ids the users tables list, once asked by key (None: each worker's lowest)."""

    def compose(self) -> ComposeResult:
        yield RunStatus(id="run-status")
        labels = {pane: f"{key} {label}" for key, pane, label in TABS}
        with TabbedContent(id="run-tabs"):
            with TabPane(labels["tab-overview"], id="tab-overview"), Horizontal(id="overview-row"):
                yield RunOverview(id="overview")
                yield UserTable(id="side-users")
            with TabPane(labels["tab-users"], id="tab-users"):
                yield UserTable(id="users")
            with TabPane(labels["tab-requests"], id="tab-requests"), VerticalScroll():
                yield RequestsPanel(id="requests")
            with TabPane(labels["tab-timeline"], id="tab-timeline"):
                yield Timeline(id="timeline")
        yield Footer(compact=True, show_command_palette=False)  # ctrl+p still opens it

    def on_mount(self) -> None:
        self.query_one(RunStatus).title = self.title_text
        self.bridge.on_change = self._frame_ready
        self.bridge.start()
        self.redraw()

    def _frame_ready(self) -> None:
        """Called on the run thread: post_message is thread-safe (call_soon_threadsafe)."""
        self.post_message(self.FrameReady())

    def on_run_screen_frame_ready(self, event: FrameReady) -> None:
        event.stop()
        self.redraw()

    # -- drawing -------------------------------------------------------------------------
    def redraw(self) -> None:
        """Show what is new: the session's messages, the newest frame, where the run went."""
        bridge = self.bridge
        while self._said < len(bridge.messages):
            self.notify(bridge.messages[self._said], timeout=NOTIFY_S, markup=False)
            self._said += 1
        frame = bridge.take()
        if frame is not self._shown:
            self.show_frame(frame)
        if bridge.finished and not self._announced:
            self._announced = True
            if bridge.error:
                self.notify(
                    bridge.error,
                    title="the run could not start",
                    severity="error",
                    timeout=30,
                    markup=False,
                )
            elif bridge.path is not None:
                self.notify(f"run saved: {bridge.path}", timeout=10, markup=False)
                self.post_message(self.Saved(str(bridge.path)))

    def show_frame(self, frame: LiveFrame) -> None:
        """Hand a frame down to every widget (also used by snapshot tests with fixed frames)."""
        was, self._shown = self._shown, frame
        status = self.query_one(RunStatus)
        status.frame = frame
        confirmed = len(frame.controls)
        if confirmed >= self._asked_at:
            status.asked_users = None
            status.asked_rate = None
            self._asked_factor = None
        if self._held_until is not None and frame.elapsed >= self._held_until:
            self._held_until = None
            status.note = ""
        self.query_one(RunOverview).frame = frame
        for table in self.query(UserTable):
            table.total = frame.users  # before the rows: their redraw writes the caption
            table.rows = frame.users_rows
        self._keep_users_window(frame)
        self.query_one(Timeline).controls = frame.controls
        self.query_one(RequestsPanel).frame = frame
        self._show_search(frame)
        if frame.phase != self.phase or _search_ended(was, frame):
            self.phase = frame.phase
            self.refresh_bindings()

    def _show_search(self, frame: LiveFrame) -> None:
        """A run with a capacity search gets its tab, added and shown with the first frame that
        has one (a run without a search never has it); later frames only update it."""
        view = search_of(frame)
        if view is None:
            return
        if self._capacity is not None:
            self._capacity.view = view
            return
        panel = self._capacity = CapacityPanel(view, id="capacity")
        key, pane, label = CAPACITY_TAB
        tabs = self.query_one(TabbedContent)

        async def add() -> None:
            await tabs.add_pane(TabPane(f"{key} {label}", panel, id=pane))
            tabs.active = pane
            self.refresh_bindings()

        self.call_later(add)

    # -- controls ------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        search = search_of(self._shown)
        if action == "tab" and parameters == (CAPACITY_TAB[1],):
            return self._capacity is not None  # the key exists once the tab does
        if action in _SEARCH_ACTIONS:
            if search is None:
                return False  # a run without a search: not in the footer at all
            if search.outcome is not None or not self._shown or not self._shown.live:
                return False  # the search is over: its keys would do nothing, so they go
            # a replay repeats the recorded steering: its own keys would not be followed
            steerable = self.bridge.replay_of is None
            return True if self.phase in _LIVE and steerable else None
        if action in _SEARCH_DRIVES and search is not None:
            return False
        if action in _CONTROL_ACTIONS:
            if self.phase not in _LIVE:
                return None  # shown, but greyed out until the run is live / once it ended
            mode = self._shown.mode if self._shown else ""
            if action == "users" and (mode == "burst" or (self._shown and self._shown.open_loop)):
                return None
            if action == "rate" and mode in ("burst", "trace"):  # a trace sets its own times
                return None
        if action == "leave":
            return self.bridge.finished
        return True

    def _send(self, change: ControlChange) -> None:
        self.bridge.send(change)
        # count every change sent, not just the last: two keys between frames need two
        # confirmations before the asked value may give way to the engine's
        shown = len(self._shown.controls) if self._shown else 0
        self._asked_at = max(self._asked_at, shown) + 1
        self._say_if_held(change)

    def _say_if_held(self, change: ControlChange) -> None:
        """A staged run keeps a users change (a rate change, with rate stages) only until the
        next stage starts its own ramp: say so, in the header and once as a message."""
        frame = self._shown
        if frame is None or change.action not in ("users", "rate"):
            return
        if change.action == "rate" and not frame.open_loop:
            return  # a closed-loop rate is a cap: it lasts across stages
        end = stage_end(self.bridge.config, frame.elapsed)
        if end is None:
            return
        first = self._held_until != end
        self._held_until = end
        self.query_one(RunStatus).note = f"held to {clock(end)}, then next stage"
        if first:
            self.notify(
                f"staged run: this change holds until the next stage starts at {clock(end)};"
                " that stage then follows its own plan",
                timeout=NOTIFY_S + 3,
            )

    def action_users(self, step: int) -> None:
        status = self.query_one(RunStatus)
        frame = self._shown
        base = (
            status.asked_users
            if status.asked_users is not None
            else frame.target_users
            if frame
            else 0
        )
        users = max(0, base + step)
        status.asked_users = users
        self._send(ControlChange("users", users))

    def action_rate(self, step: int) -> None:
        status = self.query_one(RunStatus)
        frame = self._shown
        base = (
            status.asked_rate
            if status.asked_rate is not None
            else frame.target_rate
            if frame
            else None
        )
        if not base:  # closed loop without a cap yet: start from what is achieved now
            base = float(frame.last.rps) if frame and frame.last else 0.0
            base = base or 1.0
        rate = next_rate(base, step)
        status.asked_rate = rate
        self._send(ControlChange("rate", rate))

    def action_failures(self) -> None:
        """The failure view of the newest frame (what the run has kept so far)."""
        frame = self._shown
        if frame is None:
            return
        self.app.push_screen(FailureScreen(frame.totals.errors, frame.error_samples))

    def action_pause(self) -> None:
        self._send(ControlChange("resume" if self.phase == "paused" else "pause"))

    def action_stop(self) -> None:
        self._send(ControlChange("stop"))
        self.notify("stopping: in-flight requests drain, then the run is saved", timeout=NOTIFY_S)

    def action_set_value(self) -> None:
        def apply(change: ControlChange | None) -> None:
            if change is None:
                return
            if change.action == "rate" and self._shown and self._shown.mode == "trace":
                self.notify(TRACE_RATE, severity="warning", timeout=NOTIFY_S, markup=False)
                return
            status = self.query_one(RunStatus)
            if change.action == "users":
                status.asked_users = int(change.value)
            elif change.action == "rate":
                status.asked_rate = float(change.value)
            self._send(change)

        self.app.push_screen(
            ValueScreen(open_loop=bool(self._shown and self._shown.open_loop)), apply
        )

    def action_search(self, value: str) -> None:
        """Steer the capacity search: hold/release, skip, back, accept (the engine's words)."""
        self._send(ControlChange("search", value))
        self.notify(f"search: {value} asked", timeout=NOTIFY_S)

    def action_search_step(self, step: int) -> None:
        """A larger (1) or smaller (-1) step size, from the last one asked if not yet applied."""
        search = search_of(self._shown)
        if search is None:
            return
        base = self._asked_factor if self._asked_factor is not None else search.step_factor
        factor = next_factor(base, step)
        if (factor - base) * step < 1e-9:  # already at an end of FACTORS: nothing to ask
            end = "smallest" if step < 0 else "largest"
            self.notify(f"search: step ×{factor:g} is the {end}", timeout=NOTIFY_S)
            return
        self._send(ControlChange("search", f"step:{factor:g}"))
        self._asked_factor = factor  # after _send: a confirmed frame may not clear it yet
        self.notify(f"search: step ×{factor:g} asked", timeout=NOTIFY_S)

    def action_leave(self) -> None:
        self.app.pop_screen()

    def action_tab(self, pane: str) -> None:
        self.query_one(TabbedContent).active = pane

    def _visible_users(self) -> UserTable | None:
        """The users table on screen: the Users tab, or beside the figures when wide."""
        tabs = self.query_one(TabbedContent)
        if tabs.active == "tab-users":
            return self.query_one("#users", UserTable)
        side = self.query_one("#side-users", UserTable)
        return side if tabs.active == "tab-overview" and side.size.area else None

    def action_users_page(self, step: int) -> None:
        table = self._visible_users()
        if table is not None:
            table.action_page(step)

    def action_users_window(self, step: int) -> None:
        """The next (1) or previous (-1) window of user ids in the users tables."""
        frame = self._shown
        if frame is None or self._visible_users() is None:
            return
        if not frame.live:
            self.notify("the run is over: its rows are its last snapshot's", timeout=NOTIFY_S)
            return
        size = window_size(frame.workers)
        window = moved_window(self._users_window, step, size, frame.users)
        if window is not None:
            self._ask_users(window)
        elif self._users_window is None and frame.users <= size:
            self.notify(f"every user is listed ({frame.users:,})", timeout=NOTIFY_S)
        else:
            self.notify(f"no {'later' if step > 0 else 'earlier'} users", timeout=NOTIFY_S)

    def action_users_first(self) -> None:
        """The first page of the lowest ids (a finished run: of its window); falls through to
        the focused widget's Home when no users table is in view."""
        table = self._visible_users()
        if table is None or self._shown is None:
            raise SkipAction()
        table.page = 0
        window = self._users_window
        if window is not None and window[0] != 0 and self._shown.live:
            self._ask_users((0, window_size(self._shown.workers)))

    def _ask_users(self, window: Window) -> None:
        """Show ``window`` in both users tables and have the run thread ask the workers for its
        rows: once per key, never per frame (the coordinator also sends only a new page)."""
        self._users_window = window
        self.bridge.show_users(*window)
        for table in self.query(UserTable):
            table.window = window

    def _keep_users_window(self, frame: LiveFrame) -> None:
        """Users went below the window's first id (a live change, the ramp down): show the
        last window that still has users instead of an empty one."""
        window = self._users_window
        if window is None or not frame.live or not 0 < frame.users <= window[0]:
            return
        size = window[1]
        self._ask_users(((frame.users - 1) // size * size, size))

    def action_users_sort(self) -> None:
        table = self._visible_users()
        if table is not None:
            table.action_sort()
