"""The mock's web framework: the part of aiohttp.web's surface the mock's handlers use.

The mock's process imported aiohttp.web (attrs, yarl, the client, email, ...) for some 0.1 s of
CPU before it served, on every run's critical path (docs/performance.md, "Start-up and exit").
Its handlers need little: an app with middlewares and an ``on_response_prepare`` signal, routes
with ``{name}`` parameters, a request (headers, body, form upload), whole and streamed
responses. The same names as aiohttp.web, so a handler reads the same; the connections are
served by ``mock/connection.py`` (HTTP/1.1 on ``asyncio.Protocol``). The proxy (its aiohttp
client and server) is not served here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from multidict import CIMultiDict, MultiDict, MultiDictProxy

from loadtui.mock.form import FileField, form_fields
from loadtui.mock.framing import HTTPError

if TYPE_CHECKING:
    import asyncio

    from loadtui.mock.connection import Connection
    from loadtui.mock.framing import Head

__all__ = [
    "Application",
    "FileField",
    "HTTPError",
    "Handler",
    "MatchInfo",
    "Middleware",
    "Request",
    "Response",
    "Router",
    "StreamResponse",
    "json_response",
    "middleware",
]

Handler = Callable[["Request"], Awaitable["StreamResponse"]]
Middleware = Callable[["Request", Handler], Awaitable["StreamResponse"]]
Signal = Callable[["Request", "StreamResponse"], Awaitable[None]]

_REASONS = {
    200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 401: "Unauthorized",
    403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 408: "Request Timeout",
    413: "Request Entity Too Large", 429: "Too Many Requests", 431: "Request Header Fields Too "
    "Large", 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
    504: "Gateway Timeout", 505: "HTTP Version Not Supported", 529: "Site Overloaded",
}  # fmt: skip


def middleware(function: Middleware) -> Middleware:
    """As aiohttp's decorator: marks nothing here (every middleware is new-style)."""
    return function


class MatchInfo(dict[str, str]):
    """A route's ``{name}`` parameters, and its pattern (``canonical``; None when unrouted)."""

    def __init__(self, params: dict[str, str] | None = None, canonical: str | None = None):
        super().__init__(params or {})
        self.canonical = canonical


class _Resource:
    """One path pattern and its handler by method."""

    def __init__(self, canonical: str) -> None:
        self.canonical = canonical
        self.methods: dict[str, Handler] = {}

    async def not_allowed(self, request: Request) -> StreamResponse:
        allowed = ",".join(sorted(self.methods))
        return Response(status=405, text="405: Method Not Allowed", headers={"Allow": allowed})


async def _not_found(request: Request) -> StreamResponse:
    return Response(status=404, text="404: Not Found")


class Router:
    """Routes by exact path first, then by pattern in the order added."""

    def __init__(self) -> None:
        self._static: dict[str, _Resource] = {}
        self._dynamic: list[tuple[re.Pattern[str], _Resource]] = []

    def add_route(self, method: str, path: str, handler: Handler) -> None:
        resource = self._static.get(path) or next(
            (r for _, r in self._dynamic if r.canonical == path), None
        )
        if resource is None:
            resource = _Resource(path)
            if "{" in path:
                pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^{}/]+)", re.escape(path))
                self._dynamic.append((re.compile(pattern), resource))
            else:
                self._static[path] = resource
        resource.methods[method.upper()] = handler

    def add_get(self, path: str, handler: Handler) -> None:
        self.add_route("GET", path, handler)

    def add_post(self, path: str, handler: Handler) -> None:
        self.add_route("POST", path, handler)

    def resolve(self, method: str, path: str) -> tuple[Handler, MatchInfo]:
        resource = self._static.get(path)
        params: dict[str, str] = {}
        if resource is None:
            for pattern, candidate in self._dynamic:
                found = pattern.fullmatch(path)
                if found:
                    resource, params = candidate, found.groupdict()
                    break
            else:
                return _not_found, MatchInfo()
        handler = resource.methods.get(method) or resource.methods.get("*")
        return handler or resource.not_allowed, MatchInfo(params, resource.canonical)


