"""One request, measured: the hot path.

A request goes through four steps, each a small function: it is *prepared* before the run
(``protocols``: URL, headers and body as bytes, once per variant), *sent* (``start`` takes the
send time, ``Wire.exchange`` writes it and waits for the answer's head, ``arrived`` notes the
head), *read* whole (``Conn.body`` + ``read_whole``) or as a stream (``StreamRead``, fed by
``Conn.stream``) into an ``Outcome``, its checks judged (``judge_checks``), and *booked*
(``book``: the one place a finished request reaches the ``Recorder``); ``execute`` runs them
in that order. ITL gaps are the exception: ``StreamRead`` records them into the histogram as
they happen, so a stream costs no list of gaps and each gap counts in the interval it happened
in.

loadtui's own HTTP/1.1 client (``engine/wire.py``) carries the bytes: aiohttp's client was most
of a request's CPU (docs/performance.md, "Where the worker's time goes"). Timestamps are
``perf_counter()`` readings taken in the worker process as the event loop hands a read to the
connection (``Conn.data_received``) — a streamed body is read right there, so every event
completed by a read shares that read's time. Faults are classified and recorded, never raised;
only cancellation propagates: every exception while sending, reading or classifying a request
becomes an error class (its message kept as a reason) and the user goes on. Bodies, heads and
SSE events are read up to the target's size limits, so a server that never stops sending costs
a bounded amount of memory (``too_large``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, Callable, Mapping
from time import perf_counter
from urllib.parse import urlsplit

from multidict import CIMultiDictProxy

from loadtui.engine.checks import judge
from loadtui.engine.protocols import (
    CONTENT,
    DONE,
    IGNORE,
    ContentTemplate,
    Prepared,
    Reader,
    status_class,
)
from loadtui.engine.requestlog import RequestLog
from loadtui.engine.sse import EventTooLarge, SSEParser
from loadtui.engine.wire import (
    BodyTooLarge,
    Conn,
    ConnectFailed,
    Disconnected,
    HeadTooLarge,
    NotHTTP,
    Wire,
)
from loadtui.metrics import formulas
from loadtui.metrics.histogram import Histogram
from loadtui.metrics.stats import Recorder
from loadtui.model.outcomes import ErrorClass, Outcome, UserState, reason_text

__all__ = [
    "BodyTooLarge",
    "StreamRead",
    "UserStatus",
    "arrived",
    "book",
    "exception_class",
    "execute",
    "failure_class",
    "keep_sample",
    "read_stream",
    "read_whole",
    "settle",
    "start",
]


# The states a request sets on its user, read as module constants: on Python 3.11 an enum member
# read through its class (``UserState.IDLE``) costs ~0.17 µs more than a global, and every
# request sets three of them.
_IDLE, _CONNECTING, _WAITING = UserState.IDLE, UserState.CONNECTING, UserState.WAITING
_STREAMING = UserState.STREAMING

KEEP_ALL = 1 << 62
"""Events kept of a conversation's answer: all of them (its text goes into the history)."""


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
    if isinstance(exc, ConnectFailed):
        return ErrorClass.CONNECT_REFUSED if exc.refused else ErrorClass.CONNECT_ERROR
    if isinstance(exc, (Disconnected, ConnectionError)):
        return ErrorClass.RESET
    return ErrorClass.OTHER


