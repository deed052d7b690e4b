"""One OpenAI Batch API job, measured step by step.

upload (multipart, purpose=batch) → verify the upload (metadata or content) → create the batch
→ poll with exponential backoff to a terminal status → download the output and error files →
join their lines on ``custom_id`` and check them against ``request_counts`` and the input. A
batch "completed" with no successful line is a failure. Each step's latency is recorded under
its own label (``batch upload``, ``batch verify``, ``batch create``, ``batch poll``,
``batch download``), as are the job's whole time (``batch job``) and the batch's completion time
from create to the terminal status seen (``batch completion``). A job counts as one request.
"""

from __future__ import annotations

import asyncio
import json
from time import perf_counter
from typing import Any

import aiohttp
from aiohttp.http_exceptions import HttpProcessingError, LineTooLong

from loadtui.engine.client import UserStatus, exception_class, settle
from loadtui.engine.protocols import (
    JSONObject,
    Prepared,
    join_url,
    json_object,
    status_class,
    token_count,
)
from loadtui.engine.tls import client_ssl
from loadtui.engine.wire import BodyTooLarge
from loadtui.metrics import formulas
from loadtui.metrics.stats import Recorder
from loadtui.model.outcomes import ErrorClass, UserState
from loadtui.model.plan import TargetSpec
from loadtui.model.workflows import BatchInput, BatchSpec

__all__ = ["aiohttp_class", "batch_session", "read_body", "run_batch_job"]

_TERMINAL = ("completed", "failed", "expired", "cancelled")


class _Failed(Exception):
    def __init__(self, error: ErrorClass) -> None:
        self.error = error


class _Steps:
    """The HTTP steps of one job: its session, recorder, base URL, headers and body limit."""

    __slots__ = ("prep", "rec", "session")

    def __init__(self, session: aiohttp.ClientSession, prep: Prepared, rec: Recorder) -> None:
        self.session = session
        self.prep = prep
        self.rec = rec

    async def call(
        self,
        label: str,
        method: str,
        path: str,
        form: aiohttp.FormData | None = None,
        body: JSONObject | None = None,
    ) -> bytes:
        """One HTTP step: timed under ``label``; a failure ends the job with its error class."""
        rec = self.rec
        url = join_url(self.prep.url, path)
        start = perf_counter()
        error: ErrorClass | None = None
        data = b""
        try:
            async with self.session.request(
                method, url, headers=self.prep.headers, data=form, json=body
            ) as resp:
                rec.status(resp.status)
                data = await read_body(resp, self.prep.max_body)
                error = status_class(resp.status)
        except Exception as exc:  # every fault of a step is counted; only cancellation propagates
            error = aiohttp_class(exc)
            rec.reason(error, exc)
        rec.bytes += len(data)
        rec.label(label).record(formulas.e2e_ms(start, perf_counter()), error is None)
        if error is not None:
            raise _Failed(error)
        return data

    async def call_json(
        self,
        label: str,
        method: str,
        path: str,
        form: aiohttp.FormData | None = None,
        body: JSONObject | None = None,
    ) -> JSONObject:
        """A step whose answer must be a JSON object."""
        obj = json_object(await self.call(label, method, path, form, body))
        if obj is None:
            raise _Failed(ErrorClass.MALFORMED)
        return obj


def batch_session(target: TargetSpec) -> aiohttp.ClientSession:
    """The session a worker's batch jobs share: the target's TLS setting and timeouts."""
    connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=300, ssl=client_ssl(target))
    timeout = aiohttp.ClientTimeout(total=target.timeout, sock_connect=target.connect_timeout)
    return aiohttp.ClientSession(
        connector=connector, timeout=timeout, auto_decompress=False, raise_for_status=False
    )


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


def aiohttp_class(exc: Exception) -> ErrorClass:
    """The error class of an exception raised by a step sent with aiohttp."""
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
    if isinstance(exc, aiohttp.ClientConnectorError):  # before ClientOSError, its base class
        refused = isinstance(exc.os_error, ConnectionRefusedError)
        return ErrorClass.CONNECT_REFUSED if refused else ErrorClass.CONNECT_ERROR
    reset = (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError, aiohttp.ClientOSError)
    if isinstance(exc, reset):
        return ErrorClass.RESET
    return exception_class(exc)  # timeouts, size limits, the rest


def _id(obj: JSONObject) -> str:
    value = obj.get("id")
    if not isinstance(value, str):
        raise _Failed(ErrorClass.MALFORMED)
    return value


def _lines(data: bytes) -> list[JSONObject]:
    try:
        lines = [json.loads(line) for line in data.splitlines() if line.strip()]
    except ValueError:
        raise _Failed(ErrorClass.MALFORMED) from None
    if not all(isinstance(line, dict) for line in lines):
        raise _Failed(ErrorClass.MALFORMED)
    return lines


async def _job(
    session: aiohttp.ClientSession, prep: Prepared, rec: Recorder, user: UserStatus | None
) -> int:
    """Run the job; returns its output tokens. Raises _Failed with the job's error class."""
    batch_input, spec = prep.extra or (None, None)
    if batch_input is None or spec is None:
        raise TypeError("a batch request without its input file")
    steps = _Steps(session, prep, rec)
    file_id = await _upload(steps, batch_input, spec)
    batch = await _complete(steps, file_id, spec, user)
    if user is not None:
        user.state = UserState.STREAMING
    if batch["status"] != "completed":
        raise _Failed(ErrorClass.BATCH_FAILED)
    out: list[JSONObject] = []
    err: list[JSONObject] = []
    for key, into in (("output_file_id", out), ("error_file_id", err)):
        fid = batch.get(key)
        if fid:
            data = await steps.call("batch download", "GET", f"/v1/files/{fid}/content")
            into.extend(_lines(data))
    _tally(rec, batch, batch_input, out, err)
    tokens = 0
    for line in out:
        usage = ((line.get("response") or {}).get("body") or {}).get("usage") or {}
        tokens += token_count(usage.get("completion_tokens")) or 0
    return tokens


