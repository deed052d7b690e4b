"""The mock's HTTP/1.1 server on ``asyncio.Protocol``: one ``Connection`` per client, requests
answered in the order they came (pipelined or not), and ``serve`` to run an app on a socket.

What it holds to, as aiohttp.web did for the mock: keep-alive (HTTP/1.1 by default, HTTP/1.0
when asked), ``Expect: 100-continue``, 404/405/500 from the app, 400/413/431 (then a close)
for a request it cannot read; bounded buffers (``MAX_HEAD``, the app's ``client_max_size``, at
most ``MAX_QUEUED`` requests read ahead — reading pauses beyond); a response's writes wait
while the client reads slowly; a client that leaves cancels its request's handler, quietly.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import time
from collections import deque
from collections.abc import Callable
from typing import cast

from loadtui.mock.framing import END, Head, HTTPError, RequestParser
from loadtui.mock.web import Application, Request, Response

__all__ = ["MAX_HEAD", "MAX_QUEUED", "Connection", "serve"]

MAX_HEAD = 64 * 1024
"""The longest request line and headers (bytes); longer gets a 431."""
MAX_QUEUED = 16
"""Requests read ahead of the one being answered before the connection stops reading."""

_log = logging.getLogger("loadtui.mock")
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


class _Clock:
    """The Date header, formatted once a second."""

    def __init__(self) -> None:
        self.second = 0
        self.text = ""

    def date(self) -> str:
        now = int(time.time())
        if now != self.second:
            self.second = now
            self.text = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(now))
        return self.text


class Connection(asyncio.Protocol):
    """One client's connection: it parses as bytes come, and one task at a time answers the
    requests queued, in order."""

    def __init__(self, app: Application, live: set[Connection], clock: _Clock) -> None:
        self.app = app
        self.live = live
        self.date = clock.date
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.parser = RequestParser(MAX_HEAD, app.client_max_size)
        self.queue: deque[Request | HTTPError] = deque()
        self.receiving: Request | None = None
        """The request whose body is arriving."""
        self.task: asyncio.Task[None] | None = None
        self._drained: asyncio.Future[None] | None = None
        self._write_paused = False
        self._read_paused = False

    # -- asyncio.Protocol -----------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's: not a subclass
        self.live.add(self)

    def data_received(self, data: bytes) -> None:
        for event in self.parser.feed(data):
            if type(event) is bytes:
                receiving = self.receiving
                assert receiving is not None
                if event is END or not event:
                    receiving._ended()
                    self.receiving = None
                else:
                    receiving._received(event)
            elif isinstance(event, Head):
                self.receiving = Request(self, event, self.app)
                self.queue.append(self.receiving)
            else:
                assert isinstance(event, HTTPError)
                if self.receiving is not None:  # its body was bad: its read() raises, and
                    self.receiving._ended(event)  # the connection closes once it is answered
                    self.receiving = None
                else:
                    self.queue.append(event)
        if self.queue and self.task is None:
            self.task = self.loop.create_task(self._answer_queued())
        if len(self.queue) > MAX_QUEUED and not self._read_paused and self.transport:
            self._read_paused = True
            self.transport.pause_reading()

    def eof_received(self) -> bool:
        return False  # the client ended its side: close ours (after what is being written)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self.live.discard(self)
        if self.receiving is not None:
            self.receiving._ended(HTTPError(400, "Connection Lost"))
            self.receiving = None
        self._wake(ConnectionResetError("the client has gone"))
        if self.task is not None:
            self.task.cancel()  # as aiohttp does: the handler of a client that left ends

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        self._wake(None)

    # -- what responses call ----------------------------------------------------------------
    def send(self, data: bytes) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            raise ConnectionResetError("Cannot write to closing transport")
        transport.write(data)

    async def drain(self) -> None:
        """Wait while the client's socket buffer is above the high-water mark."""
        if self.transport is None:
            raise ConnectionResetError("Cannot write to closing transport")
        if self._write_paused:
            if self._drained is None:
                self._drained = self.loop.create_future()
            await self._drained

    def _wake(self, error: Exception | None) -> None:
        drained, self._drained = self._drained, None
        if drained is not None and not drained.done():
            if error is None:
                drained.set_result(None)
            else:
                drained.set_exception(error)
                drained.exception()  # retrieved: nobody may be waiting any more

    # -- answering ------------------------------------------------------------------------
    async def _answer_queued(self) -> None:
        try:
            while self.queue and self.transport is not None:
                item = self.queue.popleft()
                if self._read_paused and len(self.queue) <= MAX_QUEUED // 2 and self.transport:
                    self._read_paused = False
                    self.transport.resume_reading()
                keep = await self._answer(item)
                if not keep:
                    self.close()
                    return
        except (asyncio.CancelledError, ConnectionError):
            self.close()  # the client left, or the server stops: nothing to answer
        finally:
            self.task = None

    async def _answer(self, item: Request | HTTPError) -> bool:
        """Answer one request; True if the connection can serve the next."""
        if isinstance(item, HTTPError):
            await self._refuse(item)
            return False
        request = item
        if request.expect_continue and not request.complete:
            self.send(_CONTINUE)
        try:
            response = await self.app.handle(request)
            if not response.prepared:
                await response.prepare(request)
            if not response.eof:
                await response.write_eof()
        except HTTPError as exc:
            if request._conn.transport is None:
                return False
            return await self._refuse(exc) if not _prepared(request) else False
        except (asyncio.CancelledError, ConnectionError):
            raise
        except Exception:
            if self.transport is None or self.transport.is_closing():
                return False  # a write after the client left (or a handler's abort)
            _log.exception("the mock's handler of %s %s failed", request.method, request.path)
            if _prepared(request):
                return False  # mid-answer: a close is all that can be said
            await Response(status=500, text="500 Internal Server Error").prepare(request)
            return request.keep_alive and request.complete and request.failed is None
        if not (request.keep_alive and response.keep_alive):
            return False
        await request.arrived()  # a body the handler did not read: the next request follows it
        return request.failed is None

    async def _refuse(self, error: HTTPError) -> bool:
        text = f"{error.status}: {error.reason}"
        response = Response(status=error.status, reason=error.reason, text=text)
        response.headers["Connection"] = "close"
        refused = Request(self, Head("GET", "/", (1, 1)), self.app)
        refused.keep_alive = False
        await response.prepare(refused)
        return False

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()  # what is buffered is still sent


