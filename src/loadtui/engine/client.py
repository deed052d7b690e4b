"""One request, measured: the hot path.

aiohttp carries the bytes (chosen by benchmark over httpx's default transport — see
docs/performance.md). Timestamps are ``perf_counter()`` readings taken the moment a read
returns, in the worker process; every event completed by that read shares its timestamp.
Faults are classified and recorded, never raised; only cancellation propagates: every exception
while sending, reading or classifying a request becomes an error class (its message kept as a
reason) and the user goes on. Bodies and SSE events are read up to the target's size limits, so
a server that never stops sending costs a bounded amount of memory (``too_large``).
"""

from __future__ import annotations

import asyncio
from time import perf_counter

import aiohttp
from aiohttp.http_exceptions import HttpProcessingError, LineTooLong

from loadtui.engine.checks import record_checks
from loadtui.engine.protocols import (
    CONTENT,
    DONE,
    IGNORE,
    Prepared,
    Tokens,
    status_class,
)
from loadtui.engine.sse import EventTooLarge, SSEParser
from loadtui.metrics import formulas
from loadtui.metrics.stats import Recorder
from loadtui.model.outcomes import ErrorClass, UserState

__all__ = [
    "BodyTooLarge",
    "UserStatus",
    "exception_class",
    "execute",
    "failure_class",
    "read_body",
    "settle",
]


class BodyTooLarge(Exception):
    """A response body longer than the request's ``max_body`` bytes."""


class UserStatus:
    """A virtual user's live state, written by ``execute`` and read by the snapshot loop."""

    __slots__ = ("errors", "last_latency", "last_ttft", "requests", "started", "state", "uid")

    def __init__(self, uid: int) -> None:
        self.uid = uid
        self.state = UserState.IDLE
        self.started = -1.0
        self.last_latency = -1.0
        self.last_ttft = -1.0
        self.requests = 0
        self.errors = 0


def failure_class(exc: BaseException) -> ErrorClass:
    """The error class of a transport failure (never raised: counted)."""
    if isinstance(exc, TimeoutError):
        return ErrorClass.TIMEOUT
    if isinstance(exc, aiohttp.ClientConnectorError):  # before ClientOSError, its base class
        refused = isinstance(exc.os_error, ConnectionRefusedError)
        return ErrorClass.CONNECT_REFUSED if refused else ErrorClass.CONNECT_ERROR
    reset = (
        aiohttp.ServerDisconnectedError,
        aiohttp.ClientPayloadError,
        aiohttp.ClientOSError,
        ConnectionError,
    )
    return ErrorClass.RESET if isinstance(exc, reset) else ErrorClass.OTHER


def exception_class(exc: Exception) -> ErrorClass:
    """The error class of any exception raised by one request (transport, parsing, limits)."""
    if isinstance(exc, (BodyTooLarge, EventTooLarge)):
        return ErrorClass.TOO_LARGE
    if isinstance(exc, aiohttp.ClientResponseError) and isinstance(
        exc.__cause__, HttpProcessingError
    ):  # aiohttp could not parse the response: headers past its limits, or not HTTP at all
        root = exc.__cause__.__cause__ or exc.__cause__
        too_many = "Too many headers" in str(root)
        return (
            ErrorClass.TOO_LARGE
            if too_many or isinstance(root, LineTooLong)
            else ErrorClass.MALFORMED
        )
    return failure_class(exc)


