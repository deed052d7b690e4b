"""Targets that misbehave on purpose, run through the CLI as a user would.

Each test starts a small raw-asyncio HTTP server on 127.0.0.1 (in a thread of the test process)
that answers every request badly in one way: an endless body, an endless SSE line, SSE data
with no blank line, valid JSON of the wrong shape, an HTML page for a stream, 1 MB of headers,
or no answer at all. The server counts the requests it received in full. Then the run must tell
the truth: the fault counted under its error class, every request the server saw counted
(completed or cancelled), the run saved as ``completed``, the exit code 1 when the run has an
error-rate threshold (or 0 when it has none), and no process of the run growing past a bound
(its peak resident memory, ``VmHWM``, read from /proc while it runs). One test sends to such a
server in-process instead, to check a body limit to the byte.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from loadtui.engine.client import execute
from loadtui.engine.protocols import OpenAIProtocol
from loadtui.engine.wire import Wire
from loadtui.metrics.stats import Recorder
from loadtui.model.plan import RunConfig
from loadtui.run.exitcodes import ExitCode

pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")

PEAK_RSS_MB = 200
"""No process of a run may reach this resident size. Measured here: 64 MB for every process of
a run against a small answer, 114 MB for the worker reading an endless body (its 64 MiB body
limit, then ``too_large``); without limits an endless body took a worker to 1.9 GB in 3 s."""

Behaviour = Callable[[asyncio.StreamReader, asyncio.StreamWriter, bytes], Awaitable[bool]]
"""Answers one request (given its head and body); returns True to keep the connection."""

PIECE = b"x" * 65536


class Hostile:
    """A loopback HTTP/1.1 server in its own thread that answers with ``behaviour``."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.seen = 0
        """Requests received in full (head and body)."""
        self.open = 0
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Hostile:
        self._thread.start()
        assert self._ready.wait(10), "the hostile server did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", 0, limit=1 << 20)
        )
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        server.close()
        for task in asyncio.all_tasks(self._loop):
            task.cancel()
        self._loop.run_until_complete(asyncio.sleep(0))
        self._loop.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.open += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                body = await reader.readexactly(length)
                self.seen += 1
                if not await self.behaviour(reader, writer, head + body):
                    break
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass  # the client went away: expected of every case here
        finally:
            writer.close()
            self.open -= 1

    def settle(self, timeout: float = 10.0) -> None:
        """Wait until every connection is closed (the client process has exited)."""
        deadline = time.monotonic() + timeout
        while self.open and time.monotonic() < deadline:
            time.sleep(0.05)


def _head(status: str, ctype: str, length: int | None = None, extra: bytes = b"") -> bytes:
    size = b"Connection: close\r\n" if length is None else b"Content-Length: %d\r\n" % length
    return b"HTTP/1.1 %s\r\nContent-Type: %s\r\n%s%s\r\n" % (
        status.encode(),
        ctype.encode(),
        size,
        extra,
    )


def answer(ctype: str, body: bytes, status: str = "200 OK") -> Behaviour:
    """A complete, well-framed answer with ``body`` (keep-alive)."""

    async def behave(reader: Any, writer: asyncio.StreamWriter, request: bytes) -> bool:
        writer.write(_head(status, ctype, len(body)) + body)
        await writer.drain()
        return True

    return behave


def endless(ctype: str, opening: bytes, piece: bytes) -> Behaviour:
    """``opening``, then ``piece`` again and again until the client hangs up."""

    async def behave(reader: Any, writer: asyncio.StreamWriter, request: bytes) -> bool:
        writer.write(_head("200 OK", ctype) + opening)
        while True:
            writer.write(piece)
            await writer.drain()

    return behave


ONE_HUGE_HEADER = b"X-Big: " + b"a" * 1_000_000 + b"\r\n"
MANY_HEADERS = b"".join(b"X-H%d: %s\r\n" % (i, b"b" * 90) for i in range(10_000))


def huge_headers() -> Behaviour:
    """1 MB of response headers: one huge header, then 10 000 small ones, in turn."""
    served = 0

    async def behave(reader: Any, writer: asyncio.StreamWriter, request: bytes) -> bool:
        nonlocal served
        served += 1
        extra = ONE_HUGE_HEADER if served % 2 else MANY_HEADERS
        writer.write(_head("200 OK", "application/json", 2, extra) + b"{}")
        await writer.drain()
        return False

    return behave


async def never(reader: asyncio.StreamReader, writer: Any, request: bytes) -> bool:
    await reader.read(1)  # returns when the client hangs up
    return False


def sse(*payloads: bytes) -> bytes:
    return b"".join(b"data: %s\n\n" % p for p in payloads)


