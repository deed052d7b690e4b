"""What one request came to, the classes a failure falls into, and a virtual user's states.

Faults from the target are counted under these names (never raised), so the run goes on and the
summary can say exactly what went wrong how often. ``Outcome`` is the typed hand-over between
the engine's request steps (prepared, sent, read) and the one function that books it into the
interval's recorder: it holds facts (``perf_counter`` readings, counts, what the server said),
and the metric formulas turn them into milliseconds when it is booked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum

__all__ = ["REASON_CHARS", "ErrorClass", "Outcome", "Tokens", "UserState", "reason_text"]

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
    """Any other exception, and a redirect (not followed); its message is kept among the run's
    ``error_reasons``."""


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


@dataclass(slots=True)
class Tokens:
    """What a response said about tokens; ``output is None`` until the server reports usage."""

    output: int | None = None
    input: int | None = None


@dataclass(slots=True, eq=False)
class Outcome:
    """One request, as the engine saw it: filled in by the steps that send and read it, then
    booked once. Mutable while the request runs (a step that fails half-way leaves what it
    found), and not frozen because a frozen dataclass's ``__init__`` costs five times as much
    per request. Times are ``perf_counter()`` readings in the worker process."""

    label: str
    """The per-request table's row ("" = none: a single-kind run)."""
    sent: float
    """When the request was handed to the connection pool."""
    intended: float | None = None
    """When it should have been sent (open loop); None in closed loop (= ``sent``)."""
    end: float = 0.0
    """When the last byte arrived, or the request failed."""
    headers_at: float | None = None
    """When the response headers arrived (None: they never did)."""
    first: float | None = None
    """When the first content event arrived (streamed answers only)."""
    status: int | None = None
    error: ErrorClass | None = None
    reasons: list[tuple[ErrorClass, BaseException]] | None = None
    """Why, for each fault met on the way, in order (None until the first; rare)."""
    chunks: int = 0
    """Content events of a streamed answer (the token count when the server sends no usage)."""
    events: int = 0
    nbytes: int = 0
    """Body bytes received."""
    tokens: Tokens = field(default_factory=Tokens)
    checks: list[tuple[str, bool]] | None = None
    """Each check's label and verdict (None: the request has no checks)."""
    itl_max: float | None = None
    """A streamed answer's worst gap between content chunks in ms (None: fewer than two)."""
    slo_ok: bool | None = None
    """Whether it met every SLO of the run (None: the run has none)."""

    def note(self, error: ErrorClass, exc: BaseException) -> None:
        """Keep why a fault of class ``error`` happened (booked among the run's reasons).

        The exception is kept without its traceback: the frames it points at hold what the
        request had read (up to the body or event size limit, hundreds of MB against a target
        that never stops sending) until the request is booked. Only the message is booked."""
        cause: BaseException | None = exc
        for _ in range(8):  # the chain a transport error wraps, bounded
            if cause is None:
                break
            cause.__traceback__ = None
            cause = cause.__cause__ or cause.__context__
        if self.reasons is None:
            self.reasons = []
        self.reasons.append((error, exc))
