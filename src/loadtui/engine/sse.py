"""Incremental Server-Sent Events parser over raw byte chunks (WHATWG rules).

TCP reads do not align with events, so ``feed`` keeps the unfinished tail between calls. Lines
end with CR, LF or CRLF (a CR ending one read ends its line; an LF opening the next is dropped); ``:``
lines are comments; several ``data:`` lines join with ``\\n``; a blank line dispatches.
Data stays ``bytes`` because ``json.loads`` takes bytes and most events are JSON.

Written by hand rather than taken from httpx-sse/sseclient because those decode text line by
line from an iterator they own; this one is fed the read the worker timestamps (see
docs/performance.md).
"""

from __future__ import annotations

__all__ = ["SSEParser"]


class SSEParser:
    __slots__ = ("_buf", "_data", "_event", "_skip_lf")

    def __init__(self) -> None:
        self._buf = b""
        self._skip_lf = False
        self._event: str | None = None
        self._data: list[bytes] = []

    def feed(self, chunk: bytes) -> list[tuple[str | None, bytes]]:
        """Add a read; return the events it completed as ``(event name or None, data)``."""
        if self._skip_lf:
            self._skip_lf = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        buf = self._buf + chunk if self._buf else chunk
        if b"\r" in buf:
            # a CR ending this read ends its line; an LF opening the next read belongs to it
            self._skip_lf = buf.endswith(b"\r")
            buf = buf.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = buf.split(b"\n")
        self._buf = lines.pop()
        events: list[tuple[str | None, bytes]] = []
        data = self._data
        for line in lines:
            if not line:
                if data:
                    events.append((self._event, data[0] if len(data) == 1 else b"\n".join(data)))
                    data = self._data = []
                self._event = None
                continue
            if line[0] == 58:  # ':' comment / keep-alive
                continue
            field, sep, value = line.partition(b":")
            if sep and value[:1] == b" ":
                value = value[1:]
            if field == b"data":
                data.append(value)
            elif field == b"event":
                self._event = value.decode("utf-8", "replace")
        return events
