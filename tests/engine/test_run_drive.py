"""The run service's one drive loop (``loadtui.run.drive``) over real loopback against the mock.

The console, the app's run thread and ``helpers.drive`` all drive runs through it; these tests
pin what it promises each of them: controls from another thread and from a schedule, an end
asked from outside, frames on one clock after a tick, the session's save — and, for the app,
that a screen which does not take its frames is told once, never flooded.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from loadtui.engine.coordinator import Coordinator
from loadtui.model.controls import ControlChange
from loadtui.model.plan import RunConfig
from loadtui.run.drive import Controls, RunDriver, drive_loop
from loadtui.run.session import RunSession
from loadtui.tui.bridge import RunBridge


def _config(duration: float = 2.0, users: int = 2) -> RunConfig:
    return RunConfig(
        load={"mode": "closed", "users": users, "spawn_rate": 0, "duration": duration},
        requests=[{"kind": "chat", "stream": True, "max_tokens": 8}],
        workers=1,
    )


def _wait_for(predicate: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_controls_give_live_changes_first_then_the_schedule_by_offset() -> None:
    controls = Controls([ControlChange("users", 3, at=2.0), ControlChange("pause", None, at=1.0)])
    controls.send(ControlChange("users", 9, source="live"))
    assert [(c.action, c.value) for c in controls.due(0.5)] == [("users", 9)]
    assert [c.action for c in controls.due(1.0)] == ["pause"]
    assert controls.due(1.5) == []
    assert [(c.action, c.value) for c in controls.due(5.0)] == [("users", 3)]
    assert controls.due(9.0) == []


def test_the_loop_applies_changes_sent_from_another_thread_and_stops_on_stop(mock) -> None:
    coord = Coordinator(_config(duration=3600), mock.url)
    coord.start()
    controls = Controls()

    def keys() -> None:  # what the app's keys do, on the UI thread
        _wait_for(lambda: coord.elapsed > 0.3, 30, "the load to start")
        controls.send(ControlChange("users", 3, source="live"))
        _wait_for(lambda: len(coord.controls) >= 1, 30, "the users change to be applied")
        controls.send(ControlChange("stop", source="live"))

    thread = threading.Thread(target=keys)
    thread.start()
    try:
        status = drive_loop(coord, controls)
    finally:
        coord.stop()
        thread.join()
    assert status == "stopped"
    assert [(c.action, c.value, c.source) for c in coord.controls] == [
        ("users", 3, "live"),
        ("stop", None, "live"),
    ]
    assert coord.elapsed < 60  # a stop ends an hour-long plan


def test_an_end_asked_from_outside_wins_over_the_plan(mock) -> None:
    coord = Coordinator(_config(duration=3600), mock.url)
    coord.start()
    asked: list[str] = []
    turns = 0

    def after_tick() -> None:
        nonlocal turns
        turns += 1
        if coord.elapsed > 0.5:
            asked.append("interrupted")  # what a signal handler does

    try:
        status = drive_loop(coord, ended=lambda: asked[0] if asked else None, after_tick=after_tick)
    finally:
        coord.stop()
    assert status == "interrupted" and turns > 1
    assert coord.controls == []  # nothing was applied on the way out


def test_a_session_driven_to_the_end_publishes_frames_on_one_clock_and_saves(
    mock, private_dirs: Path
) -> None:
    frames: list[tuple[str, float, float]] = []  # (phase, elapsed, wall clock when published)

    def make_frame(coord: Coordinator, phase: str, url: str) -> tuple[str, float, str]:
        return phase, coord.elapsed, url

    def publish(frame: tuple[str, float, str]) -> None:
        frames.append((frame[0], frame[1], time.monotonic()))
        assert frame[2] == mock.url  # the target the session brought up

    config = _config(duration=2.0).with_overrides(target={"url": mock.url})
    out = private_dirs / "driven.json"
    with RunSession(config, out=out, say=lambda _: None) as session:
        driver: RunDriver[Any] = RunDriver(
            session, Controls(), publish=publish, make_frame=make_frame, frame_every=0.2
        )
        run, path = driver.run()
    assert run.status == "completed" and path == out and out.exists()
    phases = [f[0] for f in frames]
    assert phases[-2:] == ["stopping", "completed"]
    live = [f for f in frames if f[0] == "running"]
    assert len(live) >= 3  # 2 s of load, a frame every 0.2 s (a busy machine drops some)
    gaps = [b[2] - a[2] for a, b in itertools.pairwise(live)]
    assert min(gaps) >= 0.2 - 0.01  # never more often than the clock
    assert [f[1] for f in live] == sorted(f[1] for f in live)


def test_a_bug_while_publishing_fails_the_run_and_still_saves_it(mock, private_dirs: Path) -> None:
    def publish(frame: Any) -> None:
        if frame == "running":
            raise RuntimeError("a widget broke")

    config = _config(duration=3600).with_overrides(target={"url": mock.url})
    out = private_dirs / "broken.json"
    with RunSession(config, out=out, say=lambda _: None) as session:
        driver: RunDriver[Any] = RunDriver(
            session, Controls(), publish=publish, make_frame=lambda c, phase, u: phase
        )
        run, path = driver.run(grace=lambda status: 0.0)
    assert run.status == "failed" and "RuntimeError: a widget broke" in (run.error or "")
    assert path == out and out.exists()


def test_a_screen_that_never_takes_a_frame_is_told_once(mock, private_dirs: Path) -> None:
    config = _config(duration=1.5).with_overrides(target={"url": mock.url})
    bridge = RunBridge(config, frame_every=0.05, out=private_dirs / "slow.json")
    told: list[float] = []
    bridge.on_change = lambda: told.append(time.monotonic())
    bridge.start()
    assert bridge.wait(60) and bridge.error is None
    assert len(told) == 1  # ~30 frames and a message came; one notice waits to be taken
    assert bridge.take().phase == "completed"  # the slot holds the newest frame


def test_a_screen_that_takes_each_frame_is_told_of_each(mock, private_dirs: Path) -> None:
    config = _config(duration=1.5).with_overrides(target={"url": mock.url})
    bridge = RunBridge(config, frame_every=0.1, out=private_dirs / "fast.json")
    phases: list[str] = []
    bridge.on_change = lambda: phases.append(bridge.take().phase)
    bridge.start()
    assert bridge.wait(60) and bridge.error is None
    assert bridge.run is not None and bridge.path == private_dirs / "fast.json"
    assert phases.count("running") >= 3 and phases[-1] == "completed"
    assert bridge.messages and bridge.messages[0].startswith("target: ")
