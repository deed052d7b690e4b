"""The classes a request's outcome falls into, and the states a virtual user can be in.

Faults from the target are counted under these names (never raised), so the run goes on and the
summary can say exactly what went wrong how often.
"""

from __future__ import annotations

import re
from enum import IntEnum, StrEnum

__all__ = ["REASON_CHARS", "ErrorClass", "UserState", "reason_text"]

REASON_CHARS = 200
"""An error reason is cut to this many characters: enough to name the fault, bounded in size."""

_URL = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://)(?:[^/\s@'\"]*@)?([^/\s?#'\"]*)[^\s'\"]*")


class ErrorClass(StrEnum):
    CONNECT_REFUSED = "connect_refused"
    """Nothing listens at the target (ECONNREFUSED)."""
    CONNECT_ERROR = "connect_error"
    """DNS, TLS or another failure before a request could be sent."""
    TIMEOUT = "timeout"
    """The request exceeded the connect or total timeout."""
    RESET = "reset"
    """The server closed or reset the connection before the response was complete."""
    MALFORMED = "malformed"
    """A body or SSE event that is not the JSON the protocol promises (wrong shape, bad token
    counts, an HTML page where a stream was asked for, an unparseable HTTP response)."""
    TOO_LARGE = "too_large"
    """A body, SSE line or event, or response headers past their size limit."""
    STREAM_ERROR = "stream_error"
    """An error object inside a stream that began with status 200."""
    HTTP_429 = "http_429"
    HTTP_4XX = "http_4xx"
    HTTP_5XX = "http_5xx"
    HTTP_529 = "http_529"
    """Overloaded (Anthropic's 529, also as an ``overloaded_error`` event after a 200)."""
    BATCH_FAILED = "batch_failed"
    """A batch job ended failed, expired or cancelled — or completed with no successful line."""
    BATCH_MISMATCH = "batch_mismatch"
    """A batch's output and error files do not add up to its request_counts or its input."""
    OTHER = "other"
    """Any other exception; its message is kept among the run's ``error_reasons``."""


class UserState(IntEnum):
    """What a virtual user is doing now; sent up in snapshots as the int value."""

    IDLE = 0
    CONNECTING = 1
    """Request sent, no response headers yet."""
    WAITING = 2
    """Headers received, waiting for the first token."""
    STREAMING = 3
    THINKING = 4
    ERROR = 5
    """The last request failed; shown until the next one starts."""
    PAUSED = 6
    STOPPED = 7


def reason_text(exc: BaseException) -> str:
    """``Type: message`` of an exception, for ``error_reasons``: URLs cut to scheme and host
    (a ``{key}`` URL carries the API key in its path or query, userinfo may hold a password),
    at most ``REASON_CHARS`` long."""
    message = str(exc)
    text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    text = _URL.sub(r"\1\2/…", text) if "://" in text else text
    return text if len(text) <= REASON_CHARS else text[: REASON_CHARS - 1] + "…"