CONTENT = b'{"choices":[{"index":0,"delta":{"content":"hi"}}]}'
NO_BLANK_LINES = b'data: {"choices":[{"index":0,"delta":{"content":"hi"}}]}\n' * 1000


class RssWatch:
    """Samples the peak resident size (``VmHWM``) of a process and all its descendants."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.peak_kb: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> int:
        """Stop sampling; the largest peak seen, in MB."""
        self._stop.set()
        self._thread.join(5)
        return max(self.peak_kb.values(), default=0) // 1024

    def _family(self) -> set[int]:
        parents: dict[int, int] = {}
        for name in os.listdir("/proc"):
            if name.isdigit():
                try:
                    stat = Path(f"/proc/{name}/stat").read_text()
                except OSError:
                    continue
                parents[int(name)] = int(stat.rsplit(")", 1)[1].split()[1])
        family = {self.root}
        grew = True
        while grew:
            more = {pid for pid, ppid in parents.items() if ppid in family} - family
            family |= more
            grew = bool(more)
        return family

    def _run(self) -> None:
        while not self._stop.is_set():
            for pid in self._family():
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue
                for line in status.splitlines():
                    if line.startswith("VmHWM:"):
                        kb = int(line.split()[1])
                        self.peak_kb[pid] = max(self.peak_kb.get(pid, 0), kb)
            self._stop.wait(0.1)


def run_against(
    server: Hostile,
    tmp_path: Path,
    stream: bool,
    extra: str = "",
    thresholds: bool = True,
    kind: str = "chat",
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any], int]:
    """One 1 s headless run of one user sending ``kind`` requests; (process, run, peak MB)."""
    preset = tmp_path / "hostile.toml"
    text = f"[load]\nusers = 1\n\n[target]\n{extra}\n[[requests]]\nkind = '{kind}'\n"
    text += f"stream = {'true' if stream else 'false'}\n" if kind == "chat" else ""
    if thresholds:
        text += "\n[thresholds]\nerror_rate = ['rate<0.01']\n"
    preset.write_text(text)
    out = tmp_path / "run.json"
    args = ["--headless", "--preset", str(preset), "--url", server.url, "--duration", "1s"]
    args += ["--workers", "1", "--out", str(out), "--no-live"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "loadtui", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    watch = RssWatch(proc.pid)
    try:
        stdout, stderr = proc.communicate(timeout=90)
    finally:
        proc.kill()
        peak = watch.stop()
    server.settle()
    done = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    assert out.is_file(), (proc.returncode, stdout, stderr)
    return done, json.loads(out.read_text()), peak


def assert_truthful(
    server: Hostile, done: subprocess.CompletedProcess[str], run: dict[str, Any], error: str
) -> None:
    """Only ``error`` counted, every request the server saw counted, the run saved complete."""
    s = run["summary"]
    assert "Traceback" not in done.stderr, done.stderr
    assert run["status"] == "completed"
    assert s["requests"] >= 1, s
    assert s["ok"] == 0, s
    assert s["errors"] == {error: s["requests"]}, s
    # the client may have sent one last request the server had not read in full
    counted = s["requests"] + s["cancelled"]
    assert server.seen <= counted <= server.seen + 1, (server.seen, s)


def cycle(ctype: str, bodies: list[bytes]) -> Behaviour:
    """Each request answered with the next of ``bodies`` (keep-alive)."""
    served = 0

    async def behave(reader: Any, writer: asyncio.StreamWriter, request: bytes) -> bool:
        nonlocal served
        body = bodies[served % len(bodies)]
        served += 1
        return await answer(ctype, body)(reader, writer, request)

    return behave


WRONG_SHAPES = [
    b'{"choices":[1]}',
    b'{"choices":[],"usage":5}',
    b'{"choices":[],"usage":{"completion_tokens":"many","prompt_tokens":3}}',
]
STREAMED_SHAPES = [
    sse(b'{"choices":[1]}', b"[DONE]"),
    sse(CONTENT, b'{"choices":[],"usage":5}', b"[DONE]"),
    sse(CONTENT, b'{"choices":[],"usage":{"completion_tokens":"many"}}', b"[DONE]"),
]


@pytest.mark.integration
@pytest.mark.parametrize(
    ("stream", "ctype", "bodies"),
    [(False, "application/json", WRONG_SHAPES), (True, "text/event-stream", STREAMED_SHAPES)],
    ids=["body", "stream"],
)
def test_wrong_shape_json_is_malformed_and_the_user_goes_on(
    stream: bool, ctype: str, bodies: list[bytes], tmp_path: Path
):
    # choices of ints, usage an int, a token count that is a word: each in turn
    with Hostile(cycle(ctype, bodies)) as server:
        done, run, peak = run_against(server, tmp_path, stream=stream)
    assert server.seen >= len(bodies), "every shape was served at least once"
    assert_truthful(server, done, run, "malformed")
    assert run["summary"]["output_tokens"] == 0  # "many" never reached a counter
    assert done.returncode == ExitCode.THRESHOLDS_FAILED, done.stdout
    assert peak < PEAK_RSS_MB


@pytest.mark.integration
def test_html_page_for_a_stream_is_malformed_not_reset(tmp_path: Path):
    page = b"<!doctype html>\n<html><body>\n<h1>Welcome to nginx!</h1>\n</body></html>\n"
    with Hostile(answer("text/html", page)) as server:
        done, run, peak = run_against(server, tmp_path, stream=True)
    assert_truthful(server, done, run, "malformed")
    assert run["summary"]["error_reasons"]["malformed"] == [
        "ValueError: no SSE event in a text/html answer"
    ]
    assert done.returncode == ExitCode.THRESHOLDS_FAILED, done.stdout
    assert peak < PEAK_RSS_MB


def test_a_body_past_max_body_bytes_is_too_large_and_one_at_the_limit_is_read(tmp_path: Path):
    config = RunConfig.model_validate(
        {"target": {"max_body_bytes": 1024}, "requests": [{"stream": False}]}
    )
    opening = b'{"choices": [], "pad": "'
    at_limit = opening + b"p" * (1024 - len(opening) - 2) + b'"}'
    assert len(at_limit) == 1024
    rec = Recorder()
    with Hostile(cycle("application/json", [at_limit, at_limit + b" "])) as server:
        prep = OpenAIProtocol().prepare(config.requests[0], config.target, server.url, None)

        async def send_two() -> list[bool]:
            wire = Wire()
            try:
                return [await execute(wire, prep, rec) for _ in range(2)]
            finally:
                wire.close()

        assert asyncio.run(send_two()) == [True, False]
    assert rec.errors == {"too_large": 1}
    assert rec.reasons["too_large"] == ["BodyTooLarge: body of 1025 bytes over the limit of 1024"]


async def not_http(reader: Any, writer: asyncio.StreamWriter, request: bytes) -> bool:
    writer.write(b"garbage\r\n\r\n")
    await writer.drain()
    return False


def test_an_answer_that_is_not_http_is_malformed():
    config = RunConfig.model_validate({"requests": [{"stream": False}]})
    rec = Recorder()
    with Hostile(not_http) as server:
        prep = OpenAIProtocol().prepare(config.requests[0], config.target, server.url, None)

        async def send() -> bool:
            wire = Wire()
            try:
                return await execute(wire, prep, rec)
            finally:
                wire.close()

        assert asyncio.run(send()) is False
    assert rec.errors == {"malformed": 1}
    assert rec.reasons["malformed"] == ["NotHTTP: not an HTTP/1.x answer: b'garbage'"]


ENDLESS = {
    "body": (False, endless("application/json", b'{"choices":[', PIECE)),
    "sse line": (True, endless("text/event-stream", b"data: ", PIECE)),
    "sse data without blank lines": (True, endless("text/event-stream", b"", NO_BLANK_LINES)),
}


@pytest.mark.integration
@pytest.mark.parametrize("case", ENDLESS)
def test_endless_answers_are_too_large_and_memory_stays_bounded(case: str, tmp_path: Path):
    stream, behaviour = ENDLESS[case]
    with Hostile(behaviour) as server:
        done, run, peak = run_against(server, tmp_path, stream=stream)
    assert_truthful(server, done, run, "too_large")
    assert done.returncode == ExitCode.THRESHOLDS_FAILED, done.stdout
    assert 0 < peak < PEAK_RSS_MB
    reasons = run["summary"]["error_reasons"]["too_large"]
    assert reasons and all("over" in r for r in reasons), reasons


@pytest.mark.integration
def test_huge_response_headers_are_too_large(tmp_path: Path):
    with Hostile(huge_headers()) as server:
        done, run, peak = run_against(server, tmp_path, stream=False)
    assert server.seen >= 2, "both kinds of huge headers were served"
    assert_truthful(server, done, run, "too_large")
    assert done.returncode == ExitCode.THRESHOLDS_FAILED, done.stdout
    assert peak < PEAK_RSS_MB
    assert "too_large:" in done.stdout  # the reason is printed under the errors line


@pytest.mark.integration
def test_a_target_that_never_answers_times_out_and_is_counted(tmp_path: Path):
    # no thresholds: the run did complete and had nothing to fail, so exit 0 is the truth;
    # the summary carries the timeouts
    with Hostile(never) as server:
        done, run, _ = run_against(
            server, tmp_path, stream=True, extra="timeout = '0.4s'\n", thresholds=False
        )
    assert_truthful(server, done, run, "timeout")
    assert done.returncode == ExitCode.OK, done.stdout
    reasons = run["summary"]["error_reasons"]["timeout"]
    assert reasons and all("Timeout" in r for r in reasons), reasons


def batch_api(variants: list[tuple[bytes, bytes]]) -> Behaviour:
    """A Batch API whose upload and verify steps are right and whose jobs, in turn, complete
    with each ``(batch object, output file)`` of ``variants``."""
    uploaded = jobs = 0

    async def behave(reader: Any, writer: asyncio.StreamWriter, request: bytes) -> bool:
        nonlocal uploaded, jobs
        line = request.split(b"\r\n", 1)[0]
        if line.startswith(b"POST /v1/files "):
            part = request.split(b'filename="requests.jsonl"', 1)[1].split(b"\r\n\r\n", 1)[1]
            uploaded = len(part.split(b"\r\n--", 1)[0])
            body = b'{"id": "file-in"}'
        elif line.startswith(b"GET /v1/files/file-in "):
            body = json.dumps({"id": "file-in", "bytes": uploaded, "purpose": "batch"}).encode()
        elif line.startswith(b"POST /v1/batches "):
            jobs += 1
            body = variants[jobs % len(variants)][0]
        else:  # the output file
            body = variants[jobs % len(variants)][1]
        return await answer("application/json", body)(reader, writer, request)

    return behave


BATCH_STEPS = ("batch upload", "batch verify", "batch create", "batch poll", "batch download")


@pytest.mark.integration
def test_batch_answers_of_the_wrong_shape_are_malformed_and_the_user_goes_on(tmp_path: Path):
    done_batch = b'{"id": "b1", "status": "completed", "output_file_id": "file-out", '
    variants = [
        (done_batch + b'"request_counts": {"total": 3, "completed": 3, "failed": 0}}', b"[1]\n"),
        (done_batch + b'"request_counts": 5}', b'{"custom_id": "request-1", "response": 7}\n'),
    ]
    with Hostile(batch_api(variants)) as server:
        done, run, peak = run_against(
            server, tmp_path, stream=False, kind="batch", extra="", thresholds=True
        )
    s = run["summary"]
    assert "Traceback" not in done.stderr, done.stderr
    assert run["status"] == "completed"
    assert s["requests"] >= 2 and s["ok"] == 0, s  # both variants were served
    assert s["errors"] == {"malformed": s["requests"]}, s
    steps = sum(s["by_label"].get(label, {}).get("requests", 0) for label in BATCH_STEPS)
    assert server.seen <= steps + s["cancelled"] <= server.seen + 1, (server.seen, s)
    assert done.returncode == ExitCode.THRESHOLDS_FAILED, done.stdout
    assert peak < PEAK_RSS_MB


LOADTUI = (sys.executable, "-m", "loadtui")


@pytest.mark.integration
def test_a_burst_pre_flight_reads_an_endless_body_only_to_its_limit(tmp_path: Path):
    """The pre-flight runs in the process the user started: an endless answer must be cut at
    the body limit (exit 3, one line), not buffered until memory runs out."""
    preset = tmp_path / "burst.toml"
    preset.write_text(
        '[load]\nmode = "burst"\nburst_requests = 2\n\n[target]\nmax_body_bytes = 4194304\n\n'
        "[[requests]]\nkind = 'chat'\nstream = false\n"
    )
    with Hostile(endless("application/json", b"{", PIECE)) as server:
        proc = subprocess.Popen(
            [*LOADTUI, "--headless", "--preset", str(preset), "--url", server.url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "LOADTUI_DATA_DIR": str(tmp_path / "data")},
        )
        watch = RssWatch(proc.pid)
        try:
            stdout, stderr = proc.communicate(timeout=60)
        finally:
            peak = watch.stop()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert proc.returncode == ExitCode.NOT_STARTED, stdout + stderr
    assert "pre-flight" in stderr and "over 4,194,304 bytes" in stderr, stderr
    assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr
    assert peak < PEAK_RSS_MB, f"{peak} MB"


def test_minting_a_key_reads_an_endless_admin_answer_only_to_its_cap(monkeypatch):
    from loadtui.errors import StartError
    from loadtui.run.target import mint_key

    monkeypatch.setenv("LOADTUI_ADMIN_PASSWORD", "pw")
    config = RunConfig(batch={"admin_url": "{base}/admin/keys"}, requests=[{"kind": "batch"}])
    with Hostile(endless("application/json", b'{"key": "', PIECE)) as server:
        with pytest.raises(StartError, match="too large"):
            mint_key(config, server.url)
        assert server.seen == 1
