"""loadtui's HTTP/1.1 client (``engine/wire.py``) against scripted servers on 127.0.0.1.

Each test runs a raw asyncio server that answers with exact bytes — written whole, or split at
every position, one piece per read — and checks what the client makes of them: the body by
length, chunked (sizes, extensions, trailers) or until close, interim 1xx answers skipped,
keep-alive reuse and its limits, each fault as its exception (and so its error class), and the
arrival times a streamed body keeps.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from time import perf_counter

import pytest

from loadtui.engine.client import exception_class
from loadtui.engine.protocols import OpenAIProtocol, Prepared
from loadtui.engine.wire import (
    HEAD_MAX,
    BodyTooLarge,
    ConnectFailed,
    Disconnected,
    HeadTooLarge,
    NotHTTP,
    Wire,
)
from loadtui.model.outcomes import ErrorClass
from loadtui.model.plan import RunConfig

CHAT = RunConfig.model_validate({"requests": [{"stream": False}]})

Answer = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[bool]]
"""Answers one request whose head was read; True keeps the connection open."""


class Scripted:
    """A loopback server answering each request with ``answer``; counts connections and keeps
    each request's head."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.connections = 0
        self.heads: list[bytes] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                self.heads.append(head)
                for line in head.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.lower() == b"content-length":
                        await reader.readexactly(int(value))
                if not await self.answer(reader, writer):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@asynccontextmanager
