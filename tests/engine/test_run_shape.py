"""``[load] warmup`` and ``[load] requests`` over loopback against the mock.

A request budget is checked against what the mock itself served (``/mock/stats``), closed and
open loop, with one worker and two (the budget is split between them); a warm-up against the
series the coordinator kept (the warm-up's seconds) and the mock's count; a threshold that the
warm-up alone fails — errors the mock gives only while the warm-up runs too many users for its
slots — passes, and its ``abort_on_fail`` does not stop the run. A live change that cannot
apply is refused with a message, not applied nor recorded.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from time import perf_counter

import pytest

from loadtui.engine.coordinator import Coordinator
from loadtui.engine.inprocess import InProcessPool
from loadtui.mock import MockProcess
from loadtui.model.controls import ControlChange
from loadtui.model.plan import MockSpec, RunConfig
from loadtui.run.drive import Controls, drive_loop
from loadtui.tui.bridge import RunBridge


def _config(url: str, load: dict[str, object], workers: int, **more: object) -> RunConfig:
    return RunConfig.model_validate(
        {
            "target": {"url": url},
            "load": load,
            "requests": [{"kind": "chat", "stream": False, "max_tokens": 8}],
            "workers": workers,
            **more,
        }
    )


def _run(config: RunConfig, url: str) -> tuple[Coordinator, str]:
    coord = Coordinator(config, url, pool=InProcessPool())
    coord.start()
    try:
        status = drive_loop(coord, Controls())
    finally:
        coord.stop()
    return coord, status


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize(
    "load",
    [
        {"mode": "closed", "users": 5},
        {"mode": "open", "rate": 120.0},
    ],
    ids=["closed", "open"],
)
def test_a_request_budget_sends_exactly_that_many(
    mock: MockProcess, load: dict[str, object], workers: int
) -> None:
    config = _config(mock.url, {**load, "requests": 37}, workers)
    assert config.load.duration > 86400  # no duration given: it runs until the budget is spent
    began = perf_counter()
    coord, status = _run(config, mock.url)
    assert status == "completed" and perf_counter() - began < 30
    assert mock.stats()["served"] == 37
    result = coord.result()
    assert result.summary.requests == 37 and result.summary.cancelled == 0


def test_whichever_of_budget_and_duration_comes_first_ends_the_run_warm_up_left_out(
    mock: MockProcess,
) -> None:
    load = {"mode": "open", "rate": 40.0, "requests": 10_000, "duration": 0.75, "warmup": 0.25}
    coord, status = _run(_config(mock.url, load, 1), mock.url)
    assert status == "completed"
    served = mock.stats()["served"]
    summary = coord.result().summary
    assert 0 < served < 10_000
    # the summary is the measured part's: the requests after the warm-up, over its seconds
    assert summary.requests == served - coord.warm.requests
    assert summary.duration_s == pytest.approx((coord.ended_at or 0.0) - 0.25, abs=0.002)


@pytest.fixture(scope="module")
def two_slots() -> Iterator[MockProcess]:
    """A mock serving two requests at once and refusing any more (429) at once."""
    spec = MockSpec(latency=0.02, slots=2, max_queue=0)
    with MockProcess(spec) as mock:
        yield mock


def test_a_threshold_ignores_what_only_the_warm_up_did(
    two_slots: MockProcess, private_dirs: Path
) -> None:
    # 10 users on 2 slots: most requests are refused (429) — until the users drop to 1 at 0.7 s,
    # within the warm-up; after it nothing is refused
    config = _config(
        two_slots.url,
        {"mode": "closed", "users": 10, "duration": 1.6, "warmup": 1.0},
        1,
        thresholds={"error_rate": [{"threshold": "rate<0.05", "abort_on_fail": True}]},
    )
    schedule = [ControlChange("users", 1, 0.7, "control-file")]
    bridge = RunBridge(config, schedule=schedule, out=private_dirs / "warm.json")
    bridge.start()
    assert bridge.wait(45) and bridge.error is None
    run = bridge.run
    assert run is not None
    warm_errors = sum(p.errors for p in run.series if p.t < 1)
    warm_requests = sum(p.rps for p in run.series if p.t < 1)
    assert warm_errors / warm_requests > 0.05  # the warm-up alone fails the threshold …
    assert run.summary.requests > 0 and run.summary.errors_total == 0
    assert run.status == "completed" and run.aborted_by is None  # … it was not judged
    assert run.passed and [t.passed for t in run.thresholds] == [True]


def test_a_live_change_that_cannot_apply_is_refused_with_a_message(mock: MockProcess) -> None:
    config = RunConfig.model_validate(
        {"target": {"url": mock.url}, "load": {"mode": "open", "rate": 20, "duration": 0.6}}
    )
    coord = Coordinator(config, mock.url, pool=InProcessPool())
    controls = Controls()
    said: list[str] = []
    controls.send(ControlChange("users", 5))  # the app's exact-value dialog can send one
    controls.send(ControlChange("rate", 40.0))
    coord.start()
    try:
        assert drive_loop(coord, controls, not_applied=said.append) == "completed"
    finally:
        coord.stop()
    assert said == [
        "the 'users' change has no effect in an open-loop run (arrivals per second); "
        "use 'rate': not applied"
    ]
    assert [c.action for c in coord.controls] == ["rate"]  # only what applied is recorded


def test_a_run_that_completes_before_a_scheduled_change_says_so(mock: MockProcess) -> None:
    config = _config(mock.url, {"mode": "closed", "users": 2, "requests": 6}, 1)
    coord = Coordinator(config, mock.url, pool=InProcessPool())
    controls = Controls([ControlChange("users", 4, 30.0, "replay")])
    said: list[str] = []
    coord.start()
    try:
        assert drive_loop(coord, controls, not_applied=said.append) == "completed"
    finally:
        coord.stop()
    assert len(said) == 1 and said[0].startswith("1 scheduled change(s) not applied")
    assert "before the first ('users' at 30s)" in said[0] and not coord.controls
