"""The mock's own HTTP/1.1 server (``mock/web.py``, ``mock/connection.py``, ``mock/framing.py``)
over real loopback sockets: framing, pipelining, errors, bounds, flow control, a client that
leaves, shutdown. Raw sockets on the client side, so every byte sent is the test's own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import AsyncIterator

import pytest

from loadtui.mock import web
from loadtui.mock.connection import MAX_HEAD
from loadtui.mock.framing import Head, RequestParser
from loadtui.mock.servers import SHUTDOWN_TIMEOUT, serve_app

Reader = asyncio.StreamReader
Writer = asyncio.StreamWriter


class Probe:
    """What the test app's handlers saw."""

    def __init__(self) -> None:
        self.written = 0
        self.cancelled = asyncio.Event()
        self.finished = asyncio.Event()


def _streaming(probe: Probe) -> list[tuple[str, str, web.Handler]]:
    """Handlers that write for long, or wait for ever, telling ``probe`` how they end."""

    async def stream(request: web.Request) -> web.StreamResponse:
        pieces = int(request.query.get("n", "1000000"))
        size = int(request.query.get("size", "10"))
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        try:
            for _ in range(pieces):
                await resp.write(b"x" * size)
                probe.written += 1
                if size < 1000:
                    await asyncio.sleep(0.001)
            await resp.write_eof()
            probe.finished.set()
        except asyncio.CancelledError:
            probe.cancelled.set()
            raise
        return resp

    async def stall(request: web.Request) -> web.StreamResponse:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            probe.cancelled.set()
            raise
        return web.Response()

    return [("GET", "/stream", stream), ("GET", "/stall", stall)]