def exception_class(exc: Exception) -> ErrorClass:
    """The error class of any exception raised by one request (transport, parsing, limits)."""
    if isinstance(exc, (BodyTooLarge, EventTooLarge, HeadTooLarge)):
        return ErrorClass.TOO_LARGE
    if isinstance(exc, NotHTTP):  # not an HTTP answer, or a body framed against the rules
        return ErrorClass.MALFORMED
    return failure_class(exc)


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
    wire: Wire,
    prep: Prepared,
    rec: Recorder,
    user: UserStatus | None = None,
    intended: float | None = None,
    log: RequestLog | None = None,
    answer: list[bytes] | None = None,
) -> bool:
    """Send ``prep``, read its answer, book everything about it into ``rec`` (and, with
    ``--record-requests``, one line into ``log``); True if it succeeded. ``answer``, given
    for a conversation's turn only, receives the body or every event (its text is the next
    turn's history): a request without one reads as it always did."""
    out = start(prep, user, intended)
    keep: list[bytes] | None = [] if prep.checks else None  # bodies/events, only for checks
    limit = 64
    if answer is not None:  # a conversation's turn: its whole answer is kept for the history
        keep, limit = answer, KEEP_ALL
    conn: Conn | None = None
    data: bytes | None = None
    try:
        conn = await wire.exchange(prep)
        arrived(conn, out, user)
        if 300 <= conn.status < 400 and conn.status != 304 and conn.status not in prep.accept:
            redirected(conn, out)
        # read: whole (an error status, or not streamed) or as SSE; the branch is here, not
        # in a function of its own, to save a coroutine per request
        if out.error is not None or not prep.stream:
            data = await conn.body(prep.max_body)
            out.end = conn.end_at
            read_whole(prep, out, data, keep)
        else:
            # a labelled stream (runs of several labels) books its gaps under its label;
            # the recorder adds them to the run's ITL when it drains
            itl = rec.itl_of(out.label) if out.label else rec.hist["itl_ms"]
            reading = StreamRead(prep, out, itl, user, keep, limit)
            await conn.stream(reading.feed)
            if not reading.close() and out.error is None:
                unfinished(out, conn.headers().get("Content-Type", ""))
            out.end = conn.end_at
    except asyncio.CancelledError:
        if conn is not None:
            wire.release(conn)
        book_cancelled(rec, user, out)
        raise
    except Exception as exc:  # any fault of this request is counted; the user goes on
        out.end = perf_counter()
        out.error = exception_class(exc)
        out.note(out.error, exc)
    sample = out.error is not None and rec.samples.wants(out.error)
    headers = None
    if conn is not None:
        if (keep is not None or sample) and conn.status:
            headers = conn.headers()  # parsed only for checks and an error sample
        wire.release(conn)
    if keep is not None:
        judge_checks(prep, out, headers, keep)
    if sample:
        keep_sample(rec, out, headers, data)
    ok = book(rec, user, out)
    if log is not None:
        log.add(out, None if user is None else user.uid)
    return ok


def keep_sample(
    rec: Recorder, out: Outcome, headers: CIMultiDictProxy[str] | None, data: bytes | None
) -> None:
    """Keep a failed request as an example of its class: status, headers, the start of the
    body read whole (none for a stream cut or a failure before the answer), and its reason —
    the exception that classed it, or the status line."""
    assert out.error is not None
    reason = reason_text(out.reasons[-1][1]) if out.reasons else None
    if reason is None and out.status is not None:
        reason = f"HTTP {out.status}"
    items = None if headers is None else headers.items()
    rec.samples.add(out.error, out.sent, out.status, out.label, reason, items, data)


def start(prep: Prepared, user: UserStatus | None, intended: float | None) -> Outcome:
    """The outcome of a request about to be sent, with its send time taken now."""
    sent = perf_counter()
    if user is not None:
        user.state = _CONNECTING
        user.started = sent
    return Outcome(prep.label, sent, intended, sent)


def arrived(conn: Conn, out: Outcome, user: UserStatus | None) -> None:
    """The answer's head is in: its time (when its bytes arrived), the status, and the
    status's error class."""
    out.headers_at = conn.head_at
    status = out.status = conn.status
    if user is not None:
        user.state = _WAITING
    out.error = status_class(status)


class Redirected(Exception):
    """A redirect, which loadtui does not follow (the request's reason)."""


def redirected(conn: Conn, out: Outcome) -> None:
    """A 3xx answer: not followed — an answer is measured as it comes, and a target that
    redirects its API calls is misconfigured (http to https, a missing slash) — so the request
    fails as ``other``, its reason naming the status and where it pointed (scheme and host
    only: a path may hold a key)."""
    location = urlsplit(conn.headers().get("Location", ""))
    where = f"{location.scheme}://{location.netloc}" if location.netloc else "a path"
    out.error = ErrorClass.OTHER
    out.note(out.error, Redirected(f"HTTP {conn.status}, not followed, to {where}"))


def read_whole(prep: Prepared, out: Outcome, data: bytes, keep: list[bytes] | None) -> None:
    """A complete body: a status the checks accept is no failure; a 2xx body is judged by the
    protocol (a reader that raises found a wrong shape)."""
    out.nbytes = len(data)
    if keep is not None:
        keep.append(data)
    if out.error is not None:
        if out.status in prep.accept:
            out.error = None  # a status the request's checks accept is not a failure
        return
    try:
        out.error = _reader(prep).body(prep.kind, data, out.tokens)
    except Exception as exc:
        out.error = ErrorClass.MALFORMED
        out.note(ErrorClass.MALFORMED, exc)