async def read_body(resp: aiohttp.ClientResponse, limit: int) -> bytes:
    """The whole body, or ``BodyTooLarge`` as soon as it passes ``limit`` bytes (an announced
    length past it fails before any read)."""
    if resp.content_length is not None and resp.content_length > limit:
        raise BodyTooLarge(f"body of {resp.content_length} bytes over the limit of {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_any():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"body over the limit of {limit} bytes")
        chunks.append(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def settle(
    rec: Recorder, user: UserStatus | None, latency: float, error: ErrorClass | None
) -> bool:
    """Book a finished request on its user (and its error class); True when it succeeded."""
    if user is not None:
        user.requests += 1
        user.last_latency = latency
        user.started = -1.0
    if error is None:
        return True
    rec.error(error)
    if user is not None:
        user.errors += 1
        user.state = UserState.ERROR
    return False


class _Reading:
    """What reading one response found so far (kept when a read fails half-way)."""

    __slots__ = ("chunks", "events", "first", "nbytes")

    def __init__(self) -> None:
        self.first: float | None = None
        self.chunks = 0
        self.events = 0
        self.nbytes = 0


def _body_class(prep: Prepared, data: bytes, tokens: Tokens, rec: Recorder) -> ErrorClass | None:
    """The protocol's verdict on a complete 2xx body; a reader that raises found a wrong shape."""
    try:
        return prep.protocol.body(prep.kind, data, tokens)
    except Exception as exc:
        rec.reason(ErrorClass.MALFORMED, exc)
        return ErrorClass.MALFORMED


async def _read_stream(
    resp: aiohttp.ClientResponse,
    prep: Prepared,
    rec: Recorder,
    user: UserStatus | None,
    tokens: Tokens,
    keep: list[bytes] | None,
    got: _Reading,
) -> ErrorClass | None:
    """Read an SSE answer event by event, timing tokens; returns its error class or None."""
    stream_event = prep.protocol.stream_event
    parser = SSEParser(prep.max_event)
    itl = rec.hist["itl_ms"]
    last = 0.0
    done = False
    error: ErrorClass | None = None
    first: float | None = None
    chunks = events = 0
    async for chunk in resp.content.iter_any():
        now = perf_counter()
        got.nbytes += len(chunk)
        for event, payload in parser.feed(chunk):
            events += 1
            if keep is not None and len(keep) < 64:
                keep.append(payload)
            try:
                kind = stream_event(event, payload, tokens)
            except Exception as exc:  # a reader tripping on a shape the protocol does not have
                rec.reason(ErrorClass.MALFORMED, exc)
                kind = ErrorClass.MALFORMED
            if kind == CONTENT:
                chunks += 1
                if first is None:
                    got.first = first = now
                    if user is not None:
                        user.state = UserState.STREAMING
                else:
                    itl.record_ms(formulas.itl_ms(last, now))
                last = now
            elif kind == IGNORE:
                continue
            elif kind == DONE:
                done = True
            elif error is None:
                error = kind
    got.chunks, got.events = chunks, events
    if error is None and not done:
        # no event at all, and not an event stream (an HTML page, say): not a cut-off stream
        ctype = resp.headers.get("Content-Type", "")
        if events or "event-stream" in ctype:
            error = ErrorClass.RESET
        else:
            error = ErrorClass.MALFORMED
            rec.reason(error, ValueError(f"no SSE event in a {ctype[:40] or 'untyped'} answer"))
    return error


async def execute(
    session: aiohttp.ClientSession,
    prep: Prepared,
    rec: Recorder,
    user: UserStatus | None = None,
    intended: float | None = None,
) -> bool:
    """Send ``prep``, record everything about it into ``rec``; True if it succeeded."""
    keep: list[bytes] | None = [] if prep.checks else None  # bodies/events, only for checks
    resp_headers = None
    status: int | None = None
    sent = perf_counter()
    if intended is None:
        intended = sent
    else:
        rec.hist["send_lag_ms"].record_ms((sent - intended) * 1000.0)
    if user is not None:
        user.state = UserState.CONNECTING
        user.started = sent
    error: ErrorClass | None = None
    tokens = Tokens()
    got = _Reading()
    end = sent
    try:
        async with session.request(
            prep.method, prep.url, data=prep.body, headers=prep.headers
        ) as resp:
            rec.hist["headers_ms"].record_ms((perf_counter() - sent) * 1000.0)
            status = resp.status
            rec.status(status)
            if user is not None:
                user.state = UserState.WAITING
            error = status_class(status)
            if keep is not None:
                resp_headers = resp.headers
            if error is not None or not prep.stream:
                data = await read_body(resp, prep.max_body)
                end = perf_counter()
                got.nbytes = len(data)
                if keep is not None:
                    keep.append(data)
                if error is not None and status in prep.accept:
                    error = None  # a status the request's checks accept is not a failure
                elif error is None:
                    error = _body_class(prep, data, tokens, rec)
            else:
                error = await _read_stream(resp, prep, rec, user, tokens, keep, got)
                end = perf_counter()
    except asyncio.CancelledError:
        rec.cancelled += 1
        if user is not None:
            user.state = UserState.STOPPED
        raise
    except Exception as exc:  # any fault of this request is counted; the user goes on
        end = perf_counter()
        error = exception_class(exc)
        rec.reason(error, exc)
    if prep.checks:
        try:
            record_checks(prep.checks, rec, status, resp_headers, keep or [])
        except Exception as exc:  # a check tripping on an odd answer fails the request
            rec.reason(ErrorClass.MALFORMED, exc)
            error = error or ErrorClass.MALFORMED
    return _book(rec, user, prep, intended, sent, end, error, tokens, got)


def _book(
    rec: Recorder,
    user: UserStatus | None,
    prep: Prepared,
    intended: float,
    sent: float,
    end: float,
    error: ErrorClass | None,
    tokens: Tokens,
    got: _Reading,
) -> bool:
    """Record a finished request's latency, tokens and outcome; True if it succeeded."""
    rec.requests += 1
    rec.bytes += got.nbytes
    latency = formulas.e2e_ms(intended, end)
    latency_actual = formulas.e2e_ms(sent, end)
    rec.hist["latency_ms"].record_ms(latency)
    rec.hist["latency_actual_ms"].record_ms(latency_actual)
    first = got.first
    ttft = formulas.ttft_ms(sent, first) if first is not None and error is None else None
    if prep.label:  # empty when the run has one label only: its row would repeat the totals
        rec.label(prep.label).record(latency, error is None, ttft)
    if not settle(rec, user, latency, error):
        return False
    rec.ok += 1
    if ttft is not None:
        rec.hist["ttft_ms"].record_ms(ttft)
        if user is not None:
            user.last_ttft = ttft
        if tokens.output is not None:
            rec.tokens_from_usage += 1
            output = tokens.output
        else:
            rec.tokens_counted += 1
            output = got.chunks
        tpot = formulas.tpot_ms(latency_actual, ttft, output)
        if tpot is not None:
            rec.hist["tpot_ms"].record_ms(tpot)
        rec.output_tokens += output
    elif tokens.output is not None:
        rec.tokens_from_usage += 1
        rec.output_tokens += tokens.output
    if tokens.input is not None:
        rec.input_tokens += tokens.input
    if user is not None:
        user.state = UserState.IDLE
    return True
