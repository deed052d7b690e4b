"""Error samples: the first few failed responses of each class, as the target sent them.

Faults come from our mock (each fault one error class) and, for what the mock cannot send (a
huge error body, a header echoing the key, a cookie), from a small server in this test — both
over loopback. The redaction case goes through the CLI and the saved run file, where it
matters."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from helpers import drive, run_cli
from loadtui.engine.inprocess import InProcessPool
from loadtui.metrics.samples import BODY_BYTES, SAMPLES_PER_CLASS
from loadtui.mock import MockProcess
from loadtui.model.plan import MockSpec, RunConfig
from loadtui.storage.runfile import load_record

pytestmark = pytest.mark.integration  # every test here starts servers

KEY = "fake-key-for-the-redaction-test"  # not a real key: any text the target echoes
"""A key long enough to be redacted everywhere it appears."""


def _config(stream: bool, workers: int = 2, users: int = 4, timeout: str = "0.5s") -> RunConfig:
    return RunConfig(
        target={"timeout": timeout},
        load={"mode": "closed", "users": users, "duration": "1.2s", "graceful_stop": "1s"},
        requests=[{"kind": "chat", "stream": stream}],
        workers=workers,
    )


@pytest.mark.parametrize(
    ("fault", "stream", "error_class", "status", "body_has"),
    [
        ("http_500", False, "http_5xx", 500, '"server_error"'),
        ("http_429", True, "http_429", 429, '"rate_limit_exceeded"'),
        ("malformed", False, "malformed", 200, "{not json"),
        ("reset", False, "reset", None, ""),
    ],
)
def test_each_fault_keeps_its_first_responses(
    fault: str, stream: bool, error_class: str, status: int | None, body_has: str
):
    settings = MockSpec(latency=0, ttft=0.005, itl=0.002, tokens=4, faults={fault: 1.0})
    with MockProcess(settings) as mock:
        coord = drive(_config(stream), mock.url, pool=InProcessPool())
    result = coord.result()
    assert result.summary.errors[error_class] > SAMPLES_PER_CLASS  # more than are kept
    samples = result.error_samples
    assert {s.error_class for s in samples} == {error_class}
    assert len(samples) == SAMPLES_PER_CLASS  # two workers' samples merged, capped per class
    assert [s.at_s for s in samples] == sorted(s.at_s for s in samples)
    for s in samples:
        assert s.status == status
        assert body_has in s.body
        assert s.body_truncated is False
        assert s.reason  # the exception that classed it, or the status line
        assert 0.0 <= s.at_s <= 1.2 + 1.0
        if status is not None:
            assert s.headers.get("Content-Type", "").startswith("application/json")
        else:
            assert s.headers == {}  # no answer came: no headers, no body
    if fault == "http_429":
        assert samples[0].headers["Retry-After"] == "1"


def test_successful_runs_keep_no_samples(mock: MockProcess):
    # a generous timeout: on a busy machine a 0.13 s stream can take longer than 0.5 s, and
    # this test is about what a run without faults keeps, not about the machine
    config = _config(stream=True, workers=1, users=2, timeout="10s")
    coord = drive(config, mock.url, pool=InProcessPool())
    result = coord.result()
    assert result.summary.ok > 0
    assert result.error_samples == ()


class _Hostile(BaseHTTPRequestHandler):
    """500s with a 20 KB body that echoes the request's key, a header echoing it too, and a
    cookie; ``GET`` answers too (the smoke preset's health and models requests)."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        auth = self.headers.get("Authorization", "")
        body = (f"upstream said no to {auth} " + "x" * 20_000).encode()
        self.send_response(500)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Echo-Auth", auth)
        self.send_header("Set-Cookie", "session=abc123")
        self.send_header("X-Markup", "[bold]x[/]")
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture()
def hostile() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def test_samples_are_cut_and_redacted_in_the_run_file(hostile: str, tmp_path: Path):
    out = tmp_path / "run.json"
    proc = run_cli(
        "--headless",
        "--preset",
        "smoke",
        "--duration",
        "1s",
        "--url",
        hostile,
        "--api-key",
        KEY,
        "--out",
        str(out),
    )
    assert proc.returncode in (0, 1), proc.stderr  # every request failed: thresholds may fail
    text = out.read_text()
    assert KEY not in text
    raw = json.loads(text)
    assert raw["error_samples"]
    run = load_record(out)
    samples = run.error_samples
    assert {s.error_class for s in samples} == {"http_5xx"}
    assert 1 <= len(samples) <= SAMPLES_PER_CLASS
    for s in samples:
        assert s.status == 500
        assert s.body_truncated is True
        # cut at BODY_BYTES as received, then the key (once in the body) became ***
        assert len(s.body.encode()) == BODY_BYTES - len(KEY) + len("***")
        assert s.body.startswith("upstream said no to Bearer ***")
        assert s.headers["X-Echo-Auth"] == "Bearer ***"
        assert "Set-Cookie" not in s.headers  # credentials' headers are never kept
        assert s.headers["X-Markup"] == "[bold]x[/]"


def test_workers_redact_the_key_before_anything_leaves_them(hostile: str):
    """No session here (the live frame's path): the worker itself hides the key, and the URL's
    password also as Basic auth sends it (base64), in what it keeps."""
    cfg = RunConfig(
        load={"mode": "closed", "users": 2, "duration": "0.6s"},
        requests=[{"kind": "chat", "stream": False}],
        workers=1,
    )
    with_password = hostile.replace("http://", "http://someone:hunter2-password@")
    token = base64.b64encode(b"someone:hunter2-password").decode()
    for url, key, secrets, echoed in (
        (hostile, KEY, [KEY], "Bearer ***"),
        (with_password, None, ["hunter2-password", token], "Basic ***"),
    ):
        samples = drive(cfg, url, api_key=key, pool=InProcessPool()).error_samples()
        assert samples and all(s.status == 500 for s in samples)
        for s in samples:
            shown = s.body + "".join(s.headers.values()) + (s.reason or "")
            assert not any(secret in shown for secret in secrets)
            assert s.headers["X-Echo-Auth"] == echoed