class StreamRead:
    """An SSE answer read event by event as its reads arrive (``feed``, called by the
    connection in the event loop's callback, with the read's arrival time), each event timed by
    the read that completed it; ITL gaps go straight into ``itl``. ``close`` puts the counts
    into the outcome and says whether the stream said it was done.

    No call per event beyond the parser and the protocol's reader — or, for a chunk shaped like
    an earlier content chunk, its ``ContentTemplate`` instead of a JSON parse: this is where a
    streaming run spends its time."""

    __slots__ = (
        "contents",
        "done",
        "error",
        "events",
        "first",
        "itl",
        "keep",
        "keep_max",
        "last",
        "out",
        "parser",
        "stream_event",
        "template",
        "template_of",
        "tokens",
        "tries",
        "user",
        "worst",
    )

    def __init__(
        self,
        prep: Prepared,
        out: Outcome,
        itl: Histogram,
        user: UserStatus | None = None,
        keep: list[bytes] | None = None,
        keep_max: int = 64,
    ) -> None:
        reader = _reader(prep)
        self.stream_event = reader.stream_event
        # a protocol that can tell a content chunk by its shape skips the JSON parse of the
        # rest (protocols.ContentTemplate); a few tries per stream, so odd servers cost no more
        self.template_of: Callable[[bytes], ContentTemplate | None] | None
        self.template_of = getattr(reader, "content_template", None)
        self.template: ContentTemplate | None = None
        self.tries = 0 if self.template_of is None else 3
        self.parser = SSEParser(prep.max_event)
        self.out = out
        self.tokens = out.tokens
        self.itl = itl
        self.user = user
        self.keep = keep
        self.keep_max = keep_max
        self.last = 0.0
        self.first: float | None = None
        self.done = False
        self.error: ErrorClass | None = None
        self.contents = self.events = 0
        self.worst = -1.0

    def feed(self, chunk: bytes, now: float) -> None:
        """A read of the body that arrived at ``now``; an event past the size limit raises
        ``EventTooLarge`` (the request's fault)."""
        out = self.out
        out.nbytes += len(chunk)
        for event, payload in self.parser.feed(chunk):
            self.events += 1
            keep = self.keep
            if keep is not None and len(keep) < self.keep_max:
                keep.append(payload)
            try:
                kind: int | ErrorClass
                template = self.template
                if template is not None and template.matches(payload):
                    kind = CONTENT
                else:
                    kind = self.stream_event(event, payload, self.tokens)
                    if kind == CONTENT and self.tries and self.template_of is not None:
                        self.tries -= 1
                        self.template = _template(self.template_of, payload)
            except Exception as exc:  # a reader tripping on a shape the protocol does not have
                out.note(ErrorClass.MALFORMED, exc)
                kind = ErrorClass.MALFORMED
            if kind == CONTENT:
                self.contents += 1
                if self.first is None:
                    out.first = self.first = now
                    if self.user is not None:
                        self.user.state = _STREAMING
                else:
                    gap = formulas.itl_ms(self.last, now)
                    self.itl.record_ms(gap)
                    if gap > self.worst:  # the request's worst stall, for its ITL SLO
                        self.worst = gap
                self.last = now
            elif kind == IGNORE:
                continue
            elif kind == DONE:
                self.done = True
            elif self.error is None and isinstance(kind, ErrorClass):
                self.error = kind

    def close(self) -> bool:
        """The stream ended: its counts and error into the outcome; True when it said it was
        done."""
        out = self.out
        out.chunks, out.events, out.error = self.contents, self.events, self.error
        if self.worst >= 0.0:
            out.itl_max = self.worst
        return self.done


async def read_stream(
    chunks: AsyncIterable[bytes],
    prep: Prepared,
    out: Outcome,
    itl: Histogram,
    user: UserStatus | None = None,
    keep: list[bytes] | None = None,
    keep_max: int = 64,
) -> bool:
    """``StreamRead`` over the reads of ``chunks``, each timed as it is taken (recorded streams
    in tests and benchmarks; a request's own stream is fed by its connection). True when the
    stream said it was done."""
    reading = StreamRead(prep, out, itl, user, keep, keep_max)
    async for chunk in chunks:
        reading.feed(chunk, perf_counter())
    return reading.close()


def unfinished(out: Outcome, content_type: str) -> None:
    """A stream that ended without its end marker: cut off (RESET) — or, with no event at all
    and not an event stream (an HTML page, say), never a stream (MALFORMED)."""
    if out.events or "event-stream" in content_type:
        out.error = ErrorClass.RESET
        return
    out.error = ErrorClass.MALFORMED
    out.note(out.error, ValueError(f"no SSE event in a {content_type[:40] or 'untyped'} answer"))


def judge_checks(
    prep: Prepared, out: Outcome, headers: Mapping[str, str] | None, payloads: list[bytes]
) -> None:
    """Evaluate the request's checks into ``out``; a check tripping on an odd answer fails the
    request (the verdicts before it still count)."""
    out.checks = []
    try:
        judge(prep.checks, out.status, headers, payloads, out.checks)
    except Exception as exc:
        out.note(ErrorClass.MALFORMED, exc)
        out.error = out.error or ErrorClass.MALFORMED


