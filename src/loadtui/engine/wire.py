"""loadtui's own HTTP/1.1 client: the worker's transport, on ``asyncio.Protocol``.

aiohttp's client was ~70 % of a worker's CPU per non-streamed request (its request object,
header preparation, writer, response parser, timers and ``StreamReader``) and ~40 % per streamed
chunk (a task wake-up and an iterator step per read): docs/performance.md, "Where the worker's
time goes". A load generator needs less than a general client, so this one does exactly that:

- a keep-alive pool of connections per origin (host, port, TLS), unbounded, DNS cached 300 s;
- a request written in one ``write`` from bytes built once per prepared request (credentials in
  the URL become Basic auth, as every HTTP client does);
- the answer parsed in ``data_received``: the status line, the headers that frame the body
  (``Content-Length``, ``Transfer-Encoding: chunked``, ``Connection``), then the body — by
  length, chunked, or until the server closes; the other headers are parsed only when a check
  or an error sample asks for them (``Conn.headers``);
- **timestamps where bytes arrive**: each read is stamped with ``perf_counter()`` as the loop
  hands it over, and a streamed answer's body is given to the caller's sink (``Conn.stream``)
  right there, so a chunk costs no task wake-up and every event completed by a read carries that
  read's time; bytes that arrive before the caller asks keep their own times (``_pending``);
- one timer per request for the run's ``timeout`` (send to last byte) and the connect timeout.

Faults are exceptions the caller classes (``client.exception_class``): ``ConnectFailed``
(refused, or any other failure to connect, TLS included), ``TimeoutError``, ``Disconnected``
(the server closed the connection before the answer ended), ``NotHTTP`` (not an HTTP/1.x answer
or a broken frame), ``HeadTooLarge`` and ``BodyTooLarge`` (the target's size limits). A failed
or abandoned exchange closes its connection; only a connection whose answer ended cleanly goes
back to the pool.

Not done, on purpose: HTTP/2, proxies, redirects (an answer is measured as it is), compression
(no ``Accept-Encoding`` is sent, so servers answer identity), cookies, pipelining. 1xx answers
are skipped. The Batch API workflow (multipart uploads, polling) keeps aiohttp: it is not on the
hot path (``engine/batch.py``).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Callable
from time import monotonic, perf_counter
from urllib.parse import quote, unquote, urlsplit

from multidict import CIMultiDict, CIMultiDictProxy

from loadtui import __version__
from loadtui.engine.protocols import Prepared
from loadtui.engine.spec import basic_token

__all__ = [
    "HEAD_MAX",
    "BodyTooLarge",
    "Conn",
    "ConnectFailed",
    "Disconnected",
    "HeadTooLarge",
    "NotHTTP",
    "Wire",
    "WireError",
]

HEAD_MAX = 64 * 1024
"""Largest answer head (status line and headers) read; real servers send a few hundred bytes."""

_CHUNK_LINE_MAX = 4096
"""Largest chunk-size line (with extensions) of a chunked body."""

_HEX = b"0123456789abcdefABCDEF"
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?"
_HTTP1 = b"HTTP/1."
_LENGTH_DIGITS = 18
"""Longest Content-Length read (an exabyte): longer is not a length a server means."""
_DNS_TTL = 300.0
_ROUTES_MAX = 1024
"""Heads cached (by method, URL and headers): a run has a few; bodies are never cached."""

Sink = Callable[[bytes, float], None]
"""Takes a piece of a streamed body and the ``perf_counter()`` time its read arrived."""


class WireError(Exception):
    """A fault of an answer or its connection; the subclass names its error class."""


class ConnectFailed(WireError):
    """No connection: refused (``refused``), or a DNS, routing or TLS failure."""

    def __init__(self, message: str, refused: bool) -> None:
        super().__init__(message)
        self.refused = refused


class Disconnected(WireError):
    """The server closed (or reset) the connection before its answer ended."""


class NotHTTP(WireError):
    """Not an HTTP/1.x answer, or a body framed against the rules."""


class HeadTooLarge(WireError):
    """An answer's head past ``HEAD_MAX`` bytes."""


class BodyTooLarge(WireError):
    """A response body longer than the request's ``max_body`` bytes."""


