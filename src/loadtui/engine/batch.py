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

from loadtui.engine.client import exception_class, read_body, settle
from loadtui.engine.protocols import Prepared, join_url, json_object, status_class, token_count
from loadtui.metrics import formulas
from loadtui.metrics.stats import Recorder
from loadtui.model.outcomes import ErrorClass, UserState

__all__ = ["run_batch_job"]

_TERMINAL = ("completed", "failed", "expired", "cancelled")


class _Failed(Exception):
    def __init__(self, error: ErrorClass) -> None:
        self.error = error


async def _call(
    session: aiohttp.ClientSession,
    rec: Recorder,
    label: str,
    method: str,
    url: str,
    prep: Prepared,
    **kwargs: Any,
) -> bytes:
    """One HTTP step (with the job's headers and body limit): timed under ``label``; a failure
    ends the job with its error class."""
    start = perf_counter()
    error: ErrorClass | None = None
    data = b""
    try:
        async with session.request(method, url, headers=prep.headers, **kwargs) as resp:
            rec.status(resp.status)
            data = await read_body(resp, prep.max_body)
            error = status_class(resp.status)
    except Exception as exc:  # every fault of a step is counted; only cancellation propagates
        error = exception_class(exc)
        rec.reason(error, exc)
    rec.bytes += len(data)
    rec.label(label).record(formulas.e2e_ms(start, perf_counter()), error is None)
    if error is not None:
        raise _Failed(error)
    return data


async def _call_json(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """A step whose answer must be a JSON object (``_call``'s arguments)."""
    obj = json_object(await _call(*args, **kwargs))
    if obj is None:
        raise _Failed(ErrorClass.MALFORMED)
    return obj


def _id(obj: dict[str, Any]) -> str:
    value = obj.get("id")
    if not isinstance(value, str):
        raise _Failed(ErrorClass.MALFORMED)
    return value


def _lines(data: bytes) -> list[dict[str, Any]]:
    try:
        lines = [json.loads(line) for line in data.splitlines() if line.strip()]
    except ValueError:
        raise _Failed(ErrorClass.MALFORMED) from None
    if not all(isinstance(line, dict) for line in lines):
        raise _Failed(ErrorClass.MALFORMED)
    return lines


async def _job(session: aiohttp.ClientSession, prep: Prepared, rec: Recorder, user: Any) -> int:
    """Run the job; returns its output tokens. Raises _Failed with the job's error class."""
    batch_input, spec = prep.extra
    base = prep.url
    form = aiohttp.FormData()
    form.add_field("purpose", "batch")
    form.add_field(
        "file", batch_input.data, filename="requests.jsonl", content_type="application/jsonl"
    )
    url = join_url(base, "/v1/files")
    file_id = _id(await _call_json(session, rec, "batch upload", "POST", url, prep, data=form))
    if spec.verify == "content":
        url = join_url(base, f"/v1/files/{file_id}/content")
        ok = await _call(session, rec, "batch verify", "GET", url, prep) == batch_input.data
    else:
        url = join_url(base, f"/v1/files/{file_id}")
        meta = await _call_json(session, rec, "batch verify", "GET", url, prep)
        ok = meta.get("bytes") == len(batch_input.data) and meta.get("purpose") == "batch"
    rec.check("batch upload verified", ok)
    if not ok:
        raise _Failed(ErrorClass.BATCH_MISMATCH)
    body = {
        "input_file_id": file_id,
        "endpoint": spec.endpoint,
        "completion_window": spec.completion_window,
    }
    created_at = perf_counter()
    url = join_url(base, "/v1/batches")
    batch = await _call_json(session, rec, "batch create", "POST", url, prep, json=body)
    batch_id = _id(batch)
    if user is not None:
        user.state = UserState.WAITING
    wait = spec.poll_initial
    while batch.get("status") not in _TERMINAL:
        if perf_counter() - created_at > spec.job_timeout:
            raise _Failed(ErrorClass.TIMEOUT)
        await asyncio.sleep(wait)
        wait = min(wait * spec.poll_factor, spec.poll_max)
        url = join_url(base, f"/v1/batches/{batch_id}")
        batch = await _call_json(session, rec, "batch poll", "GET", url, prep)
    rec.label("batch completion").record(formulas.e2e_ms(created_at, perf_counter()), True)
    if user is not None:
        user.state = UserState.STREAMING
    if batch["status"] != "completed":
        raise _Failed(ErrorClass.BATCH_FAILED)
    out, err = [], []
    for key, into in (("output_file_id", out), ("error_file_id", err)):
        fid = batch.get(key)
        if fid:
            url = join_url(base, f"/v1/files/{fid}/content")
            into.extend(_lines(await _call(session, rec, "batch download", "GET", url, prep)))
    counts = batch.get("request_counts") or {}
    ok_ids = [
        line.get("custom_id")
        for line in out
        if (line.get("response") or {}).get("status_code") == 200
    ]
    joined = sorted(line.get("custom_id") for line in out + err) == sorted(batch_input.custom_ids)
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
    tokens = 0
    for line in out:
        usage = ((line.get("response") or {}).get("body") or {}).get("usage") or {}
        tokens += token_count(usage.get("completion_tokens")) or 0
    return tokens


async def run_batch_job(
    session: aiohttp.ClientSession, prep: Prepared, rec: Recorder, user: Any = None
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
        error = exception_class(exc)
        rec.reason(error, exc)
    latency = formulas.e2e_ms(start, perf_counter())
    rec.requests += 1
    rec.hist["latency_ms"].record_ms(latency)
    rec.hist["latency_actual_ms"].record_ms(latency)
    rec.label("batch job").record(latency, error is None)
    if not settle(rec, user, latency, error):
        return False
    rec.ok += 1
    rec.output_tokens += tokens
    if user is not None:
        user.state = UserState.IDLE
    return True
