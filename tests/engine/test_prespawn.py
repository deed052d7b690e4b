"""Prespawned processes (issue 15's start-up row, docs/performance.md "Start-up and exit").

A headless run's CLI starts the embedded mock and the workers as soon as its options are
checked, so their imports overlap the parent's; the session takes them when it starts (a
``ServerProcess`` of the same app, a ``ProcessPool``), and whatever no session took is ended
at once. These tests check the hand-over (the run is served by the very processes spawned
ahead) and that nothing is left behind, over loopback.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from loadtui.engine import prespawn as warm_workers
from loadtui.mock import MockProcess
from loadtui.model.plan import RunConfig
from loadtui.run.session import RunSession
from loadtui.run.target import discard_prespawned, prespawn, prespawn_first_worker
from loadtui.runtime import forking

_BEFORE: set[int | None] = set()
"""This process's children from before the test (the shared mock of other tests)."""


def _ours() -> dict[int | None, str]:
    """This process's live children that loadtui started in this test: pid -> name."""
    return {
        p.pid: p.name
        for p in mp.active_children()
        if p.name.startswith("loadtui-") and p.pid not in _BEFORE
    }


@pytest.fixture(autouse=True)
def _nothing_left() -> Iterator[None]:
    _BEFORE.clear()
    _BEFORE.update(p.pid for p in mp.active_children())
    yield
    discard_prespawned()  # a failed test must not hand its children to the next one
    assert _ours() == {}


def _config(**load: object) -> RunConfig:
    return RunConfig(
        load={"mode": "closed", "users": 1, "spawn_rate": 0, "duration": 0.5, **load},
        requests=[{"kind": "chat", "stream": True, "max_tokens": 4}],
        workers=1,
    )


@pytest.mark.parametrize("method", ["spawn", "as chosen"])
def test_a_run_is_served_by_the_mock_and_the_worker_prespawned_for_it(
    private_dirs: Path, method: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Prespawned children are forked where that is safe (one thread, Linux), else spawned:
    both are served the same way."""
    if method == "spawn":
        monkeypatch.setattr(forking, "prepare", lambda: "spawn")
    config = _config()
    prespawn(config)
    ahead = _ours()
    assert sorted(ahead.values()) == ["loadtui-embedded mock", "loadtui-worker"]
    with RunSession(config, out=private_dirs / "run.json", say=lambda _: None) as session:
        coord = session.start()
        assert set(_ours()) == set(ahead)  # taken, none spawned besides
        assert sorted(_ours().values()) == ["loadtui-embedded mock", "loadtui-worker-0"]
        while coord.elapsed < config.load.total_duration:
            coord.tick(0.05)
        run, path = session.finish("completed")
    assert run.status == "completed" and path is not None and path.exists()
    assert run.target.embedded_mock and run.summary.requests >= 1
    assert run.summary.errors_total == 0


def test_a_run_needing_more_workers_spawns_the_rest_and_one_with_a_url_ends_the_mock(
    private_dirs: Path, mock: MockProcess
) -> None:
    _BEFORE.add(mock._proc.pid)  # the shared mock (started by this test's fixture)
    prespawn(_config())  # a mock and one worker, as for a run of the embedded mock
    ahead = _ours()
    config = _config(users=2).with_overrides(workers=2, target={"url": mock.url})
    with RunSession(config, out=private_dirs / "run.json", say=lambda _: None) as session:
        session.start()
        now = _ours()
        # the prespawned worker is worker 0, a second one was spawned, the unwanted mock ended
        workers = {pid for pid, name in now.items() if name.startswith("loadtui-worker")}
        assert len(workers) == 2 and len(workers & set(ahead)) == 1
        assert not [n for n in now.values() if "mock" in n]
        run, _ = session.finish("completed", grace=0.0)
    assert run.status == "completed"


def test_prespawned_processes_nobody_takes_are_ended_and_reaped() -> None:
    prespawn(_config())
    prespawn(_config())  # a second mock of the same app replaces the first; the worker waits
    prespawn_first_worker()  # as the CLI does while it resolves the options: one more
    assert sorted(_ours().values()) == ["loadtui-embedded mock", "loadtui-worker", "loadtui-worker"]
    spawned = [p for p in mp.active_children() if p.pid in _ours()]
    started = time.monotonic()
    discard_prespawned()
    assert time.monotonic() - started < 10  # killed, not waited for
    assert all(p.exitcode is not None for p in spawned)  # reaped: no zombie


def test_nothing_is_prespawned_for_ray(private_dirs: Path) -> None:
    prespawn(_config().with_overrides(engine={"backend": "ray"}))
    assert _ours() == {}


def test_a_prespawned_worker_whose_pipe_closes_ends_quietly() -> None:
    """Its parent's end of the pipe is the only one left (a forked child drops its copies of
    its parent's ends): closing it ends the waiting worker with exit code 0."""
    prespawn(_config().with_overrides(target={"url": "http://127.0.0.1:9"}))  # no mock
    (child,) = warm_workers._prespawned
    warm_workers._prespawned.clear()
    child.down.close()
    child.proc.join(60)
    assert child.proc.exitcode == 0
    child.up.close()
