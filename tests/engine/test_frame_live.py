"""A live frame built from a real coordinator (worker processes against the mock) says what
the saved run will say, and what the workers report now."""

from __future__ import annotations

import time

from loadtui.engine.coordinator import Coordinator
from loadtui.mock import MockProcess
from loadtui.run.frame import LiveFrame, build_frame, in_flight_now
from loadtui.storage.presets import load_preset


def test_live_frames_read_the_coordinator_and_end_as_its_result(mock: MockProcess) -> None:
    config = load_preset("baseline").with_overrides(
        load={"mode": "closed", "users": 2, "spawn_rate": 0, "think_time": (0.05, 0.05)},
        workers=1,
    )
    config = config.with_overrides(load={"duration": 3})
    coord = Coordinator(config, mock.url)
    coord.start()
    live: list[LiveFrame] = []
    try:
        deadline = time.monotonic() + 60
        while not coord.done and time.monotonic() < deadline:
            coord.tick(0.05)
            if coord.series.points and coord.totals.requests and not live:
                live.append(build_frame(coord))  # the first frame with a finished second
                live.append(build_frame(coord, recent=False))
    finally:
        coord.stop()
    assert live, "no frame with a finished second before the run ended"
    frame, console = live
    assert frame.phase == "running" and frame.live and frame.workers == 1
    assert frame.totals.requests > 0 and frame.last is not None
    assert frame.recent is not None and frame.window_s == coord.recent.seconds
    assert console.recent is None  # the console leaves the recent window out
    assert frame.cpu_now is not None and frame.lag_now_ms is not None
    assert 0 < len(frame.users_rows) <= 2 and frame.users == 2 and frame.target_users == 2
    assert {row[0] for row in frame.users_rows} <= {0, 1}  # one row per user, by user id

    final = build_frame(coord, "completed")
    result = coord.result()
    assert final.totals == result.summary  # the last frame is the saved run's summary
    assert final.last == result.series[-1] and final.controls == result.controls
    assert final.health == result.generator
    assert final.peak_users == max(p.users for p in result.series) == 2
    assert in_flight_now(coord) == final.in_flight == 0
