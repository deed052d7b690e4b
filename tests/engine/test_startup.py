"""Start-up and exit (issue 15): the embedded mock and the workers start side by side.

A server's socket is bound by the parent, so its URL is known before its process serves and a
run spawns its workers meanwhile; the pool waits for the server once its workers are spawned,
before any load. A server that cannot start fails that wait as soon as its process ends (not
after the timeout), and the workers already spawned are ended. Loopback only.
"""

from __future__ import annotations

import multiprocessing as mp
import time

import httpx
import pytest

from loadtui.engine.channel import ProcessPool
from loadtui.engine.worker import WorkerSpec
from loadtui.errors import StartError
from loadtui.mock import MockProcess
from loadtui.mock.servers import ServerProcess
from loadtui.model.plan import MockSpec, RunConfig


def _no_app(settings: object) -> object:
    """A server factory that fails in the child (module level: the child imports it)."""
    raise RuntimeError("this server cannot start")


def test_a_launched_server_has_its_url_at_once_and_serves_once_ready(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOADTUI_DEBUG_TIMING", "1")  # the child reads it: its stamps on fd 2
    server = MockProcess(MockSpec())
    url = server.launch()
    try:
        assert server.port and url == f"http://127.0.0.1:{server.port}"  # before it serves
        server.wait_ready(60)
        assert httpx.get(url + "/health", timeout=10).json() == {"status": "ok"}
    finally:
        server.stop()
    err = capfd.readouterr().err
    assert "server process: imports done" in err
    assert "server process: first request (GET /health)" in err


def test_a_server_that_cannot_start_fails_its_wait_when_its_process_ends() -> None:
    server = ServerProcess(_no_app, None)
    server.launch()
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="did not start"):
        server.wait_ready(120)
    assert time.monotonic() - started < 60  # the child's end said so: no wait for the timeout
    assert not [p for p in mp.active_children() if p.name == "loadtui-server"]


def test_a_failure_while_the_workers_start_ends_them(mock: MockProcess) -> None:
    def mock_failed() -> None:
        raise StartError("the embedded mock did not start")

    config = RunConfig(load={"mode": "closed", "users": 1, "duration": 5}, workers=2)
    pool = ProcessPool(while_starting=mock_failed)
    with pytest.raises(StartError, match="did not start"):
        pool.start([WorkerSpec(i, 2, config, mock.url) for i in range(2)])
    assert not [p for p in mp.active_children() if p.name.startswith("loadtui-worker")]
    assert pool.receive(0.1) == []  # every worker counts as ended