async def serving(answer: Answer) -> AsyncIterator[tuple[Scripted, str]]:
    scripted = Scripted(answer)
    server = await asyncio.start_server(scripted.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield scripted, f"http://127.0.0.1:{port}/v1/chat/completions"
    finally:
        server.close()


def pieces(*parts: bytes, pause: float = 0.0) -> Answer:
    """Write each part as its own read (drained, then a short pause)."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        for part in parts:
            writer.write(part)
            await writer.drain()
            await asyncio.sleep(pause)
        return True

    return answer


def post(url: str, body: bytes = b"{}") -> Prepared:
    return Prepared("POST", url, {"Content-Type": "application/json"}, body)


async def whole(wire: Wire, prep: Prepared, limit: int = 1 << 20) -> tuple[int, bytes]:
    conn = await wire.exchange(prep)
    try:
        return conn.status, await conn.body(limit)
    finally:
        wire.release(conn)


CHUNKED = (
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Tag: a\r\n\r\n"
    b"5;ext=1\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nTrailer: t\r\n\r\n"
)
LENGTH = b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world"


@pytest.mark.parametrize(
    ("answer", "body"), [(CHUNKED, b"hello 0123456789"), (LENGTH, b"hello world")]
)
def test_a_body_split_at_every_position_reads_the_same(answer: bytes, body: bytes):
    async def every_split() -> list[bytes]:
        got = []
        for at in range(1, len(answer)):
            async with serving(pieces(answer[:at], answer[at:], pause=0.002)) as (_, url):
                wire = Wire()
                status, data = await whole(wire, post(url))
                assert status == 200
                got.append(data)
                wire.close()
        return got

    assert set(asyncio.run(every_split())) == {body}


def test_keep_alive_reuses_one_connection_and_close_opens_another():
    async def scenario() -> tuple[int, int]:
        async with serving(pieces(LENGTH)) as (kept, url):
            wire = Wire()
            for _ in range(5):
                assert await whole(wire, post(url)) == (200, b"hello world")
            wire.close()
        closing = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"
        async with serving(pieces(closing)) as (closed, url):
            wire = Wire()
            for _ in range(3):
                assert await whole(wire, post(url)) == (200, b"ok")
            wire.close()
        return kept.connections, closed.connections

    assert asyncio.run(scenario()) == (1, 3)


def test_a_body_until_close_an_interim_answer_and_no_content():
    async def scenario() -> list[tuple[int, bytes]]:
        results = []
        until_close = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it"

        async def close_after(reader: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
            w.write(until_close)
            await w.drain()
            return False

        interim = b"HTTP/1.1 100 Continue\r\n\r\n" + LENGTH
        empty = b"HTTP/1.1 204 No Content\r\n\r\n"
        for answer in (close_after, pieces(interim), pieces(empty)):
            async with serving(answer) as (_, url):
                wire = Wire()
                results.append(await whole(wire, post(url)))
                wire.close()
        return results

    assert asyncio.run(scenario()) == [(200, b"all of it"), (200, b"hello world"), (204, b"")]


def test_a_given_host_agent_and_length_header_replace_the_clients_own():
    async def scenario() -> bytes:
        async with serving(pieces(LENGTH)) as (server, url):
            given = {"Host": "gateway.example", "User-Agent": "me", "Content-Length": "999"}
            async with Wire() as wire:
                await whole(wire, Prepared("POST", url, given, b"{}"))
        return server.heads[0]

    head = asyncio.run(scenario())
    assert head.count(b"\r\nHost: ") == 1 and b"\r\nHost: gateway.example\r\n" in head
    assert head.count(b"User-Agent") == 1 and b"\r\nUser-Agent: me\r\n" in head
    assert head.count(b"Content-Length") == 1 and b"\r\nContent-Length: 2\r\n" in head


def test_lenient_heads_are_read_as_their_answers():
    # many interim answers, a 204 that claims a chunked body, a head with bare LF line ends
    async def scenario() -> list[tuple[int, bytes]]:
        results = []
        answers = [
            b"HTTP/1.1 100 Continue\r\n\r\n" * 4000 + LENGTH,
            b"HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"HTTP/1.1 200 OK\nContent-Length: 2\n\nhi",
        ]
        for answer in answers:
            async with serving(pieces(answer)) as (_, url), Wire(timeout=30) as wire:
                results.append(await whole(wire, post(url)))
        return results

    assert asyncio.run(scenario()) == [(200, b"hello world"), (204, b""), (200, b"hi")]


def test_one_time_requests_share_a_cached_head_and_leave_their_bodies():
    # a conversation's turns and a trace's lines are new requests with new bodies each time
    async def scenario() -> tuple[int, list[bytes]]:
        async with serving(pieces(LENGTH)) as (server, url), Wire() as wire:
            headers = {"Content-Type": "application/json"}
            for i in range(50):
                await whole(wire, Prepared("POST", url, headers, b"x" * (100_000 + i)))
            return len(wire._routes), server.heads

    routes, heads = asyncio.run(scenario())
    assert routes == 1
    assert [b"Content-Length: %d\r\n" % (100_000 + i) in h for i, h in enumerate(heads)] == [
        True
    ] * 50


def test_the_request_carries_host_agent_length_and_url_credentials():
    async def scenario() -> bytes:
        async with serving(pieces(LENGTH)) as (server, url):
            wire = Wire()
            with_user = url.replace("http://", "http://ann:p%40ss@")
            await whole(wire, post(with_user + "?q=a b&r=é", b'{"a": 1}'))
            wire.close()
        return server.heads[0]

    head = asyncio.run(scenario())
    assert head.startswith(
        b"POST /v1/chat/completions?q=a%20b&r=%C3%A9 HTTP/1.1\r\nHost: 127.0.0.1:"
    )
    assert b"\r\nContent-Length: 8\r\n" in head
    assert b"\r\nUser-Agent: loadtui/" in head
    assert b"\r\nAuthorization: Basic YW5uOnBAc3M=\r\n" in head  # ann:p@ss
    assert b"ann" not in head.split(b"\r\n", 2)[1]  # never in the Host header


FAULTS = {
    "not http": (b"garbage\r\n\r\n", NotHTTP, ErrorClass.MALFORMED),
    "not http, no blank line": (b"-ERR unknown command 'POST'\r\n", NotHTTP, ErrorClass.MALFORMED),
    "empty length": (b"HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", NotHTTP, ErrorClass.MALFORMED),
    "two lengths": (
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nhi",
        NotHTTP,
        ErrorClass.MALFORMED,
    ),
    "absurd length": (
        b"HTTP/1.1 200 OK\r\nContent-Length: " + b"9" * 5000 + b"\r\n\r\n",
        NotHTTP,
        ErrorClass.MALFORMED,
    ),
    "bad chunk size": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        NotHTTP,
        ErrorClass.MALFORMED,
    ),
    "bad length": (b"HTTP/1.1 200 OK\r\nContent-Length: -3\r\n\r\n", NotHTTP, ErrorClass.MALFORMED),
    "cut mid-body": (
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort",
        Disconnected,
        ErrorClass.RESET,
    ),
    "head too large": (
        b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * (HEAD_MAX + 10) + b"\r\n\r\n",
        HeadTooLarge,
        ErrorClass.TOO_LARGE,
    ),
}


@pytest.mark.parametrize("case", FAULTS)
def test_each_fault_raises_its_exception_and_class(case: str):
    answer, exc_type, error = FAULTS[case]

    async def hold_open(reader: asyncio.StreamReader, w: asyncio.StreamWriter) -> bool:
        w.write(answer)
        await w.drain()
        if case != "cut mid-body":  # the connection stays open: no fault waits for a timeout
            await reader.read(1)
        return False

    async def scenario() -> BaseException:
        async with serving(hold_open) as (_, url):
            wire = Wire(timeout=30)
            with pytest.raises(exc_type) as caught:
                await whole(wire, post(url))
            wire.close()
        return caught.value

    assert exception_class(asyncio.run(scenario())) is error  # type: ignore[arg-type]


def test_a_body_past_its_limit_a_silent_server_and_a_refused_port():
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        await reader.read(1)
        return False

    async def scenario() -> None:
        endless = b"HTTP/1.1 200 OK\r\n\r\n" + b"x" * 5000
        async with serving(pieces(endless)) as (_, url):
            wire = Wire()
            with pytest.raises(BodyTooLarge):
                await whole(wire, post(url), limit=1000)
            wire.close()
        async with serving(silent) as (_, url):
            wire = Wire(timeout=0.2)
            started = perf_counter()
            with pytest.raises(TimeoutError):
                await whole(wire, post(url))
            assert perf_counter() - started >= 0.19
            wire.close()
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()
        wire = Wire()
        with pytest.raises(ConnectFailed) as refused:
            await whole(wire, post(f"http://127.0.0.1:{port}/v1"))
        assert refused.value.refused
        assert exception_class(refused.value) is ErrorClass.CONNECT_REFUSED

    asyncio.run(scenario())


def test_a_streamed_body_keeps_each_reads_arrival_time():
    # the head and a first event arrive together, before the caller asks for the stream; the
    # next events arrive 50 ms apart: each piece comes with the time its read arrived
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    events = [b"data: %d\n\n" % i for i in range(3)]
    frames = [b"%x\r\n%s\r\n" % (len(e), e) for e in events]

    async def scenario() -> tuple[list[tuple[bytes, float]], float, float, float]:
        answer = pieces(head + frames[0], frames[1], frames[2] + b"0\r\n\r\n", pause=0.05)
        async with serving(answer) as (_, url), Wire() as wire:
            conn = await wire.exchange(post(url))
            await asyncio.sleep(0.02)  # the caller is late: the first piece waits, with its time
            called = perf_counter()
            got: list[tuple[bytes, float]] = []
            await conn.stream(lambda piece, at: got.append((piece, at)))
            head_at, end_at = conn.head_at, conn.end_at
            wire.release(conn)
        return got, called, head_at, end_at

    got, called, head_at, end_at = asyncio.run(scenario())
    assert b"".join(piece for piece, _ in got) == b"".join(events)
    times = [at for _, at in got]
    assert times == sorted(times)
    assert times[0] == head_at < called  # read with the head, before the caller asked
    assert times[-1] == end_at
    assert end_at - head_at >= 0.05  # the server's two 50 ms pauses (a starved read: margin)


def test_a_worker_imports_no_aiohttp():
    # the Batch API workflow alone brings aiohttp (engine/batch.py), imported by its first job
    import subprocess
    import sys

    code = "import sys, loadtui.engine.worker; print('aiohttp' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


def test_a_cancelled_request_closes_its_connection():
    async def scenario() -> None:
        hung_up = asyncio.Event()

        async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
            await reader.read(1)  # returns when the client closes
            hung_up.set()
            return False

        async with serving(silent) as (_, url):
            wire = Wire()
            task = asyncio.ensure_future(whole(wire, post(url)))
            await asyncio.sleep(0.05)
            task.cancel()
            await asyncio.wait_for(hung_up.wait(), 10)
            assert not wire._open  # nothing left open, nothing pooled
            wire.close()

    asyncio.run(scenario())


def test_a_redirect_is_not_followed_and_fails_as_other_with_its_reason():
    from loadtui.engine.client import execute
    from loadtui.metrics.stats import Recorder

    moved = b"HTTP/1.1 307 Temporary Redirect\r\nLocation: https://elsewhere.example/v1/x\r\n"
    moved += b"Content-Length: 0\r\n\r\n"

    async def scenario() -> Recorder:
        rec = Recorder()
        async with serving(pieces(moved)) as (server, url), Wire() as wire:
            prep = OpenAIProtocol().prepare(CHAT.requests[0], CHAT.target, url, None)
            assert await execute(wire, prep, rec) is False
            assert len(server.heads) == 1  # nothing followed it
        return rec

    rec = asyncio.run(scenario())
    assert rec.errors == {"other": 1}
    # the reason keeps a URL's scheme and host only (its path may hold a key)
    assert rec.reasons["other"] == [
        "Redirected: HTTP 307, not followed, to https://elsewhere.example/…"
    ]
