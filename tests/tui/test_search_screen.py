"""The capacity search in the app: its tab appears with the first frame that has a search, the
curve and the steps grow as steps end, each steering key sends its ``search`` control, and the
search's text is shown as typed. These tests feed the run screen fixed frames built from the
search's own types (``model/search.py``); the run over the mock is in the end-to-end test."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest
from textual.actions import parse
from textual.widgets import DataTable, Footer, OptionList, Static, TabbedContent

from loadtui.model.controls import ControlChange
from loadtui.model.plan import RunConfig
from loadtui.model.search import SearchView, StepView
from loadtui.run.frame import LiveFrame
from loadtui.run.options import Overrides, resolve_config
from loadtui.run.searchopts import apply_search
from loadtui.storage.presets import load_preset
from loadtui.storage.runfile import load_record
from loadtui.tui.app import LoadtuiApp, StartNow
from loadtui.tui.screens.help import binding_rows
from loadtui.tui.screens.run import RunScreen
from loadtui.tui.screens.setup import SetupScreen
from loadtui.tui.settings import Settings
from loadtui.tui.widgets.capacity import CapacityPanel, next_factor
from loadtui.tui.widgets.timeline import describe
from waits import until


def _step(index: int, load: float, attainment: float | None, verdict: str, **kw: Any) -> StepView:
    figures: dict[str, Any] = {
        "phase": "probe",
        "started_s": 2.0 * index,
        "duration_s": 2.0,
        "requests": 40 + index,
        "attainment": attainment,
        "attainment_ci": None
        if attainment is None
        else (attainment - 0.05, min(1.0, attainment + 0.03)),
        "goodput_rate": load * (attainment or 0.0),
        "error_rate": 0.0,
        "ttft_p50_ms": 50.0 * load,
        "ttft_p95_ms": 80.0 * load,
        "itl_p50_ms": 10.0,
        "itl_p95_ms": 12.0,
        "latency_p50_ms": 200.0,
        "latency_p95_ms": 300.0,
        "verdict": verdict,
        "held": False,
    }
    figures.update(kw)
    return StepView(index=index, load=load, **figures)


STEPS = (
    _step(0, 2.0, 1.0, "pass"),
    _step(1, 4.0, 0.97, "pass"),
    _step(2, 8.0, 0.41, "fail"),
    _step(3, 6.0, 0.93, "pass", phase="refine"),
    _step(4, 7.0, None, "running", phase="refine"),
)


def _view(count: int, **kw: Any) -> SearchView:
    shown = kw.pop("steps", STEPS[:count])
    fields: dict[str, Any] = {
        "mode": "rate",
        "target": 0.9,
        "error_limit": 0.01,
        "step_factor": 2.0,
        "steps": shown,
        "current": shown[-1].index if shown else None,
        "capacity": None,
        "interval": None,
        "outcome": None,
        "message": "",  # the engine says nothing until the search ends
    }
    fields.update(kw)
    return SearchView(**fields)


def _frame(search: SearchView | None, controls: int = 0) -> LiveFrame:
    return LiveFrame(
        phase="running",
        elapsed=12.0,
        duration=120.0,
        mode="open",
        open_loop=True,
        target_rate=4.0,
        workers=1,
        controls=tuple(ControlChange("rate", 2.0, 0.1, "search") for _ in range(controls)),
        search=search,
    )


class FixedRun:
    """A bridge that serves the frame a test sets and keeps the controls the screen sends."""

    def __init__(self, frame: LiveFrame) -> None:
        self.frame = frame
        self.sent: list[ControlChange] = []
        self.messages: list[str] = []
        self.finished = False
        self.error = None
        self.path = None
        self.on_change: Any = None
        self.config: Any = None
        self.replay_of: str | None = None

    def start(self) -> None:
        pass

    def take(self) -> LiveFrame:
        return self.frame

    def send(self, change: ControlChange) -> None:
        self.sent.append(change)


def _rows(screen: RunScreen) -> list[list[str]]:
    found = screen.query("#capacity-steps").results(DataTable)
    table: DataTable[Any] | None = next(iter(found), None)
    if table is None:
        return []  # the tab is being added
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def _footer_keys(screen: RunScreen) -> set[str]:
    """The keys the footer shows now (enabled or greyed), as check_action decides."""
    shown = set()
    for key, active in screen.active_bindings.items():
        _, name, params = parse(active.binding.action)
        if active.binding.show and screen.check_action(name, params) is not False:
            shown.add(key)
    return shown


async def _open(pilot: Any, frame: LiveFrame) -> tuple[RunScreen, FixedRun]:
    bridge = FixedRun(frame)
    screen = RunScreen(bridge, "capacity")  # type: ignore[arg-type]
    await pilot.app.push_screen(screen)
    await until(pilot, lambda: screen.query_one("#run-status").frame is not None)
    return screen, bridge


def test_the_capacity_tab_appears_with_the_search_and_grows_by_load() -> None:
    async def scenario() -> None:
        app = LoadtuiApp(settings=Settings())
        async with app.run_test(size=(100, 30)) as pilot:
            screen, _ = await _open(pilot, _frame(_view(0)))
            tabs = screen.query_one(TabbedContent)
            await until(pilot, lambda: tabs.active == "tab-capacity")
            assert screen.query_one(CapacityPanel).display
            for shown in (2, 3, 5):
                screen.show_frame(_frame(_view(shown)))
                await until(pilot, lambda n=shown: len(_rows(screen)) == n)  # type: ignore[misc]
            rows = _rows(screen)
            # sorted by load: the refinement steps (marked ·) sit between the pass and the fail
            assert [r[2] for r in rows] == ["2", "4", "6 ·", "7 ·", "8"]
            assert rows[3][0].startswith("▶") and rows[3][5] == "… running"
            assert rows[4][5] == "✘ fail" and rows[1][5] == "✔ pass"
            assert rows[4][6] == "█ 640ms"  # the highest p95 TTFT: a full cell
            assert "0.41 .36–.44" in rows[4][4]
            table = screen.query_one("#capacity-steps", DataTable)
            table.move_cursor(row=2)  # the reader's place survives the next frame
            head = str(screen.query_one("#capacity-head", Static).content)
            assert "attainment ≥ 0.90" in head and "step ×2" in head
            assert "now step 5 (refine) at 7 req/s" in head
            screen.show_frame(
                _frame(
                    _view(
                        5,
                        current=None,
                        capacity=6.0,
                        interval=(6.0, 7.0),
                        outcome="capacity",
                        message=DONE,
                    )
                )
            )
            await until(pilot, lambda: DONE in _head(screen))
            # the capacity is said once: the search's message, not also the panel's own line
            assert _head(screen).count("between") == 1 and "capacity 6 req/s" not in _head(screen)
            assert table.cursor_row == 2 and len(_rows(screen)) == 5

    asyncio.run(scenario())


DONE = "capacity: 6 req/s (between 6 and 7) at attainment ≥ 0.90"
"""The message the engine writes once the search found its capacity (run/searchrules.py)."""


def _head(screen: RunScreen) -> str:
    found = next(iter(screen.query("#capacity-head").results(Static)), None)
    return "" if found is None else str(found.content)  # "": the tab is being added


def test_a_run_without_a_search_has_no_capacity_tab_nor_search_keys() -> None:
    async def scenario() -> None:
        app = LoadtuiApp(settings=Settings())
        async with app.run_test(size=(100, 30)) as pilot:
            screen, _ = await _open(pilot, _frame(None))
            screen.show_frame(_frame(None, controls=1))
            await pilot.pause(0.1)
            assert not screen.query(CapacityPanel)
            assert screen.query_one(TabbedContent).tab_count == 4
            keys = _footer_keys(screen)
            assert not keys & {"h", "n", "b", "a", "plus", "minus", "5"}
            assert {"r", "f", "p", "x"} <= keys
            helped = {does for _, does, _ in binding_rows(screen)}  # F1 lists what the footer can
            assert "+1 user" in helped and not helped & {"hold", "accept", "step+"}

    asyncio.run(scenario())


def test_each_key_sends_its_search_control() -> None:
    async def scenario() -> list[ControlChange]:
        app = LoadtuiApp(settings=Settings())
        async with app.run_test(size=(100, 30)) as pilot:
            screen, bridge = await _open(pilot, _frame(_view(3, step_factor=1.25)))
            await until(pilot, lambda: screen._capacity is not None and bool(_rows(screen)))
            keys = _footer_keys(screen)
            assert {"h", "n", "b", "a", "plus", "minus", "5"} <= keys
            assert not keys & {"r", "f", "w", "s", "equals_sign"}  # the search sets the load
            helped = {does for _, does, _ in binding_rows(screen)}
            assert {"hold", "skip", "go back", "step+", "step−", "accept"} <= helped
            assert "+1 user" not in helped
            await pilot.press("h", "n", "b")
            # two presses before the engine confirms either: the second goes on from the first
            await pilot.press("plus", "plus")
            screen.show_frame(_frame(_view(3, step_factor=2.0), controls=5))  # both confirmed
            await pilot.press("minus")
            await pilot.press("1", "5")  # away and back to the capacity tab
            assert screen.query_one(TabbedContent).active == "tab-capacity"
            await pilot.press("a")
            await until(pilot, lambda: len(bridge.sent) == 7)
            return bridge.sent

    sent = asyncio.run(scenario())
    assert [(c.action, c.value, c.source) for c in sent] == [
        ("search", value, "live")
        for value in ("hold", "skip", "back", "step:1.5", "step:2", "step:1.5", "accept")
    ]


def test_an_ended_search_hides_its_keys_and_shows_its_message_as_typed() -> None:
    async def scenario() -> None:
        app = LoadtuiApp(settings=Settings())
        async with app.run_test(size=(100, 30)) as pilot:
            text = "never compliant: [bold]x[/] upstream said [red]no[/red]"
            done = _view(1, current=None, outcome="never_compliant", message=text)
            screen, bridge = await _open(pilot, _frame(done))
            await until(pilot, lambda: text in _head(screen))  # as typed, not as markup
            assert screen.check_action("search", ("hold",)) is False  # over: out of the footer
            assert not _footer_keys(screen) & {"h", "n", "b", "a", "plus", "minus"}
            await pilot.press("h", "a")
            screen.show_frame(_frame(_view(2)))  # a replay's search: its steering is recorded
            bridge.replay_of = "20261130-120000-capacity-0001"
            assert screen.check_action("search_step", (1,)) is None
            await pilot.press("n", "plus")
            await pilot.pause(0.1)
            assert bridge.sent == []

    asyncio.run(scenario())


def _footer_line(screen: RunScreen) -> str:
    """The footer's row as drawn: each key and label written at its place on screen."""
    footer = screen.query_one(Footer)
    line = [" "] * footer.region.width
    for widget in footer.query("FooterKey, FooterLabel"):
        x = widget.region.x - footer.region.x
        drawn = widget.render()
        plain = drawn.plain if hasattr(drawn, "plain") else str(drawn)
        line[x : x + len(plain)] = plain
    return "".join(line).rstrip()