async def _upload(steps: _Steps, batch_input: BatchInput, spec: BatchSpec) -> str:
    """Upload the input file and verify it arrived whole; returns its file id."""
    form = aiohttp.FormData()
    form.add_field("purpose", "batch")
    form.add_field(
        "file", batch_input.data, filename="requests.jsonl", content_type="application/jsonl"
    )
    file_id = _id(await steps.call_json("batch upload", "POST", "/v1/files", form=form))
    if spec.verify == "content":
        path = f"/v1/files/{file_id}/content"
        ok = await steps.call("batch verify", "GET", path) == batch_input.data
    else:
        meta = await steps.call_json("batch verify", "GET", f"/v1/files/{file_id}")
        ok = meta.get("bytes") == len(batch_input.data) and meta.get("purpose") == "batch"
    steps.rec.check("batch upload verified", ok)
    if not ok:
        raise _Failed(ErrorClass.BATCH_MISMATCH)
    return file_id


async def _complete(
    steps: _Steps, file_id: str, spec: BatchSpec, user: UserStatus | None
) -> JSONObject:
    """Create the batch and poll it (exponential backoff) to a terminal status; returns it."""
    body = {
        "input_file_id": file_id,
        "endpoint": spec.endpoint,
        "completion_window": spec.completion_window,
    }
    created_at = perf_counter()
    batch = await steps.call_json("batch create", "POST", "/v1/batches", body=body)
    batch_id = _id(batch)
    if user is not None:
        user.state = UserState.WAITING
    wait = spec.poll_initial
    while batch.get("status") not in _TERMINAL:
        if perf_counter() - created_at > spec.job_timeout:
            raise _Failed(ErrorClass.TIMEOUT)
        await asyncio.sleep(wait)
        wait = min(wait * spec.poll_factor, spec.poll_max)
        batch = await steps.call_json("batch poll", "GET", f"/v1/batches/{batch_id}")
    steps.rec.label("batch completion").record(formulas.e2e_ms(created_at, perf_counter()), True)
    return batch


def _tally(
    rec: Recorder,
    batch: JSONObject,
    batch_input: BatchInput,
    out: list[JSONObject],
    err: list[JSONObject],
) -> None:
    """Check the output and error lines against the input and ``request_counts``."""
    counts = batch.get("request_counts") or {}
    ok_ids = [
        line.get("custom_id")
        for line in out
        if (line.get("response") or {}).get("status_code") == 200
    ]
    ids: list[Any] = [line.get("custom_id") for line in out + err]  # as sent: any JSON value
    joined = sorted(ids) == sorted(batch_input.custom_ids)
    counted = (
        counts.get("total") == len(batch_input.custom_ids)
        and counts.get("completed") == len(ok_ids)
        and counts.get("failed") == len(out) + len(err) - len(ok_ids)
    )
    rec.check("batch lines joined on custom_id", joined)
    rec.check("batch files match request_counts", counted)
    rec.check("batch has successful lines", bool(ok_ids))
    if not ok_ids:
        raise _Failed(ErrorClass.BATCH_FAILED)  # "completed" with nothing completed
    if not (joined and counted):
        raise _Failed(ErrorClass.BATCH_MISMATCH)


async def run_batch_job(
    session: aiohttp.ClientSession,
    prep: Prepared,
    rec: Recorder,
    user: UserStatus | None = None,
) -> bool:
    """One job, recorded like a request (latency = the whole job); True if it passed."""
    start = perf_counter()
    if user is not None:
        user.state = UserState.CONNECTING
        user.started = start
    error: ErrorClass | None = None
    tokens = 0
    try:
        tokens = await _job(session, prep, rec, user)
    except _Failed as failed:
        error = failed.error
    except asyncio.CancelledError:
        rec.cancelled += 1
        raise
    except (AttributeError, TypeError, KeyError, ValueError) as exc:
        error = ErrorClass.MALFORMED  # a file, batch or line not shaped as the Batch API's
        rec.reason(error, exc)
    except Exception as exc:  # any other fault is counted too; the user goes on
        error = aiohttp_class(exc)
        rec.reason(error, exc)
    return _book_job(rec, user, formulas.e2e_ms(start, perf_counter()), error, tokens)


def _book_job(
    rec: Recorder, user: UserStatus | None, latency: float, error: ErrorClass | None, tokens: int
) -> bool:
    """Book a finished job as one request (its latency both intended and actual, its tokens
    from the output lines' usage); True if it passed."""
    rec.requests += 1
    rec.hist["latency_ms"].record_ms(latency)
    rec.hist["latency_actual_ms"].record_ms(latency)
    rec.label("batch job").record(latency, error is None)
    if not settle(rec, user, latency, error):
        if rec.slo is not None:  # judged, as every finished request, and met no SLO
            rec.slo_judged += 1
        return False
    rec.ok += 1
    rec.output_tokens += tokens
    if rec.slo is not None:  # a job read whole: its latency is its first byte too
        rec.judge(latency, None, None, latency, tokens)
    if user is not None:
        user.state = UserState.IDLE
    return True