class Application:
    """Routes, middlewares (outermost first) and the ``on_response_prepare`` signal."""

    def __init__(self, *, middlewares: Iterable[Middleware] = (), client_max_size: int = 2**20):
        self.middlewares: list[Middleware] = list(middlewares)
        self.router = Router()
        self.on_response_prepare: list[Signal] = []
        self.client_max_size = client_max_size
        """The largest request body (bytes) — aiohttp's default; a larger one gets a 413."""
        self._state: dict[str, Any] = {}
        self._chain: Handler | None = None

    def __getitem__(self, key: str) -> Any:
        return self._state[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._state[key] = value

    def freeze(self) -> None:
        """Fix the middlewares (the server does it before it serves)."""

        async def routed(request: Request) -> StreamResponse:
            return await request._handler(request)

        chain: Handler = routed
        for outer in reversed(self.middlewares):
            chain = _bound(outer, chain)
        self._chain = chain

    async def handle(self, request: Request) -> StreamResponse:
        handler, request.match_info = self.router.resolve(request.method, request.path)
        request._handler = handler
        if self._chain is None:
            self.freeze()
        assert self._chain is not None
        return await self._chain(request)


def _bound(outer: Middleware, inner: Handler) -> Handler:
    def call(request: Request) -> Awaitable[StreamResponse]:
        return outer(request, inner)

    return call


class Request:
    """One request: its line, headers and (awaited) body, on its connection."""

    def __init__(self, conn: Connection, head: Head, app: Application) -> None:
        self._conn = conn
        self.app = app
        self.method = head.method
        self.version = head.version
        self.headers = head.headers
        self.keep_alive = head.keep_alive
        self.expect_continue = head.expect_continue
        self.path_qs = head.target.partition("#")[0]
        raw_path, _, self.query_string = self.path_qs.partition("?")
        self.path = _unquoted(raw_path) if "%" in raw_path else raw_path
        self.match_info = MatchInfo()
        self._handler: Handler = _not_found
        self._pieces: list[bytes] = []
        self.complete = False
        """True once the whole body has arrived."""
        self._error: HTTPError | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._query: MultiDictProxy[str] | None = None
        self.responded = False
        """True once a response's head went out for this request."""

    @property
    def transport(self) -> asyncio.Transport | None:
        """The connection's transport; None once the client has gone."""
        return self._conn.transport

    @property
    def rel_url(self) -> Request:
        """aiohttp's relative URL: here the request itself gives ``path`` and ``query``."""
        return self

    @property
    def query(self) -> MultiDictProxy[str]:
        if self._query is None:
            from urllib.parse import parse_qsl

            self._query = MultiDictProxy(MultiDict(parse_qsl(self.query_string, True)))
        return self._query

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "").partition(";")[0].strip().lower()

    def __str__(self) -> str:
        return self.path_qs

    @property
    def failed(self) -> HTTPError | None:
        """Why the body could not be read (malformed, too large, the client gone), if so."""
        return self._error

    async def arrived(self) -> None:
        """Wait until the whole body has arrived, or failed to."""
        if not self.complete:
            self._waiter = self._conn.loop.create_future()
            await self._waiter

    async def read(self) -> bytes:
        """The whole body (HTTPError if it was malformed or too large)."""
        await self.arrived()
        if self._error is not None:
            raise self._error
        if len(self._pieces) != 1:
            self._pieces[:] = [b"".join(self._pieces)]
        return self._pieces[0]

    async def text(self) -> str:
        return (await self.read()).decode("utf-8")

    async def json(self) -> Any:
        return json.loads(await self.read())

    async def post(self) -> MultiDictProxy[str | FileField]:
        """The form's fields (multipart or urlencoded; ValueError if malformed)."""
        body = await self.read()
        return form_fields(self.headers.get("Content-Type", ""), body)

    def _received(self, piece: bytes) -> None:
        self._pieces.append(piece)

    def _ended(self, error: HTTPError | None = None) -> None:
        self.complete = True
        self._error = error
        if error is not None:
            self._pieces.clear()
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


def _unquoted(path: str) -> str:
    from urllib.parse import unquote

    return unquote(path)


