"""A response of the mock's server (``mock/web.py``): whole (``Response``, with a
Content-Length, sent with its head in one write) or written piece by piece
(``StreamResponse``: chunked on HTTP/1.1, each write waiting while the client reads slowly)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from multidict import CIMultiDict

if TYPE_CHECKING:
    from loadtui.mock.connection import Connection
    from loadtui.mock.webrequest import Request

__all__ = ["Response", "StreamResponse", "json_response"]

_REASONS = {
    200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 401: "Unauthorized",
    403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 408: "Request Timeout",
    413: "Request Entity Too Large", 429: "Too Many Requests", 431: "Request Header Fields Too "
    "Large", 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
    504: "Gateway Timeout", 505: "HTTP Version Not Supported", 529: "Site Overloaded",
}  # fmt: skip


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
