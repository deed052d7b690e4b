"""One request, measured: the hot path.

aiohttp carries the bytes (chosen by benchmark over httpx's default transport — see
docs/performance.md). Timestamps are ``perf_counter()`` readings taken the moment a read
returns, in the worker process; every event completed by that read shares its timestamp.
Faults are classified and recorded, never raised; only cancellation propagates.
"""

from __future__ import annotations

import asyncio
from time import perf_counter

import aiohttp

from loadtui.engine.checks import record_checks
from loadtui.engine.protocols import (
    CONTENT,
    DONE,
    IGNORE,
    Prepared,
    Tokens,
    status_class,
)
from loadtui.engine.sse import SSEParser
from loadtui.metrics import formulas
from loadtui.metrics.stats import Recorder
from loadtui.model.outcomes import ErrorClass, UserState

__all__ = ["UserStatus", "execute", "failure_class", "settle"]


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


async def execute(
    session: aiohttp.ClientSession,
    prep: Prepared,
    rec: Recorder,
    user: UserStatus | None = None,
    intended: float | None = None,
) -> bool:
    """Send ``prep``, record everything about it into ``rec``; True if it succeeded."""
    protocol = prep.protocol
    checks = prep.checks
    keep: list[bytes] | None = [] if checks else None  # bodies/events, only for checks
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
    first: float | None = None
    tokens = Tokens()
    chunks = 0
    nbytes = 0
    end = sent
    try:
        async with session.request(
            prep.method, prep.url, data=prep.body, headers=prep.headers
        ) as resp:
            headers_at = perf_counter()
            rec.hist["headers_ms"].record_ms((headers_at - sent) * 1000.0)
            status = resp.status
            rec.status(status)
            if user is not None:
                user.state = UserState.WAITING
            error = status_class(status)
            if keep is not None:
                resp_headers = resp.headers
            accepted = error is not None and status in prep.accept
            if error is not None or not prep.stream:
                data = await resp.read()
                end = perf_counter()
                nbytes = len(data)
                if keep is not None:
                    keep.append(data)
                if accepted:
                    error = None  # a status the request's checks accept is not a failure
                elif error is None:
                    error = protocol.body(prep.kind, data, tokens)
            else:
                parser = SSEParser()
                last = 0.0
                itl = rec.hist["itl_ms"]
                done = False
                async for chunk in resp.content.iter_any():
                    now = perf_counter()
                    nbytes += len(chunk)
                    for event, payload in parser.feed(chunk):
                        if keep is not None and len(keep) < 64:
                            keep.append(payload)
                        kind = protocol.stream_event(event, payload, tokens)
                        if kind == CONTENT:
                            chunks += 1
                            if first is None:
                                first = now
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
                end = perf_counter()
                if error is None and not done:
                    error = ErrorClass.RESET
    except asyncio.CancelledError:
        rec.cancelled += 1
        if user is not None:
            user.state = UserState.STOPPED
        raise
    except (TimeoutError, aiohttp.ClientError, ValueError, OSError) as exc:
        error = failure_class(exc)
        end = perf_counter()

    rec.requests += 1
    rec.bytes += nbytes
    latency = formulas.e2e_ms(intended, end)
    latency_actual = formulas.e2e_ms(sent, end)
    rec.hist["latency_ms"].record_ms(latency)
    rec.hist["latency_actual_ms"].record_ms(latency_actual)
    if checks:
        record_checks(checks, rec, status, resp_headers, keep or [])
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
            output = chunks
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