def test_footer_spacing_and_keys_once_the_run_is_over() -> None:
    """A group's label and the key after it are one space apart ("+- step size a accept",
    not "step sizea accept"); once the run has stopped the steering keys are gone."""

    async def scenario() -> None:
        app = LoadtuiApp(settings=Settings())
        async with app.run_test(size=(140, 30)) as pilot:
            screen, _ = await _open(pilot, _frame(_view(3)))
            await until(pilot, lambda: "accept" in _footer_line(screen))
            line = _footer_line(screen)
            assert "b go back +- step size a accept x stop 12345 tabs ^q quit" in line, line
            done = _view(3, current=None, outcome="stopped", message="stopped: best step 4 req/s")
            screen.show_frame(replace(_frame(done), phase="stopped"))
            await until(pilot, lambda: "accept" not in _footer_line(screen))
            assert not _footer_keys(screen) & {"h", "n", "b", "a", "plus", "minus"}

    asyncio.run(scenario())


def test_step_size_floor_held_mark_and_one_number_format() -> None:
    """``-`` at ×1.1 says it is the smallest (and sends nothing); only the running step shows
    the held mark; a load reads as the search's message writes it (35.43, not 35.4)."""

    async def scenario() -> None:
        app = LoadtuiApp(settings=Settings())
        async with app.run_test(size=(100, 30)) as pilot:
            steps = (
                _step(0, 30.0, 0.97, "pass"),
                _step(1, 40.0, None, "skipped", held=True),
                _step(2, 35.43, None, "running", phase="refine", held=True),
            )
            view = _view(3, steps=steps, step_factor=1.1)
            screen, bridge = await _open(pilot, _frame(view))
            await until(pilot, lambda: len(_rows(screen)) == 3)
            rows = {r[1]: r for r in _rows(screen)}
            assert rows["3"][2] == "35.43 ·" and rows["3"][0] == "▶‖"
            assert rows["2"][0].strip() == "" and rows["2"][5] == "skipped"
            assert "at 35.43 req/s" in _head(screen)
            await pilot.press("minus")
            said = lambda: [n.message for n in app._notifications]  # noqa: E731
            await until(pilot, lambda: "search: step ×1.1 is the smallest" in said())
            assert bridge.sent == []

    asyncio.run(scenario())