def _template(
    template_of: Callable[[bytes], ContentTemplate | None], payload: bytes
) -> ContentTemplate | None:
    """``template_of(payload)``, None if it fails: a failure to make the template must not
    turn the content chunk it was made of (already read as content) into MALFORMED. Called a
    few times a stream at most, never per chunk."""
    try:
        return template_of(payload)
    except Exception:
        return None


def _reader(prep: Prepared) -> Reader:
    if prep.protocol is None:
        raise TypeError(f"a {prep.kind} request has no protocol to read its answer")
    return prep.protocol


def book(rec: Recorder, user: UserStatus | None, out: Outcome) -> bool:
    """Record a finished request — latency, TTFT, tokens, outcome — into the interval's
    recorder and onto its user; True if it succeeded."""
    _book_seen(rec, out)
    if out.checks:
        for name, passed in out.checks:
            rec.check(name, passed)
    rec.requests += 1
    rec.bytes += out.nbytes
    latency = formulas.e2e_ms(out.sent if out.intended is None else out.intended, out.end)
    latency_actual = formulas.e2e_ms(out.sent, out.end)
    rec.hist["latency_ms"].record_ms(latency)
    rec.hist["latency_actual_ms"].record_ms(latency_actual)
    error = out.error
    first = out.first
    ttft = formulas.ttft_ms(out.sent, first) if first is not None and error is None else None
    # empty when the run has one label only: its row would repeat the totals
    labelled = rec.label(out.label) if out.label else None
    if labelled is not None:
        labelled.record(latency, error is None, ttft)
    if not settle(rec, user, latency, error):
        if rec.slo is not None:  # a failed request is judged and meets no SLO
            rec.slo_judged += 1
            out.slo_ok = False
        return False
    rec.ok += 1
    output, tpot = _book_tokens(rec, out, latency_actual, ttft)
    if tpot is not None and labelled is not None:
        labelled.tpot.record_ms(tpot)
    if rec.slo is not None:
        out.slo_ok = judge_slo(rec, out, latency, latency_actual, ttft, output, tpot)
    if user is not None:
        if ttft is not None:
            user.last_ttft = ttft
        user.state = _IDLE
    return True


def book_cancelled(rec: Recorder, user: UserStatus | None, out: Outcome) -> None:
    """A request cancelled (the run is stopping): what it saw so far, and the cancellation —
    not a request, not an error."""
    _book_seen(rec, out)
    rec.cancelled += 1
    if user is not None:
        user.state = UserState.STOPPED


def _book_seen(rec: Recorder, out: Outcome) -> None:
    """What a request met on its way, finished or not: send lag, headers, status, reasons."""
    if out.intended is not None:
        rec.hist["send_lag_ms"].record_ms((out.sent - out.intended) * 1000.0)
    if out.headers_at is not None:
        rec.hist["headers_ms"].record_ms((out.headers_at - out.sent) * 1000.0)
    if out.status is not None:
        rec.status(out.status)
    if out.reasons:
        for error, exc in out.reasons:
            rec.reason(error, exc)


def judge_slo(
    rec: Recorder,
    out: Outcome,
    latency: float,
    latency_actual: float,
    ttft: float | None,
    output: int,
    tpot: float | None,
) -> bool:
    """A successful request against the run's SLOs (docs/metrics.md, "SLOs and goodput"):
    TTFT, or with no content chunk (an answer read whole) its actual latency — first byte is
    last byte; its worst ITL gap; its TPOT (as ``_book_tokens`` recorded it); its latency.
    True if it met every one."""
    first = latency_actual if ttft is None else ttft
    return rec.judge(first, out.itl_max, tpot, latency, output)


def _book_tokens(
    rec: Recorder, out: Outcome, latency_actual: float, ttft: float | None
) -> tuple[int, float | None]:
    """A successful request's TTFT, TPOT and tokens: output tokens from the server's usage
    when it sent one, else (a stream) the content events counted. Returns its output tokens
    (0 when unknown) and its TPOT (None without one), for the SLOs."""
    output, tpot = 0, None
    tokens = out.tokens
    if ttft is not None:
        rec.hist["ttft_ms"].record_ms(ttft)
        if tokens.output is not None:
            rec.tokens_from_usage += 1
            output = tokens.output
        else:
            rec.tokens_counted += 1
            output = out.chunks
        tpot = formulas.tpot_ms(latency_actual, ttft, output)
        if tpot is not None:
            rec.hist["tpot_ms"].record_ms(tpot)
        rec.output_tokens += output
    elif tokens.output is not None:
        rec.tokens_from_usage += 1
        output = tokens.output
        rec.output_tokens += output
    if tokens.input is not None:
        rec.input_tokens += tokens.input
    return output, tpot