def _prepared(request: Request) -> bool:
    """True once a response head went out for ``request`` (or its client has gone)."""
    return request.responded or request._conn.transport is None


async def serve(
    app: Application,
    sock: socket.socket,
    stop: asyncio.Event,
    ssl_context: ssl.SSLContext | None = None,
    on_ready: Callable[[int], None] | None = None,
    shutdown_timeout: float = 0.5,
) -> None:
    """Serve ``app`` on ``sock`` (bound) until ``stop`` is set; then stop accepting, give open
    requests ``shutdown_timeout`` seconds, cancel what is left and close every connection."""
    app.freeze()
    loop = asyncio.get_running_loop()
    live: set[Connection] = set()
    clock = _Clock()
    server = await loop.create_server(
        lambda: Connection(app, live, clock), sock=sock, backlog=1024, ssl=ssl_context
    )
    if on_ready is not None:
        on_ready(sock.getsockname()[1])
    try:
        await stop.wait()
    finally:
        server.close()
        await _shut(live, shutdown_timeout)


async def _shut(live: set[Connection], timeout: float) -> None:
    """Close idle connections now, busy ones once their requests end (or are cancelled)."""
    busy = {conn.task for conn in live if conn.task is not None}
    for conn in [conn for conn in live if conn.task is None]:
        conn.close()
    if busy:
        _, pending = await asyncio.wait(busy, timeout=timeout)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=timeout)
    for conn in list(live):
        if conn.transport is not None:
            conn.transport.abort()
