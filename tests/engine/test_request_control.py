"""The request under full control, seen from the server (issue 14 item 3): body fields, headers,
max_tokens drawn from a distribution, ignore_eos / min_tokens, and TLS (--ca-cert, --insecure).

The mock records what it received (``MockSpec(record=N)``), so each test reads the requests as
they arrived over loopback, not as loadtui meant to send them. Runs go through the real
coordinator with in-process workers (the process boundary is not what these tests are about).
"""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import drive
from loadtui.engine.inprocess import InProcessPool
from loadtui.engine.mix import OUTPUT_VARIANTS
from loadtui.mock import MockProcess
from loadtui.mock.server import build_app
from loadtui.mock.servers import serve_app
from loadtui.model.plan import MockSpec, RunConfig
from loadtui.model.shaping import OutputLength

FAST = MockSpec(latency=0.001, ttft=0.002, itl=0.001, tokens=2, record=5000)
"""A quick mock, so a short run sends enough requests to see a whole cycle of variants."""


@pytest.fixture(scope="module")
def recording() -> Iterator[MockProcess]:
    with MockProcess(FAST) as mock:
        yield mock


def _run(url: str, seconds: float = 1.0, **config: object) -> RunConfig:
    cfg = RunConfig.model_validate(
        {"load": {"mode": "closed", "users": 1, "duration": seconds}, "workers": 1, **config}
    )
    summary = drive(cfg, url, pool=InProcessPool()).result().summary
    assert summary.requests > 0
    return cfg


def _reset(mock: MockProcess) -> None:
    import httpx

    httpx.post(mock.url + "/mock/reset", timeout=5.0)


def test_body_fields_and_headers_arrive_and_the_users_fields_win(recording):
    _reset(recording)
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    chat = {
        "kind": "chat",
        "max_tokens": 5,
        "ignore_eos": True,
        "min_tokens": "max_tokens",
        "headers": {"X-Tenant": "blue", "Accept": "text/event-stream"},
        "body": {
            "temperature": 0.3,
            "top_p": 0.9,
            "seed": 42,
            "tools": tools,
            "response_format": {"type": "json_object"},
            "stop": ["\n\n"],
            "model": "their-model",
        },
    }
    completion = {"kind": "completion", "stream": False, "body": {"temperature": 0}}
    messages = {"kind": "messages", "body": {"temperature": 0.5, "top_k": 3}}
    responses = {"kind": "responses", "body": {"temperature": 0.7, "store": True}}
    _run(
        recording.url,
        requests=[chat, completion, messages, responses],
        target={"headers": {"Authorization": "Bearer tok-run-wide-123", "X-Run": "r1"}},
    )
    got = recording.received()
    by_path = {r["path"]: r for r in got}
    sent = by_path["/v1/chat/completions"]
    body, headers = sent["body"], sent["headers"]
    assert body["temperature"] == 0.3 and body["top_p"] == 0.9 and body["seed"] == 42
    assert body["tools"] == tools and body["response_format"] == {"type": "json_object"}
    assert body["stop"] == ["\n\n"] and body["model"] == "their-model"  # the user's model wins
    assert body["ignore_eos"] is True and body["min_tokens"] == 5 == body["max_tokens"]
    assert body["stream"] is True  # stream follows stream =, never the body table
    assert headers["X-Tenant"] == "blue" and headers["X-Run"] == "r1"
    assert headers["Authorization"] == "Bearer tok-run-wide-123"
    plain = by_path["/v1/completions"]["body"]
    assert plain["temperature"] == 0 and "stream" not in plain and "ignore_eos" not in plain
    assert by_path["/v1/completions"]["headers"]["X-Run"] == "r1"
    anthropic = by_path["/v1/messages"]["body"]
    assert anthropic["temperature"] == 0.5 and anthropic["top_k"] == 3 and anthropic["stream"]
    assert by_path["/v1/messages"]["headers"]["Authorization"] == "Bearer tok-run-wide-123"
    answers = by_path["/v1/responses"]
    assert answers["body"]["temperature"] == 0.7 and answers["body"]["store"] is True
    assert answers["headers"]["X-Run"] == "r1"


def test_max_tokens_follow_the_seeded_distribution_variant_by_variant(recording):
    _reset(recording)
    lengths = {"distribution": "normal", "min": 3, "max": 40, "mean": 12, "seed": 7}
    _run(
        recording.url,
        seconds=2.0,
        requests=[{"kind": "chat", "stream": False, "max_tokens": lengths}],
    )
    sent = [r["body"]["max_tokens"] for r in recording.received()]
    # one user, one worker: requests arrive in the order of the variants, used in turn
    assert len(sent) > OUTPUT_VARIANTS, f"only {len(sent)} requests in 2 s"
    drawn = OutputLength.model_validate(lengths).draw(OUTPUT_VARIANTS)
    assert sent[:OUTPUT_VARIANTS] == drawn
    # then the same variants again, in the same order
    assert sent == [drawn[i % OUTPUT_VARIANTS] for i in range(len(sent))]
    assert all(3 <= n <= 40 for n in sent) and len(set(drawn)) > 10
    other = OutputLength.model_validate({**lengths, "seed": 8}).draw(OUTPUT_VARIANTS)
    assert other != drawn  # the seed decides: a replay with the same seed sends the same


# -- TLS ------------------------------------------------------------------------------------


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (its own CA) and its key, made with openssl."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed: no certificate to test TLS with")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1",
         "-addext", "basicConstraints=critical,CA:TRUE"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


@pytest.fixture(scope="module")
def tls_mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The mock app served over HTTPS in a thread: (its https URL, the CA bundle to trust)."""
    cert, key = _self_signed(tmp_path_factory.mktemp("tls"))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    ready: list[int] = []
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    spec = MockSpec(latency=0.001, ttft=0.002, itl=0.001, tokens=2)

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(
            serve_app(build_app(spec), on_ready=ready.append, stop=stop, ssl_context=context)
        )

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    for _ in range(600):
        if ready:
            break
        threading.Event().wait(0.05)
    assert ready, "the TLS mock did not start"
    yield f"https://127.0.0.1:{ready[0]}", cert
    loop.call_soon_threadsafe(stop.set)
    thread.join(10)


def _tls_summary(url: str, **target: object):
    cfg = RunConfig.model_validate({
        "load": {"mode": "closed", "users": 1, "duration": 0.6}, "workers": 1,
        "requests": [{"kind": "chat", "stream": True}], "target": target,
    })  # fmt: skip
    return drive(cfg, url, pool=InProcessPool()).result().summary


def test_a_self_signed_target_fails_as_a_connect_error_without_ca_cert_or_insecure(tls_mock):
    url, _ = tls_mock
    summary = _tls_summary(url)
    assert summary.ok == 0 and summary.errors_total > 0
    assert set(summary.errors) == {"connect_error"}  # classified, not a crash


def test_ca_cert_trusts_the_gateways_certificate(tls_mock):
    url, cert = tls_mock
    summary = _tls_summary(url, ca_cert=str(cert))
    assert summary.ok > 0 and summary.errors_total == 0


def test_insecure_skips_the_certificate_check(tls_mock):
    url, _ = tls_mock
    summary = _tls_summary(url, insecure=True)
    assert summary.ok > 0 and summary.errors_total == 0
