"""HTTP/1.x request framing for the mock's server: bytes in, request heads and body pieces out.

The mock's server (``mock/web.py``, ``mock/connection.py``) replaced aiohttp.web in the mock's
process, whose import cost 0.1 s of CPU on every run's critical path (docs/performance.md,
"Start-up and exit"). This parser is incremental (a request may arrive one byte at a time, or
many pipelined in one read) and bounded: a head longer than ``max_head`` or a body longer than
``max_body`` is refused, never buffered. What it refuses is what a request smuggler or a broken
client sends: both Content-Length and Transfer-Encoding, differing lengths, a folded or
space-padded header, a bad chunk size.
"""

from __future__ import annotations

import re
from typing import Final

from multidict import CIMultiDict, CIMultiDictProxy

__all__ = ["END", "Event", "HTTPError", "Head", "RequestParser"]

END: Final = b""
"""The event after a request's last body byte (a body piece is never empty)."""

_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEX = re.compile(rb"[0-9A-Fa-f]{1,16}")
_DIGITS = re.compile(r"[0-9]{1,18}")
_BAD_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_LINE_LIMIT = 8190
"""The longest chunk-size or trailer line (aiohttp's limit for a line)."""


_KNOWN_NAMES = (
    "Accept Accept-CH Accept-Charset Accept-Encoding Accept-Language Accept-Ranges "
    "Access-Control-Allow-Credentials Access-Control-Allow-Headers "
    "Access-Control-Allow-Methods Access-Control-Allow-Origin Access-Control-Expose-Headers "
    "Access-Control-Max-Age Access-Control-Request-Headers Access-Control-Request-Method Age "
    "Allow Alt-Svc Alt-Used Authentication-Info Authorization baggage Cache-Control "
    "Cache-Status CDN-Cache-Control CDN-Loop Clear-Site-Data Connection Content-Digest "
    "Content-Disposition Content-Encoding Content-ID Content-Language Content-Length "
    "Content-Location Content-MD5 Content-Range Content-Security-Policy "
    "Content-Security-Policy-Report-Only Content-Transfer-Encoding Content-Type Cookie "
    "Cross-Origin-Embedder-Policy Cross-Origin-Opener-Policy Cross-Origin-Resource-Policy "
    "Date Destination Digest Early-Data Etag Expect Expires Forwarded From Host If-Match "
    "If-Modified-Since If-None-Match If-Range If-Unmodified-Since Keep-Alive Last-Event-ID "
    "Last-Modified Link Location Max-Forwards NEL Origin Origin-Agent-Cluster "
    "Permissions-Policy Pragma Priority Proxy-Authenticate Proxy-Authentication-Info "
    "Proxy-Authorization Range Referer Referrer-Policy Report-To Reporting-Endpoints "
    "Repr-Digest Retry-After Sec-CH-UA Sec-CH-UA-Mobile Sec-CH-UA-Platform Sec-Fetch-Dest "
    "Sec-Fetch-Mode Sec-Fetch-Site Sec-Fetch-User Sec-GPC Sec-Purpose Sec-WebSocket-Accept "
    "Sec-WebSocket-Extensions Sec-WebSocket-Key Sec-WebSocket-Key1 Sec-WebSocket-Protocol "
    "Sec-WebSocket-Version Server Server-Timing Set-Cookie Strict-Transport-Security TE "
    "Timing-Allow-Origin traceparent tracestate Trailer Transfer-Encoding Upgrade "
    "Upgrade-Insecure-Requests URI User-Agent Vary Via Want-Content-Digest Want-Digest "
    "Want-Repr-Digest Warning WWW-Authenticate X-Content-Type-Options X-Correlation-ID "
    "X-Forwarded-For X-Forwarded-Host X-Forwarded-Port X-Forwarded-Proto X-Frame-Options "
    "X-Powered-By X-RateLimit-Limit X-RateLimit-Remaining X-RateLimit-Reset X-Real-IP "
    "X-Request-ID X-Requested-With X-XSS-Protection"
)
_KNOWN = {name.lower(): name for name in _KNOWN_NAMES.split()}
"""Header names as aiohttp.web gave them (its ``hdrs``): a known one spelled canonically
whatever its case on the wire (``authorization`` -> ``Authorization``), others as sent. The
mock's record of what it received (``GET /mock/received``) shows them so."""