class _Route:
    """Where requests of one method, URL and headers go, and their head on the wire (without
    the body's length), built once; no body is kept (a conversation or a trace replay makes a
    new request, with a new body, for every turn or line)."""

    __slots__ = ("head", "headers", "host", "key", "port", "sized", "tls")

    def __init__(self, method: str, url: str, headers: dict[str, str]) -> None:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            # the URL itself is left out: a ``{key}`` URL carries the API key
            raise ValueError(f"unsupported URL scheme {scheme!r}: only http and https")
        if not parts.hostname:
            raise ValueError("URL without a host")
        self.headers = headers  # held: its id is part of the cache's key
        self.tls = scheme == "https"
        self.host = unquote(parts.hostname)  # an IPv6 zone comes %-quoted
        self.port = parts.port or (443 if self.tls else 80)
        self.key = (self.host, self.port, self.tls)
        target = quote(parts.path or "/", safe=_PATH_SAFE)
        if parts.query:
            target += "?" + quote(parts.query, safe=_QUERY_SAFE)
        lines = [f"{method} {target} HTTP/1.1"]
        names = {name.lower() for name in headers}
        if "host" not in names:  # a --header Host: wins (a gateway routing by name)
            lines.append(f"Host: {parts.netloc.rpartition('@')[2]}")  # never the userinfo
        if "user-agent" not in names:
            lines.append(f"User-Agent: loadtui/{__version__}")
        lines += [  # the body's framing is the client's own
            f"{name}: {value}"
            for name, value in headers.items()
            if name.lower() not in ("content-length", "transfer-encoding")
        ]
        if parts.username is not None and "authorization" not in names:
            user, password = unquote(parts.username), unquote(parts.password or "")
            lines.append(f"Authorization: Basic {basic_token(user, password)}")
        self.sized = method in ("POST", "PUT", "PATCH")
        self.head = ("\r\n".join(lines) + "\r\n").encode("utf-8")

    def request(self, body: bytes | None) -> bytes:
        """The request's bytes: the head, the body's length, the body."""
        if body or self.sized:
            return self.head + b"Content-Length: %d\r\n\r\n" % len(body or b"") + (body or b"")
        return self.head + b"\r\n"


