"""Incremental Server-Sent Events parser over raw byte chunks (WHATWG rules).

TCP reads do not align with events, so ``feed`` keeps the unfinished tail between calls. Lines
end with CR, LF or CRLF (a CR ending one read ends its line; an LF opening the next is dropped); ``:``
lines are comments; several ``data:`` lines join with ``\\n``; a blank line dispatches.
Data stays ``bytes`` because ``json.loads`` takes bytes and most events are JSON.

The unfinished tail is kept as a list of reads and joined once, when its line ends, so a long
line costs time linear in its length (re-concatenating on every read was quadratic: 40 MB took
10 s of CPU). The tail and an event's data are bounded by ``max_event``; past it ``feed`` raises
``EventTooLarge`` (a hostile or broken server must not grow a worker's memory without end).

A read holding exactly one ``data: ...`` event and nothing else (how servers pacing tokens send
them) is answered without splitting it into lines: the same event, a third of the CPU.

Written by hand rather than taken from httpx-sse/sseclient because those decode text line by
line from an iterator they own; this one is fed the read the worker timestamps (see
docs/performance.md).
"""

from __future__ import annotations

__all__ = ["DEFAULT_MAX_EVENT", "EventTooLarge", "SSEParser"]

DEFAULT_MAX_EVENT = 8 * 1024 * 1024


class EventTooLarge(Exception):
    """A line or an event's data grew past the parser's ``max_event`` bytes."""


class SSEParser:
    __slots__ = ("_data", "_data_len", "_event", "_max", "_skip_lf", "_tail", "_tail_len")

    def __init__(self, max_event: int = DEFAULT_MAX_EVENT) -> None:
        self._max = max_event
        self._tail: list[bytes] = []
        self._tail_len = 0
        self._skip_lf = False
        self._event: str | None = None
        self._data: list[bytes] = []
        self._data_len = 0

    def feed(self, chunk: bytes) -> list[tuple[str | None, bytes]]:
        """Add a read; return the events it completed as ``(event name or None, data)``."""
        if (  # the common read, one whole ``data: ...`` event, with nothing pending: no split
            chunk[-2:] == b"\n\n"
            and chunk[:6] == b"data: "
            and not self._tail
            and not self._data
            and self._event is None
            and not self._skip_lf
            and chunk.count(b"\n") == 2
            and b"\r" not in chunk
            and len(chunk) - 8 <= self._max
        ):
            return [(None, chunk[6:-2])]
        lines = self._lines(chunk)
        return self._dispatch(lines) if lines else []

    def _lines(self, chunk: bytes) -> list[bytes]:
        """The complete lines this read ends (the unfinished one is kept as the tail)."""
        if self._skip_lf:
            self._skip_lf = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        if b"\r" in chunk:
            # a CR ending this read ends its line; an LF opening the next read belongs to it
            self._skip_lf = chunk.endswith(b"\r")
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = chunk.split(b"\n")
        last = lines.pop()
        tail = self._tail
        if tail:
            if not lines:  # still no line end: keep the piece, join them when the line ends
                tail.append(last)
                self._tail_len += len(last)
                if self._tail_len > self._max:
                    raise EventTooLarge(f"an SSE line over {self._max} bytes")
                return lines
            tail.append(lines[0])
            lines[0] = b"".join(tail)
            self._tail = tail = []
        if last:
            tail.append(last)
            self._tail_len = len(last)
            if len(last) > self._max:
                raise EventTooLarge(f"an SSE line over {self._max} bytes")
        return lines

    def _dispatch(self, lines: list[bytes]) -> list[tuple[str | None, bytes]]:
        """Apply complete lines: data accumulates, a blank line dispatches an event."""
        events: list[tuple[str | None, bytes]] = []
        data = self._data
        size = self._data_len
        for line in lines:
            if not line:
                if data:
                    events.append((self._event, data[0] if len(data) == 1 else b"\n".join(data)))
                    data = self._data = []
                    size = 0
                self._event = None
                continue
            if line[0] == 58:  # ':' comment / keep-alive
                continue
            field, sep, value = line.partition(b":")
            if sep and value[:1] == b" ":
                value = value[1:]
            if field == b"data":
                data.append(value)
                size += len(value)
                if size > self._max:  # data lines with no blank line to end them
                    raise EventTooLarge(f"an SSE event over {self._max} bytes")
            elif field == b"event":
                self._event = value.decode("utf-8", "replace")
        self._data_len = size
        return events