class HTTPError(Exception):
    """A request the server answers with ``status`` and then closes the connection on."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status} {reason}")
        self.status = status
        self.reason = reason


class Head:
    """A request's line and headers, and how its body is framed."""

    __slots__ = (
        "chunked",
        "expect_continue",
        "headers",
        "keep_alive",
        "length",
        "method",
        "target",
        "version",
    )

    def __init__(self, method: str, target: str, version: tuple[int, int]) -> None:
        self.method = method
        self.target = target
        self.version = version
        self.headers: CIMultiDictProxy[str] = CIMultiDictProxy(CIMultiDict())
        self.length = 0
        self.chunked = False
        self.keep_alive = version == (1, 1)
        self.expect_continue = False


Event = Head | bytes | HTTPError
"""What ``feed`` gives: a head, a body piece, ``END`` (a request complete) or an error (the
last event: the parser reads nothing more)."""


class RequestParser:
    """Feed it the bytes of one connection; it gives events in order."""

    def __init__(self, max_head: int, max_body: int) -> None:
        self.max_head = max_head
        self.max_body = max_body
        self._buf = bytearray()
        self._step = self._head
        self._left = 0
        """Bytes left of the body (Content-Length) or of the current chunk."""
        self._seen = 0
        """Bytes of a chunked body so far (bounded by ``max_body``)."""
        self._failed = False
        self._scanned = 0
        """Where the search for the end of a head resumes (a head sent in small pieces is
        searched once, not from its first byte at every read)."""

    def feed(self, data: bytes) -> list[Event]:
        if self._failed:
            return []
        self._buf += data
        out: list[Event] = []
        try:
            while self._step(out):
                pass
        except HTTPError as exc:
            self._failed = True
            self._buf.clear()
            out.append(exc)
        return out

    def buffered(self) -> int:
        """Bytes received and not yet given as events."""
        return len(self._buf)

    def _head(self, out: list[Event]) -> bool:
        buf = self._buf
        while buf[:2] == b"\r\n":  # empty lines before a request line are ignored (RFC 9112)
            del buf[:2]
            self._scanned = 0
        start = self._scanned
        end = buf.find(b"\r\n\r\n", start, self.max_head + 4)
        if end < 0:
            if buf.find(b"\n\n", start, self.max_head + 2) >= 0:  # lines ended by a bare LF
                raise HTTPError(400, "Bad Request")
            if len(buf) > self.max_head:
                raise HTTPError(431, "Request Header Fields Too Large")
            self._scanned = max(0, len(buf) - 3)
            return False
        self._scanned = 0
        head = _parse_head(bytes(buf[:end]), self.max_body)
        del buf[: end + 4]
        out.append(head)
        if head.chunked:
            self._seen = 0
            self._step = self._chunk_size
        elif head.length:
            self._left = head.length
            self._step = self._body
        else:
            out.append(END)
        return bool(buf)

    def _take(self, out: list[Event]) -> bool:
        """Give up to ``_left`` buffered bytes as a body piece; whether that was the last."""
        buf = self._buf
        piece = bytes(buf[: self._left])
        del buf[: len(piece)]
        out.append(piece)
        self._left -= len(piece)
        return self._left == 0

    def _body(self, out: list[Event]) -> bool:
        if not self._buf:
            return False
        if self._take(out):
            out.append(END)
            self._step = self._head
        return bool(self._buf)

    def _line(self) -> bytes | None:
        buf = self._buf
        end = buf.find(b"\r\n", 0, _LINE_LIMIT + 2)
        if end < 0:
            if len(buf) > _LINE_LIMIT:
                raise HTTPError(400, "Line Too Long")
            return None
        line = bytes(buf[:end])
        del buf[: end + 2]
        return line

    def _chunk_size(self, out: list[Event]) -> bool:
        line = self._line()
        if line is None:
            return False
        size = line.split(b";", 1)[0].strip(b" \t")
        if not _HEX.fullmatch(size):
            raise HTTPError(400, "Bad Chunk Size")
        self._left = int(size, 16)
        self._seen += self._left
        if self._seen > self.max_body:
            raise HTTPError(413, "Request Entity Too Large")
        self._step = self._chunk if self._left else self._trailers
        return True

    def _chunk(self, out: list[Event]) -> bool:
        if not self._buf:
            return False
        if self._take(out):
            self._step = self._chunk_end
        return bool(self._buf)

    def _chunk_end(self, out: list[Event]) -> bool:
        buf = self._buf
        if len(buf) < 2:
            if buf and buf[:1] != b"\r":
                raise HTTPError(400, "Bad Chunk End")
            return False
        if buf[:2] != b"\r\n":
            raise HTTPError(400, "Bad Chunk End")
        del buf[:2]
        self._step = self._chunk_size
        return True

    def _trailers(self, out: list[Event]) -> bool:
        line = self._line()
        if line is None:
            return False
        if line:  # a trailer field: read and dropped, within the head's bound
            self._seen += len(line)
            if self._seen > self.max_body + self.max_head:
                raise HTTPError(431, "Request Header Fields Too Large")
            return True
        out.append(END)
        self._step = self._head
        return bool(self._buf)