class StreamResponse:
    """A response whose body is written piece by piece (chunked, as aiohttp does, when no
    Content-Length is set on HTTP/1.1); ``write`` waits while the client reads slowly."""

    def __init__(
        self,
        *,
        status: int = 200,
        reason: str | None = None,
        headers: dict[str, str] | CIMultiDict[str] | None = None,
    ) -> None:
        self.status = status
        self.reason = reason
        self.headers: CIMultiDict[str] = CIMultiDict(headers or {})
        self._conn: Connection | None = None
        self._chunked = False
        self._head_only = False
        self.keep_alive = True
        """False once this response's framing, or its request, ends the connection."""
        self.eof = False

    @property
    def prepared(self) -> bool:
        return self._conn is not None

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "application/octet-stream")

    @content_type.setter
    def content_type(self, value: str) -> None:
        self.headers["Content-Type"] = value

    def _body_length(self) -> int | None:
        return None

    async def prepare(self, request: Request) -> None:
        """Run the app's ``on_response_prepare`` and send the status line and headers."""
        if self._conn is not None:
            return
        for signal in request.app.on_response_prepare:
            await signal(request, self)
        self._conn = request._conn
        self._head_only = request.method == "HEAD"
        request.responded = True
        head = self._head(request)
        self._conn.send(head + self._opening())
        await self._conn.drain()

    def _opening(self) -> bytes:
        """What goes out with the head (a whole response's body)."""
        return b""

    def _head(self, request: Request) -> bytes:
        headers = self.headers
        length = self._body_length()
        keep = request.keep_alive and "close" not in headers.get("Connection", "").lower()
        if length is not None:
            headers["Content-Length"] = str(length)
        elif request.version == (1, 1):
            headers["Transfer-Encoding"] = "chunked"
            self._chunked = True
        else:
            keep = False  # HTTP/1.0 with no length: the body ends when the connection does
        if not keep:
            headers["Connection"] = "close"
        elif request.version == (1, 0):
            headers["Connection"] = "keep-alive"
        self.keep_alive = keep
        headers.setdefault("Content-Type", "application/octet-stream")
        headers.setdefault("Date", request._conn.date())
        reason = self.reason or _REASONS.get(self.status, "Unknown")
        lines = [f"HTTP/1.{request.version[1]} {self.status} {reason}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines.append("\r\n")
        return "\r\n".join(lines).encode("utf-8")

    async def write(self, data: bytes) -> None:
        """Send ``data``; wait while the client's socket buffer is full (ConnectionResetError
        once the client has gone)."""
        if self._conn is None or self.eof:
            raise RuntimeError("write on a response not prepared, or already ended")
        if not data or self._head_only:
            return
        if self._chunked:
            data = b"%x\r\n%b\r\n" % (len(data), data)
        self._conn.send(data)
        await self._conn.drain()

    async def write_eof(self, data: bytes = b"") -> None:
        if self.eof:
            return
        if data:
            await self.write(data)
        self.eof = True
        if self._chunked and not self._head_only and self._conn is not None:
            self._conn.send(b"0\r\n\r\n")
            await self._conn.drain()


class Response(StreamResponse):
    """A whole response: its body, and a Content-Length, sent with its head in one write."""

    def __init__(
        self,
        *,
        body: bytes | None = None,
        status: int = 200,
        reason: str | None = None,
        text: str | None = None,
        headers: dict[str, str] | CIMultiDict[str] | None = None,
        content_type: str | None = None,
        charset: str | None = None,
    ) -> None:
        super().__init__(status=status, reason=reason, headers=headers)
        if text is not None:
            charset = charset or "utf-8"
            body = text.encode(charset)
            content_type = content_type or "text/plain"
        if content_type is not None:
            charset_part = f"; charset={charset}" if charset else ""
            self.headers["Content-Type"] = content_type + charset_part
        self.body = body or b""

    def _body_length(self) -> int | None:
        return len(self.body)

    def _opening(self) -> bytes:
        self.eof = True
        return b"" if self._head_only else self.body

    async def write(self, data: bytes) -> None:
        raise RuntimeError("a Response is sent whole: use a StreamResponse to write pieces")

    async def write_eof(self, data: bytes = b"") -> None:
        return


def json_response(
    data: Any, *, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        text=json.dumps(data), status=status, headers=headers, content_type="application/json"
    )