class Wire:
    """A worker's connections: one pool per origin. ``exchange`` sends a request and returns
    its connection once the answer's head is in; ``release`` takes it back."""

    def __init__(
        self,
        tls: ssl.SSLContext | bool = True,
        timeout: float | None = None,
        connect_timeout: float | None = None,
    ) -> None:
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self._tls = tls
        self._context: ssl.SSLContext | None = None
        self._idle: dict[tuple[str, int, bool], list[Conn]] = {}
        self._open: set[Conn] = set()
        self._routes: dict[tuple[str, str, int], _Route] = {}
        self._last: tuple[Prepared, bytes, _Route] | None = None
        """The last request's bytes: a run sends the same prepared request again and again."""
        self._dns: dict[tuple[str, int], tuple[float, list[tuple[int, tuple[str, int]]]]] = {}

    async def exchange(self, prep: Prepared) -> Conn:
        """Send ``prep`` (on an idle connection to its origin, or a new one) and wait for the
        head of its answer; the caller then reads the body and must ``release`` the
        connection, whatever happens."""
        last = self._last
        if last is not None and last[0] is prep:
            request, route = last[1], last[2]
        else:
            route = self._route(prep)
            request = route.request(prep.body)
            self._last = (prep, request, route)
        loop = asyncio.get_running_loop()
        deadline = None if self.timeout is None else loop.time() + self.timeout
        idle = self._idle.get(route.key)
        conn = None
        while idle:
            candidate = idle.pop()
            if not candidate.closed and not candidate.transport_closing():
                conn = candidate
                break
        if conn is None:
            conn = await self._connect(route, loop, deadline)
        conn.send(request, deadline)
        try:
            await conn.head()
        except BaseException:  # a fault, or the request cancelled: the connection is done
            conn.abort()
            raise
        return conn

    def release(self, conn: Conn) -> None:
        """Take ``conn`` back: to the idle pool if its answer ended cleanly and the server
        keeps it open, else closed."""
        if conn.reusable():
            conn.reset()
            self._idle.setdefault(conn.key, []).append(conn)
        else:
            conn.abort()

    def close(self) -> None:
        """Close every connection (the worker is done)."""
        for conn in list(self._open):
            conn.abort()
        self._idle.clear()

    async def __aenter__(self) -> Wire:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    def _route(self, prep: Prepared) -> _Route:
        key = (prep.method, prep.url, id(prep.headers))
        route = self._routes.get(key)
        if route is not None and route.headers is prep.headers:
            return route
        route = _Route(prep.method, prep.url, prep.headers)
        if len(self._routes) >= _ROUTES_MAX:
            self._routes.clear()
        self._routes[key] = route
        return route

    async def _connect(
        self, route: _Route, loop: asyncio.AbstractEventLoop, deadline: float | None
    ) -> Conn:
        wait = self.connect_timeout
        if deadline is not None:
            left = deadline - loop.time()
            wait = left if wait is None else min(wait, left)
        context = self._ssl() if route.tls else None
        try:
            async with asyncio.timeout(wait):
                addresses = await self._resolve(route, loop)
                failure: OSError | None = None
                for family, address in addresses:
                    try:
                        _, conn = await loop.create_connection(
                            lambda: Conn(self, route.key),
                            *address,
                            family=family,
                            ssl=context,
                            server_hostname=route.host if context is not None else None,
                        )
                        return conn
                    except OSError as exc:
                        failure = exc
        except TimeoutError:
            raise TimeoutError(f"no connection to {route.host}:{route.port} in time") from None
        except OSError as exc:  # the name did not resolve
            failure = exc
        assert failure is not None
        refused = isinstance(failure, ConnectionRefusedError)
        where = f"{route.host}:{route.port}"
        raise ConnectFailed(f"cannot connect to {where}: {failure}", refused) from failure

    async def _resolve(
        self, route: _Route, loop: asyncio.AbstractEventLoop
    ) -> list[tuple[int, tuple[str, int]]]:
        """The origin's addresses: an IP literal as it is, a name from the resolver (cached)."""
        try:
            ip = ipaddress.ip_address(route.host)
        except ValueError:
            pass
        else:
            family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
            return [(family, (route.host, route.port))]
        key = (route.host, route.port)
        cached = self._dns.get(key)
        if cached is not None and cached[0] > monotonic():
            return cached[1]
        infos = await loop.getaddrinfo(route.host, route.port, type=socket.SOCK_STREAM)
        found: list[tuple[int, tuple[str, int]]] = [
            (int(info[0]), (str(info[4][0]), int(info[4][1]))) for info in infos
        ]
        self._dns[key] = (monotonic() + _DNS_TTL, found)
        return found

    def _ssl(self) -> ssl.SSLContext:
        if self._context is None:
            if isinstance(self._tls, ssl.SSLContext):
                self._context = self._tls
            else:
                self._context = ssl.create_default_context()
                if not self._tls:  # --insecure: no certificate check
                    self._context.check_hostname = False
                    self._context.verify_mode = ssl.CERT_NONE
        return self._context


# the states of a connection's exchange
_IDLE, _HEAD, _BODY, _DONE, _FAILED = range(5)
# how a body ends
_LENGTH, _CHUNKED, _CLOSE = range(3)
# a chunked body's position: reading a size line, the CRLF after a chunk, the trailers
_SIZE, _CRLF, _TRAILERS = -1, -2, -3