def _parse_head(raw: bytes, max_body: int) -> Head:
    """The head of one request (its bytes without the blank line); HTTPError if malformed."""
    lines = raw.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not _TOKEN.fullmatch(parts[0].encode("latin-1")):
        raise HTTPError(400, "Bad Request Line")
    method, target, version = parts
    if version == "HTTP/1.1":
        head = Head(method, target, (1, 1))
    elif version == "HTTP/1.0":
        head = Head(method, target, (1, 0))
    else:
        raise HTTPError(505 if version.startswith("HTTP/") else 400, "Bad Version")
    if not target.startswith("/"):
        head.target = _origin_form(target)
    headers: CIMultiDict[str] = CIMultiDict()
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not _TOKEN.fullmatch(name.encode("latin-1")):
            raise HTTPError(400, "Bad Header")  # also a folded line, a space before the colon
        value = value.strip(" \t")
        if _BAD_VALUE.search(value):
            raise HTTPError(400, "Bad Header Value")
        headers.add(_KNOWN.get(name.lower(), name), value)
    head.headers = CIMultiDictProxy(headers)
    _frame(head, headers, max_body)
    return head


def _origin_form(target: str) -> str:
    """The path and query of an absolute-form target (``http://host/path?q``)."""
    scheme, sep, rest = target.partition("://")
    if not sep or scheme.lower() not in ("http", "https"):
        raise HTTPError(400, "Bad Request Target")
    slash = rest.find("/")
    return rest[slash:] if slash >= 0 else "/"


def _frame(head: Head, headers: CIMultiDict[str], max_body: int) -> None:
    """How the body is framed, whether the connection stays open, whether 100 is awaited."""
    encoding = headers.get("Transfer-Encoding")
    lengths = headers.getall("Content-Length", [])
    if encoding is not None:
        if lengths or head.version != (1, 1) or encoding.strip().lower() != "chunked":
            raise HTTPError(400, "Bad Transfer-Encoding")
        head.chunked = True
    elif lengths:
        if len(set(lengths)) != 1 or not _DIGITS.fullmatch(lengths[0]):
            raise HTTPError(400, "Bad Content-Length")
        head.length = int(lengths[0])
        if head.length > max_body:
            raise HTTPError(413, "Request Entity Too Large")
    connection = headers.get("Connection", "").lower()
    if head.version == (1, 1):
        head.keep_alive = "close" not in connection
        head.expect_continue = headers.get("Expect", "").lower() == "100-continue"
    else:
        head.keep_alive = "keep-alive" in connection
