"""--server-metrics over loopback: a run against the embedded mock with finite slots, whose
/metrics says requests wait when the load exceeds them — in the frames, in the saved run file
and loaded back; and each way a scrape can fail, counted by its kind."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from loadtui.mock import MockProcess
from loadtui.model.plan import MockSpec, RunConfig
from loadtui.model.servermetrics import ServerMetricsSpec, ServerSeries
from loadtui.run.drive import Controls, RunDriver
from loadtui.run.frame import LiveFrame
from loadtui.run.promtext import parse_exposition
from loadtui.run.servermetrics import ServerScraper
from loadtui.run.session import RunSession
from loadtui.storage.runfile import load_record


def test_the_mock_with_two_slots_reports_waiting_requests(private_dirs: Path) -> None:
    """6 users, 2 slots, ~0.3 s an answer: 2 run and 4 wait at every scrape; the server's
    TTFT (from arrival, the wait for a slot included) is far above the mock's 30 ms."""
    config = RunConfig(
        load={"mode": "closed", "users": 6, "spawn_rate": 0, "duration": 2.0},
        requests=[{"kind": "chat", "stream": True, "max_tokens": 12}],
        mock={"slots": 2, "ttft": 0.03, "itl": 0.02, "tokens": 12},
        server_metrics={"url": "mock"},
        workers=1,
    )
    frames: list[LiveFrame] = []
    out = private_dirs / "server.json"
    with RunSession(config, out=out, say=lambda _: None) as session:
        driver: RunDriver[Any] = RunDriver(session, Controls(), publish=frames.append)
        run, path = driver.run()
    assert run.status == "completed" and path == out
    server = run.server
    assert server is not None and server.scrapes >= 2 and server.failed == 0
    assert server.sources["waiting"] == "vllm:num_requests_waiting"
    assert (server.peak("waiting") or 0) > 0
    assert server.peak("running") == 2.0  # never more than the slots
    assert server.peak("kv_cache") == 1.0  # both slots' caches taken
    assert (server.peak("ttft_p50_ms") or 0) > 100  # queued: most of an answer's time
    client_seconds = {p.t for p in run.series}
    assert {p.t for p in server.points} <= client_seconds | {max(client_seconds) + 1}
    shown = [f.server for f in frames if f.live and f.server is not None and f.server.points]
    assert shown, "no frame carried the server's series"
    assert load_record(out).server == server  # saved, and loaded back as it was


class _Silent:
    """A port that accepts connections and never answers (a hung metrics endpoint)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/metrics"
        self.held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        try:
            while True:
                conn, _ = self.sock.accept()
                self.held.append(conn)
        except OSError:
            return

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


def _scrape(url: str) -> ServerSeries:
    scraper = ServerScraper(ServerMetricsSpec(url="http://x/metrics"), url, clock=lambda: 0.2)
    with httpx.Client(timeout=0.8) as client:
        scraper.scrape_once(client)
    return scraper.view()


@pytest.mark.parametrize(
    ("path", "kind"),
    [("/mock/stats", "garbage"), ("/not-here", "status"), (None, "connect")],
)
def test_a_failed_scrape_is_counted_by_kind(
    mock: Any, unused_port: int, path: str | None, kind: str
) -> None:
    url = f"http://127.0.0.1:{unused_port}/metrics" if path is None else mock.url + path
    view = _scrape(url)
    assert view.scrapes == 1 and view.failures == {kind: 1} and view.points == ()


def test_a_hung_endpoint_times_out() -> None:
    silent = _Silent()
    try:
        view = _scrape(silent.url)
    finally:
        silent.close()
    assert view.failures == {"timeout": 1}


def test_the_mock_counts_streams_in_flight_without_slots() -> None:
    """Without the capacity model running is the generation requests in flight (counted from
    the first scrape on), and each streamed answer's first token lands in the TTFT histogram.

    The answer takes 20 s (0.2 s a token): the scrape during it must not race its end — a
    short answer is written whole into the socket while a starved client is still scraping."""
    with MockProcess(MockSpec(ttft=0.05, itl=0.2, tokens=100)) as mock:
        assert _scrape(mock.url + "/metrics").failed == 0  # the first scrape turns counting on
        body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}
        with (
            httpx.Client(timeout=10) as client,
            client.stream("POST", mock.url + "/v1/chat/completions", json=body) as answer,
        ):
            seen = b""
            # held in a name: a generator dropped at ``break`` would close the stream at once
            chunks = answer.iter_bytes()
            for chunk in chunks:  # up to the first token: its TTFT is observed
                seen += chunk
                if b"tok0" in seen:
                    break
            during = _scrape(mock.url + "/metrics")
        # the client hung up: the mock cancels the request's handler and the request ends
        deadline = time.monotonic() + 30
        while True:
            after = parse_exposition(httpx.get(mock.url + "/metrics", timeout=5).text)
            if _total(after, "vllm:num_requests_running") == 0.0 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
    assert during.points[0].values["running"] == 1.0
    assert during.sources["ttft"] == "vllm:time_to_first_token_seconds"
    assert _total(after, "vllm:num_requests_running") == 0.0
    assert _total(after, "vllm:time_to_first_token_seconds_count") >= 1.0


def _total(exp: Any, name: str) -> float:
    return sum(v for _, v in exp.samples[name])