def test_setup_offers_the_capacity_preset_and_says_it_searches() -> None:
    """``loadtui --search users --max-users 12``, then the capacity preset picked in the list."""

    async def scenario() -> None:
        prefill = Overrides(search="users", max_users=12)
        app = LoadtuiApp(prefill=prefill, settings=Settings())
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, SetupScreen))
            setup = app.screen
            assert isinstance(setup, SetupScreen) and "capacity" in setup.presets
            options = setup.query_one("#preset-list", OptionList)
            options.highlighted = list(setup.presets).index("capacity")
            plan = setup.query_one("#plan", Static)
            said = "capacity search by users from 1 user, steps ×2, at most 12 users"
            # the preset's own cap on the search (smoke, highlighted first, would say 30m)
            await until(
                pilot, lambda: said in str(plan.content) and "at most 3m" in str(plan.content)
            )
            config = resolve_config(setup._overrides())  # what ctrl+s starts
            assert config.search is not None and config.search.max_load == 12
            assert config.load.mode == "closed" and config.load.users == 1
            assert config.preset == "capacity", config.preset

    asyncio.run(scenario())


def test_step_sizes_and_timeline_words() -> None:
    assert [next_factor(1.5, 1), next_factor(2.0, 1), next_factor(3.0, 1)] == [2.0, 3.0, 3.0]
    assert [next_factor(1.5, -1), next_factor(1.8, -1), next_factor(1.1, -1)] == [1.25, 1.5, 1.1]
    assert describe(ControlChange("search", "hold")) == "search: hold"
    assert describe(ControlChange("search", "step:1.25")) == "search step ×1.25"
    assert describe(ControlChange("rate", 0.0, 11.0, "search")) == "rate → 0/s (drain)"
    assert describe(ControlChange("rate", 0.0, 11.0, "live")) == "rate cap lifted"