class Conn(asyncio.Protocol):
    """One keep-alive connection and the exchange on it: the request sent, the answer parsed
    as it arrives. The caller awaits ``head()``, then reads the body with ``body()`` or
    ``stream()``."""

    __slots__ = (
        "_buf",
        "_chunk",
        "_left",
        "_limit",
        "_mode",
        "_parts",
        "_pending",
        "_sink",
        "_size",
        "_timer",
        "_waiter",
        "_wire",
        "closed",
        "end_at",
        "error",
        "head_at",
        "keep_alive",
        "key",
        "length",
        "raw_head",
        "state",
        "status",
        "transport",
    )

    def __init__(self, wire: Wire, key: tuple[str, int, bool]) -> None:
        self._wire = wire
        self.key = key
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self._timer: asyncio.TimerHandle | None = None
        self.reset()

    def reset(self) -> None:
        """Ready for the next exchange."""
        self.state = _IDLE
        self._buf = b""
        self._waiter: asyncio.Future[None] | None = None
        self._sink: Sink | None = None
        self._pending: list[tuple[bytes, float]] = []
        self._parts: list[bytes] = []
        self._size = 0
        self._limit = -1
        self._mode = _LENGTH
        self._left = 0
        self._chunk = _SIZE
        self.status = 0
        self.raw_head = b""
        self.length: int | None = None
        self.keep_alive = True
        self.head_at = 0.0
        self.end_at = 0.0
        self.error: BaseException | None = None

    # -- the caller's side -------------------------------------------------------------
    def send(self, request: bytes, deadline: float | None) -> None:
        """Write the request; the answer must be complete by ``deadline`` (the loop's time)."""
        assert self.transport is not None
        self.state = _HEAD
        if deadline is not None:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_at(deadline, self._expire, self._wire.timeout)
        self.transport.write(request)

    async def head(self) -> None:
        """Return once the answer's head is in (``status``, ``head_at``), or raise its fault."""
        if self.state == _HEAD:
            waiter = self._waiter = asyncio.get_running_loop().create_future()
            await waiter
        if self.error is not None and not self.head_at:  # a later fault: the body's to raise
            raise self.error

    async def body(self, limit: int) -> bytes:
        """The whole body (``end_at``: when its last byte arrived), or ``BodyTooLarge`` as
        soon as it passes ``limit`` bytes (an announced length past it fails at once)."""
        if self.length is not None and self.length > limit:
            self._fail(BodyTooLarge(f"body of {self.length} bytes over the limit of {limit}"))
        elif self.error is None:
            self._limit = limit
            if self._size > limit:
                self._fail(BodyTooLarge(f"body over the limit of {limit} bytes"))
            elif self.state == _BODY:
                waiter = self._waiter = asyncio.get_running_loop().create_future()
                await waiter
        if self.error is not None:
            raise self.error
        parts = self._pending
        return parts[0][0] if len(parts) == 1 else b"".join(part for part, _ in parts)

    async def stream(self, sink: Sink) -> None:
        """Hand every piece of the body to ``sink`` with the time its read arrived (those
        already in first, with their own times); return when the body ended (``end_at``)."""
        pending, self._pending = self._pending, []
        try:
            for piece, at in pending:
                sink(piece, at)
        except Exception as exc:  # the sink refused a piece (an event past the size limit)
            self._fail(exc)
        if self.error is None and self.state == _BODY:
            self._sink = sink
            waiter = self._waiter = asyncio.get_running_loop().create_future()
            await waiter
        if self.error is not None:
            raise self.error

    def headers(self) -> CIMultiDictProxy[str]:
        """The answer's headers, parsed from its head now (only checks and samples need them)."""
        found: CIMultiDict[str] = CIMultiDict()
        for line in self.raw_head.split(b"\r\n")[1:]:
            name, sep, value = line.partition(b":")
            if sep:
                found.add(name.strip().decode("latin-1"), value.strip().decode("latin-1"))
        return CIMultiDictProxy(found)

    def reusable(self) -> bool:
        return self.state == _DONE and self.keep_alive and not self.closed

    def transport_closing(self) -> bool:
        return self.transport is None or self.transport.is_closing()

    def abort(self) -> None:
        self._cancel_timer()
        self.closed = True
        if self.transport is not None:
            self.transport.abort()
        self._wire._open.discard(self)

    # -- the loop's side ---------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self._wire._open.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._wire._open.discard(self)
        if self.state == _BODY and self._mode == _CLOSE and exc is None:
            self._done(perf_counter())  # a body that ends when the connection does
        elif self.state in (_HEAD, _BODY):
            reason = f": {exc}" if exc is not None else ""
            self._fail(Disconnected(f"the server closed the connection mid-answer{reason}"))

    def data_received(self, data: bytes) -> None:
        now = perf_counter()
        state = self.state
        try:
            if state == _BODY:
                self._body(data, now)
            elif state == _HEAD:
                self._head(self._buf + data if self._buf else data, now)
            elif state != _FAILED:  # bytes nobody asked for: this connection cannot be trusted
                self.keep_alive = False
                if state == _IDLE:
                    self.abort()
        except Exception as exc:  # never into the loop: an answer this parser cannot read
            self._fail(NotHTTP(f"unreadable answer ({type(exc).__name__}: {exc})"[:200]))

    def _head(self, data: bytes, now: float) -> None:
        while True:  # interim (1xx) answers are skipped: the real one follows
            end, size = data.find(b"\r\n\r\n"), 4
            bare = data.find(b"\n\n", 0, end if end >= 0 else None)
            if bare >= 0 and b"\r" not in data[:bare]:  # a head with bare LF line ends
                end, size = bare, 2
            if end < 0:
                self._wait_head(data)
                return
            if end > HEAD_MAX:
                self._fail(HeadTooLarge(f"answer head over {HEAD_MAX} bytes"))
                return
            head = data[:end] if size == 4 else data[:end].replace(b"\n", b"\r\n")
            data = data[end + size :]
            if not self._frame(head):
                return
            if not 100 <= self.status < 200:
                break
            self.status = 0
        self._buf = b""
        self.raw_head = head
        self.head_at = now
        self.state = _BODY
        if self._mode == _LENGTH and not self._left:
            self._done(now)
        elif data:
            self._body(data, now)
        self._wake()

    def _wait_head(self, data: bytes) -> None:
        """A head not complete yet: keep it — unless it is too long, or already not HTTP (a
        wrong port answering in its own protocol must not wait for the timeout)."""
        if len(data) > HEAD_MAX:
            self._fail(HeadTooLarge(f"answer head over {HEAD_MAX} bytes"))
        elif data[:7] != _HTTP1[: len(data[:7])]:
            self._fail(NotHTTP(f"not an HTTP/1.x answer: {data[:40]!r}"))
        else:
            self._buf = data

    def _frame(self, head: bytes) -> bool:
        """The status and how the body is framed, from the head; False (failed) when it is
        not an HTTP/1.x answer or its body's framing cannot be trusted."""
        if head[:7] != _HTTP1 or head[12:13] not in (b" ", b"\r", b"") or len(head) < 12:
            self._fail(NotHTTP(f"not an HTTP/1.x answer: {head[:40]!r}"))
            return False
        code = head[9:12]
        if not code.isdigit():
            self._fail(NotHTTP(f"bad status line: {head[:40]!r}"))
            return False
        self.status = status = int(code)
        lower = head.lower()
        self.keep_alive = head[7:8] == b"1" and _value(lower, b"\r\nconnection:") != b"close"
        if status in (204, 304) or 100 <= status < 200:  # no body, whatever the head says
            self._mode, self._left = _LENGTH, 0
            return True
        if b"chunked" in _value(lower, b"\r\ntransfer-encoding:"):
            self._mode, self._chunk = _CHUNKED, _SIZE
            return True
        if lower.find(b"\r\ncontent-length:") < 0:
            self._mode, self.keep_alive = _CLOSE, False  # the body ends with the connection
            return True
        length = _value(lower, b"\r\ncontent-length:")
        again = lower.find(b"\r\ncontent-length:", lower.find(b"\r\ncontent-length:") + 1)
        if (
            not length.isdigit()
            or len(length) > _LENGTH_DIGITS
            or (again >= 0 and _value(lower[again:], b"\r\ncontent-length:") != length)
        ):
            self._fail(NotHTTP(f"bad Content-Length: {length[:20]!r}"))
            return False
        self._mode = _LENGTH
        self._left = self.length = int(length)
        return True

    def _body(self, data: bytes, now: float) -> None:
        mode = self._mode
        if mode == _LENGTH:
            left = self._left
            if len(data) >= left:
                if len(data) > left:  # more than the answer: not a connection to reuse
                    self.keep_alive = False
                    data = data[:left]
                self._left = 0
                self._deliver(data, now)
                if self.state == _BODY:
                    self._done(now)
                return
            self._left = left - len(data)
            self._deliver(data, now)
        elif mode == _CHUNKED:
            self._chunked(data, now)
        else:
            self._deliver(data, now)

    def _chunked(self, data: bytes, now: float) -> None:
        """Decode a chunked body's bytes; the chunks' data of this read go out as one piece."""
        if self._chunk == _SIZE and not self._buf and self._whole_chunk(data, now):
            return
        if self._buf:
            data, self._buf = self._buf + data, b""
        pos, end = 0, len(data)
        out: list[bytes] = []
        while pos < end:
            chunk = self._chunk
            if chunk > 0:  # inside a chunk's data
                take = min(chunk, end - pos)
                out.append(data[pos : pos + take])
                pos += take
                self._chunk = chunk - take or _CRLF
                continue
            line_end = pos if chunk == _CRLF else data.find(b"\r\n", pos)
            if line_end < 0 or end - pos < 2:  # a line not complete yet: wait for the rest
                self._buf = data[pos:]
                if len(self._buf) > _CHUNK_LINE_MAX:
                    self._fail(NotHTTP("a chunk-size or trailer line too long"))
                    return
                break
            pos = self._line(data, pos, line_end, out, now)
            if pos < 0:
                return
        if out:
            self._deliver(out[0] if len(out) == 1 else b"".join(out), now)

    def _whole_chunk(self, data: bytes, now: float) -> bool:
        """The common read of a stream, exactly one whole chunk: its data delivered, True."""
        line = data.find(b"\r\n", 0, 10)
        if line > 0 and data[-2:] == b"\r\n" and not data[:line].strip(_HEX):
            size = int(data[:line], 16)
            if size > 0 and len(data) == line + size + 4:
                self._deliver(data[line + 2 : -2], now)
                return True
        return False

    def _line(self, data: bytes, pos: int, line_end: int, out: list[bytes], now: float) -> int:
        """A chunked body's line at ``pos`` (complete up to ``line_end``): the CRLF after a
        chunk's data, a chunk's size, or a trailer. The position after it, or -1 when the
        exchange ended (failed, or the body is complete: ``out`` delivered)."""
        chunk = self._chunk
        if chunk == _CRLF:
            if data[pos : pos + 2] != b"\r\n":
                self._fail(NotHTTP("chunk data not followed by CRLF"))
                return -1
            self._chunk = _SIZE
            return pos + 2
        if chunk == _TRAILERS:
            if line_end > pos:
                return line_end + 2  # a trailer: ignored
            if line_end + 2 < len(data):  # more than the answer: not a connection to reuse
                self.keep_alive = False
            if out:
                self._deliver(out[0] if len(out) == 1 else b"".join(out), now)
            if self.state == _BODY:
                self._done(now)
            return -1
        size_text = data[pos:line_end].split(b";", 1)[0].strip()
        if not size_text or size_text.strip(_HEX):
            self._fail(NotHTTP(f"bad chunk size: {size_text[:20]!r}"))
            return -1
        size = int(size_text, 16)
        self._chunk = size if size > 0 else _TRAILERS
        return line_end + 2

    def _deliver(self, piece: bytes, now: float) -> None:
        """A piece of the body: to the stream's sink, or kept (with its time) until asked."""
        if not piece:
            return
        sink = self._sink
        if sink is not None:
            try:
                sink(piece, now)
            except Exception as exc:  # the sink refused it (an SSE event past the limit)
                self._fail(exc)
            return
        self._pending.append((piece, now))
        self._size += len(piece)
        if 0 <= self._limit < self._size:
            self._fail(BodyTooLarge(f"body over the limit of {self._limit} bytes"))

    def _done(self, now: float) -> None:
        self.state = _DONE
        self.end_at = now
        self._cancel_timer()
        self._wake()

    def _fail(self, exc: BaseException) -> None:
        """End the exchange with ``exc`` (also one whose bytes are all in, refused by the
        caller: a body past its limit, an event the sink refused) and close the connection."""
        if self.state == _FAILED:
            return
        self.state = _FAILED
        self.error = exc
        self.end_at = perf_counter()
        self.keep_alive = False
        self._cancel_timer()
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
        if self.transport is not None and not self.closed:
            self.closed = True
            self.transport.abort()

    def _wake(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _expire(self, timeout: float | None) -> None:
        self._timer = None
        self._fail(TimeoutError(f"no complete answer within {timeout:g} s"))

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


def _value(lower_head: bytes, name: bytes) -> bytes:
    """The (stripped, lower-case) value of the first header ``name`` (``b"\\r\\nname:"``)."""
    at = lower_head.find(name)
    if at < 0:
        return b""
    start = at + len(name)
    stop = lower_head.find(b"\r\n", start)
    return lower_head[start : stop if stop >= 0 else None].strip()