def _app(probe: Probe) -> web.Application:
    async def echo(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        headers = {"X-Method": request.method, "X-Query": request.query.get("q", "")}
        return web.Response(body=body, headers=headers)

    async def item(request: web.Request) -> web.StreamResponse:
        return web.json_response({"id": request.match_info["id"], "path": request.path})

    async def slow(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(0.05)
        return web.Response(text="slow")

    async def boom(request: web.Request) -> web.StreamResponse:
        raise RuntimeError("a handler's bug")

    async def upload(request: web.Request) -> web.StreamResponse:
        try:
            form = await request.post()
        except ValueError:
            return web.Response(status=400, text="bad form")
        file = form["file"]
        assert isinstance(file, web.FileField)
        return web.json_response(
            {"purpose": form["purpose"], "name": file.filename, "data": file.file.read().decode()}
        )

    @web.middleware
    async def tag(request: web.Request, handler: web.Handler) -> web.StreamResponse:
        response = await handler(request)
        response.headers["X-Outer"] = "1"
        return response

    app = web.Application(middlewares=[tag], client_max_size=4096)
    for method, path, handler in [
        ("POST", "/echo", echo),
        ("GET", "/echo", echo),
        ("GET", "/items/{id}", item),
        ("POST", "/items/{id}", item),
        ("GET", "/slow", slow),
        ("GET", "/boom", boom),
        ("POST", "/upload", upload),
        *_streaming(probe),
    ]:
        app.router.add_route(method, path, handler)

    async def signed(request: web.Request, response: web.StreamResponse) -> None:
        response.headers["X-Signal"] = "yes"

    app.on_response_prepare.append(signed)
    return app


@contextlib.asynccontextmanager
async def serving(probe: Probe | None = None) -> AsyncIterator[int]:
    stop = asyncio.Event()
    ports: list[int] = []
    task = asyncio.ensure_future(
        serve_app(_app(probe or Probe()), on_ready=ports.append, stop=stop)
    )
    while not ports:
        await asyncio.sleep(0.005)
    try:
        yield ports[0]
    finally:
        stop.set()
        await task


async def connect(port: int, rcvbuf: int | None = None) -> tuple[Reader, Writer]:
    if rcvbuf is None:
        return await asyncio.open_connection("127.0.0.1", port)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    return await asyncio.open_connection(sock=sock, limit=2**20)


async def read_response(reader: Reader) -> tuple[int, dict[str, str], bytes]:
    """One response: status, headers (lower-cased names), the body (de-chunked)."""
    status_line = await asyncio.wait_for(reader.readline(), 5)
    assert status_line.startswith(b"HTTP/1."), status_line
    status = int(status_line.split()[1])
    headers: dict[str, str] = {}
    while (line := await reader.readline()) != b"\r\n":
        name, _, value = line.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        return status, headers, await reader.readexactly(int(headers["content-length"]))
    if headers.get("transfer-encoding") == "chunked":
        body = b""
        while size := int((await reader.readline()).strip(), 16):
            body += await reader.readexactly(size)
            assert await reader.readexactly(2) == b"\r\n"
        assert await reader.readexactly(2) == b"\r\n"
        return status, headers, body
    return status, headers, await reader.read()  # HTTP/1.0: until the server closes


async def closed(reader: Reader) -> bool:
    """True when the server closed the connection (nothing more to read)."""
    return await asyncio.wait_for(reader.read(), 5) == b""


def run(coro: object) -> None:
    asyncio.run(coro)  # type: ignore[arg-type]


POST = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
CHUNKED = (
    b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"3;ext=1\r\nhel\r\n2\r\nlo\r\n0\r\nX-Trailer: t\r\n\r\n"
)


def test_content_length_and_chunked_bodies_and_the_app_surface() -> None:
    async def scenario() -> None:
        async with serving() as port:
            reader, writer = await connect(port)
            writer.write(POST + CHUNKED)
            for _ in range(2):
                status, headers, body = await read_response(reader)
                assert (status, body) == (200, b"hello")
                assert headers["x-outer"] == "1" and headers["x-signal"] == "yes"
                assert headers["content-length"] == "5" and "date" in headers
            writer.write(b"GET /items/a%20b?q=1 HTTP/1.1\r\nHost: x\r\n\r\n")
            status, _, body = await read_response(reader)
            assert (status, body) == (200, b'{"id": "a b", "path": "/items/a b"}')
            writer.write(b"GET /echo?q=v HTTP/1.1\r\nHost: x\r\n\r\n")
            _, headers, _ = await read_response(reader)
            assert headers["x-query"] == "v" and headers["x-method"] == "GET"
            writer.close()

    run(scenario())


@pytest.mark.parametrize("raw", [POST, CHUNKED], ids=["content-length", "chunked"])
def test_a_request_split_at_every_byte_is_read_whole(raw: bytes) -> None:
    async def scenario() -> None:
        async with serving() as port:
            reader, writer = await connect(port)
            for cut in range(1, len(raw)):
                writer.write(raw[:cut])
                await writer.drain()
                await asyncio.sleep(0)
                writer.write(raw[cut:])
                status, _, body = await read_response(reader)
                assert (status, body) == (200, b"hello"), cut
            writer.close()

    run(scenario())


def test_a_request_byte_by_byte() -> None:
    async def scenario() -> None:
        async with serving() as port:
            reader, writer = await connect(port)
            for byte in CHUNKED:
                writer.write(bytes([byte]))
                await writer.drain()
            status, _, body = await read_response(reader)
            assert (status, body) == (200, b"hello")
            writer.close()

    run(scenario())


def test_pipelined_requests_are_answered_in_order() -> None:
    async def scenario() -> None:
        async with serving() as port:
            reader, writer = await connect(port)
            slow = b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"
            writer.write(slow + POST + b"GET /items/7 HTTP/1.1\r\n\r\n" + CHUNKED)
            bodies = [(await read_response(reader))[2] for _ in range(4)]
            assert bodies == [b"slow", b"hello", b'{"id": "7", "path": "/items/7"}', b"hello"]
            writer.close()

    run(scenario())


def test_expect_100_continue() -> None:
    async def scenario() -> None:
        async with serving() as port:
            reader, writer = await connect(port)
            writer.write(
                b"POST /echo HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"
            )
            assert await reader.readuntil(b"\r\n\r\n") == b"HTTP/1.1 100 Continue\r\n\r\n"
            writer.write(b"hello")
            status, _, body = await read_response(reader)
            assert (status, body) == (200, b"hello")
            writer.close()

    run(scenario())


def test_404_405_and_500_keep_the_connection(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        async with serving() as port:
            reader, writer = await connect(port)
            writer.write(b"GET /nowhere HTTP/1.1\r\n\r\n")
            assert (await read_response(reader))[0] == 404
            writer.write(b"DELETE /items/1 HTTP/1.1\r\n\r\n")
            status, headers, _ = await read_response(reader)
            assert (status, headers["allow"]) == (405, "GET,POST")
            writer.write(b"GET /boom HTTP/1.1\r\n\r\n")
            assert (await read_response(reader))[0] == 500
            writer.write(POST)
            assert (await read_response(reader))[2] == b"hello"  # the connection still works
            writer.close()

    with caplog.at_level(logging.ERROR, logger="loadtui.mock"):
        run(scenario())
    assert "a handler's bug" in caplog.text  # logged once, as aiohttp did


@pytest.mark.parametrize(
    "raw",
    [
        b"GARBAGE\r\n\r\n",
        b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
        b"GET / HTTP/1.1\r\nX: a\r\n folded\r\n\r\n",
        b"POST /echo HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"POST /echo HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
        b"POST /echo HTTP/1.1\r\nContent-Length: -3\r\n\r\n",
        b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY",
        b"GET /health HTTP/1.1\nHost: x\n\n",  # lines ended by a bare LF: answered, not held
    ],
)
def test_a_malformed_request_gets_400_and_a_close(raw: bytes) -> None:
    async def scenario() -> None:
        async with serving() as port:
            reader, writer = await connect(port)
            writer.write(raw)
            status, headers, _ = await read_response(reader)
            assert status == 400 and headers["connection"] == "close"
            assert await closed(reader)
            writer.close()

    run(scenario())


def test_a_bad_body_the_handler_never_read_ends_the_connection_after_its_answer() -> None:
    async def scenario() -> None:
        async with serving() as port:
            reader, writer = await connect(port)
            writer.write(b"POST /items/1 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
            writer.write(b"GET /items/2 HTTP/1.1\r\n\r\n")
            status, _, body = await read_response(reader)
            assert (status, body) == (200, b'{"id": "1", "path": "/items/1"}')
            assert await closed(reader)  # one answer, then a close: nothing after a bad body
            writer.close()

    run(scenario())


def test_heads_and_bodies_are_bounded() -> None:
    async def scenario() -> None:
        async with serving() as port:
            reader, writer = await connect(port)  # a head that never ends
            writer.write(b"GET / HTTP/1.1\r\nX: " + b"a" * (MAX_HEAD + 10))
            assert (await read_response(reader))[0] == 431
            assert await closed(reader)
            writer.close()
            reader, writer = await connect(port)  # a length over client_max_size: no body read
            writer.write(b"POST /echo HTTP/1.1\r\nContent-Length: 4097\r\n\r\n")
            assert (await read_response(reader))[0] == 413
            assert await closed(reader)
            writer.close()
            reader, writer = await connect(port)  # chunks adding up to more
            writer.write(b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
            writer.write(b"800\r\n" + b"a" * 0x800 + b"\r\n" + b"801\r\n")
            assert (await read_response(reader))[0] == 413
            assert await closed(reader)
            writer.close()

    run(scenario())


def test_keep_alive_connection_close_and_http_1_0() -> None:
    async def scenario() -> None:
        async with serving() as port:
            reader, writer = await connect(port)
            writer.write(b"GET /slow HTTP/1.1\r\nConnection: close\r\n\r\n")
            status, headers, _ = await read_response(reader)
            assert (status, headers["connection"]) == (200, "close")
            assert await closed(reader)
            writer.close()
            reader, writer = await connect(port)  # 1.0: one request, then a close
            writer.write(b"GET /slow HTTP/1.0\r\n\r\n")
            status, headers, body = await read_response(reader)
            assert (status, body, headers["connection"]) == (200, b"slow", "close")
            assert await closed(reader)
            writer.close()
            reader, writer = await connect(port)  # 1.0 keep-alive, then a stream: no chunks
            writer.write(b"GET /slow HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            status, headers, _ = await read_response(reader)
            assert headers["connection"] == "keep-alive"
            writer.write(b"GET /stream?n=3 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            status, headers, body = await read_response(reader)
            assert "transfer-encoding" not in headers and body == b"x" * 30
            writer.close()

    run(scenario())


def test_a_slow_reader_holds_the_writer_back() -> None:
    async def scenario() -> None:
        probe = Probe()
        async with serving(probe) as port:
            reader, writer = await connect(port, rcvbuf=16384)
            writer.write(b"GET /stream?n=400&size=65536 HTTP/1.1\r\n\r\n")
            await asyncio.sleep(0.5)
            held = probe.written
            assert held < 200  # 26 MB asked for: the writes wait for the reader
            await asyncio.sleep(0.2)
            assert probe.written == held  # and stay waiting while it reads nothing
            _, _, body = await read_response(reader)
            assert len(body) == 400 * 65536 and probe.finished.is_set()
            writer.close()

    run(scenario())


def test_a_client_that_leaves_mid_stream_cancels_its_handler_quietly(
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    async def scenario() -> None:
        probe = Probe()
        async with serving(probe) as port:
            for path in (b"/stream", b"/stall"):
                probe.cancelled.clear()
                reader, writer = await connect(port)
                writer.write(b"GET " + path + b" HTTP/1.1\r\n\r\n")
                if path == b"/stream":
                    await reader.readuntil(b"xxxxxxxxxx")
                else:
                    await asyncio.sleep(0.05)
                writer.transport.abort()
                await asyncio.wait_for(probe.cancelled.wait(), 2)

    with caplog.at_level(logging.DEBUG):
        run(scenario())
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert "Traceback" not in capfd.readouterr().err


def test_stop_cancels_open_requests_after_the_shutdown_timeout() -> None:
    async def scenario() -> float:
        probe = Probe()
        async with serving(probe) as port:
            reader, writer = await connect(port)
            writer.write(b"GET /stall HTTP/1.1\r\n\r\n")
            await asyncio.sleep(0.05)
            began = time.perf_counter()
        took = time.perf_counter() - began
        assert probe.cancelled.is_set() and await closed(reader)
        return took

    took = asyncio.run(scenario())
    assert SHUTDOWN_TIMEOUT - 0.05 <= took < 2 * SHUTDOWN_TIMEOUT + 0.5


def _multipart(boundary: str, file_data: bytes, closed: bool = True) -> bytes:
    b = boundary.encode()
    body = (
        b"--" + b + b'\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n'
        b"--" + b + b'\r\nContent-Disposition: form-data; name="file"; filename="in.jsonl"\r\n'
        b"Content-Type: application/jsonl\r\n\r\n" + file_data + b"\r\n--" + b
    )
    return body + (b"--\r\n" if closed else b"")


def test_a_form_in_a_charset_python_does_not_know_is_the_clients_mistake() -> None:
    async def scenario() -> None:
        async with serving() as port:
            reader, writer = await connect(port)
            body = _multipart("bNd", b"{}\n").replace(
                b'name="purpose"\r\n',
                b'name="purpose"\r\nContent-Type: text/plain; charset=bogus\r\n',
            )
            writer.write(
                b"POST /upload HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=bNd\r\n"
                b"Content-Length: %d\r\n\r\n%b" % (len(body), body)
            )
            status, _, answer = await read_response(reader)
            assert (status, answer) == (400, b"bad form")  # not a 500 and a logged traceback
            writer.close()

    run(scenario())


@pytest.mark.parametrize("closed_form", [True, False], ids=["whole", "no-close-delimiter"])
def test_a_multipart_upload(closed_form: bool) -> None:
    async def scenario() -> None:
        async with serving() as port:
            reader, writer = await connect(port)
            body = _multipart("bNd", b'{"a": 1}\r\n{"b": 2}\n', closed_form)
            writer.write(
                b"POST /upload HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=bNd\r\n"
                b"Content-Length: %d\r\n\r\n%b" % (len(body), body)
            )
            status, _, answer = await read_response(reader)
            if closed_form:
                expected = b'{"purpose": "batch", "name": "in.jsonl", "data": "{\\"a\\": 1}'
                assert status == 200 and answer.startswith(expected)
            else:
                assert (status, answer) == (400, b"bad form")
            writer.close()

    run(scenario())


def test_known_header_names_are_spelled_as_aiohttp_gave_them() -> None:
    """``GET /mock/received`` shows what came: a known name canonically, whatever its case on
    the wire (as aiohttp.web did), any other as sent."""

    raw = (
        b"GET / HTTP/1.1\r\nauthorization: Bearer t\r\nx-tenant: blue\r\nCONTENT-type: a/b\r\n\r\n"
    )
    head = RequestParser(MAX_HEAD, 10).feed(raw)[0]
    assert isinstance(head, Head)
    assert list(head.headers) == ["Authorization", "x-tenant", "Content-Type"]