def test_snapshot_capacity_tab_100x30(snap_compare: Any) -> None:
    async def show(pilot: Any) -> None:
        steps = (
            *STEPS[:4],
            replace(STEPS[4], held=True, attainment=0.88, attainment_ci=(0.8, 0.93)),
        )
        screen, _ = await _open(pilot, _frame(_view(5, step_factor=1.5, steps=steps)))
        await until(pilot, lambda: len(_rows(screen)) == 5)

    assert snap_compare(LoadtuiApp(settings=Settings()), terminal_size=(100, 30), run_before=show)


def _search_config() -> RunConfig:
    """A users search over the embedded mock with steps of a second or so: every step passes
    (no SLO: a request meets them when it succeeds), so only the keys end it. Users, not rate:
    a closed loop is never judged generator-saturated, which a busy CI machine could make an
    open loop's late sends look like."""
    search = {  # a step ends after 1 s judged with ≥ 8 requests: its interval is then narrow enough
        "mode": "users",
        "start": 4,
        "step_factor": 1.5,
        "settle": 0.2,
        "min_requests": 8,
        "min_step": 1.0,
        "half_width": 0.3,
    }
    config = load_preset("baseline").with_overrides(
        mock={"latency": 0.01, "ttft": 0.02, "itl": 0.005, "tokens": 4},
        workers=1,
        load={"duration": 60, "think_time": (0.05, 0.05)},
        search=search,
    )
    return apply_search(config, Overrides())  # closed loop at the first step's users


@pytest.mark.slow
@pytest.mark.integration
def test_steering_a_live_search_lands_in_the_saved_timeline() -> None:
    """A real search over the embedded mock: its tab shows steps as they end; hold, release,
    skip, a larger step and accept go through the run's controls into the run file."""

    async def scenario() -> LoadtuiApp:
        app = LoadtuiApp(start=StartNow(_search_config()), settings=Settings())
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, RunScreen))
            screen = app.screen
            assert isinstance(screen, RunScreen)
            await until(pilot, lambda: len(_rows(screen)) >= 2)  # a step ended, the next runs
            search = lambda: app.bridge.frame.search  # noqa: E731
            await pilot.press("h")
            await until(pilot, lambda: search().steps[-1].held)
            await pilot.press("h")
            await until(pilot, lambda: not search().steps[-1].held)
            steps = len(search().steps)
            await pilot.press("n")
            await until(pilot, lambda: len(search().steps) > steps)
            await pilot.press("plus")
            await until(pilot, lambda: search().step_factor == 2)
            await pilot.press("a")
            await until(pilot, lambda: app.bridge.finished, timeout=30)
            await until(pilot, lambda: "stopped" in _head(screen) or search().outcome)
            timeline = screen.query_one("#timeline", DataTable)
            said = [str(timeline.get_row_at(i)[1]) for i in range(timeline.row_count)]
            assert {"search: hold", "search: skip", "search step ×2", "search: accept"} <= set(said)
            await pilot.press("ctrl+q")
        return app

    app = asyncio.run(scenario())
    assert app.bridge is not None and app.bridge.error is None and app.bridge.path
    saved = load_record(app.bridge.path)
    steered = [(c.value, c.source) for c in saved.controls if c.action == "search"]
    assert steered == [(v, "live") for v in ("hold", "hold", "skip", "step:2", "accept")]
    assert saved.search is not None and saved.search.outcome == "stopped"
    loads = [s.load for s in saved.search.steps]
    assert loads[:2] == [4, 6] and "skipped" in [s.verdict for s in saved.search.steps]
