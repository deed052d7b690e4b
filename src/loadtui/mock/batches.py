"""The OpenAI Files and Batches APIs in the mock, with phases a client can watch.

A batch spends ``batch_phase`` seconds in each of validating, in_progress and finalizing, then
is completed (or failed, if its input does not validate). At completion it writes an output
file and, when some lines fail (``batch_line_errors``), an error file with those lines as
ordinary HTTP failures — and when every line fails, it completes with no output file and
``request_counts.completed == 0``, a real Batch API outcome clients miss. Output lines
come back in reverse order, so clients must join on ``custom_id``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import time
from collections.abc import Mapping

from loadtui.mock import web
from loadtui.mock.faults import Route, Served, openai_error
from loadtui.mock.web import FileField
from loadtui.mock.wire import JSONObject
from loadtui.model.plan import MockSpec

__all__ = ["batch_routes"]

_TERMINAL = ("completed", "failed", "cancelled", "expired")


def _fails(custom_id: str, rate: float) -> bool:
    """Deterministic per line, so a test knows exactly which lines fail."""
    if rate <= 0:
        return False
    digest = hashlib.sha256(custom_id.encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < rate


def _answer(endpoint: str, body: JSONObject) -> JSONObject:
    if endpoint == "/v1/embeddings":
        return {
            "object": "list",
            "data": [{"object": "embedding", "index": 0, "embedding": [0.001, 0.002]}],
            "model": body.get("model"),
            "usage": {"prompt_tokens": 3, "total_tokens": 3},
        }
    message = {"role": "assistant", "content": "tok0 tok1 tok2"}
    return {
        "id": "chatcmpl-mock",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model"),
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
    }


class _Store:
    def __init__(self, settings: MockSpec) -> None:
        self.settings = settings
        self.files: dict[str, JSONObject] = {}
        self.batches: dict[str, JSONObject] = {}
        self.ids = itertools.count(1)

    def add_file(self, data: bytes, filename: str, purpose: str) -> JSONObject:
        meta: JSONObject = {
            "id": f"file-mock{next(self.ids)}",
            "object": "file",
            "bytes": len(data),
            "created_at": int(time.time()),
            "filename": filename,
            "purpose": purpose,
            "status": "processed",
        }
        self.files[meta["id"]] = {"meta": meta, "data": data}
        return meta

    def advance(self, batch: JSONObject) -> JSONObject:
        """Move a batch through its phases by the time since it was created."""
        if batch["status"] in _TERMINAL:
            return batch
        phase = self.settings.batch_phase
        age = time.time() - batch["_created"]
        if batch["_invalid"] and age >= phase:
            batch.update(status="failed", failed_at=int(time.time()), errors=batch["_invalid"])
            return batch
        if age >= phase and batch["in_progress_at"] is None:
            batch.update(status="in_progress", in_progress_at=int(time.time()))
        if age >= 2 * phase and batch["finalizing_at"] is None:
            batch.update(status="finalizing", finalizing_at=int(time.time()))
        if age >= 3 * phase:
            self._complete(batch)
        elif batch["status"] == "in_progress":
            total = batch["request_counts"]["total"]
            done = int(total * min(1.0, (age - phase) / phase))
            batch["request_counts"]["completed"] = done
        return batch

    def _complete(self, batch: JSONObject) -> None:
        out, err = [], []
        for i, line in enumerate(batch["_lines"]):
            cid = line["custom_id"]
            if _fails(cid, self.settings.batch_line_errors):
                body = {"error": openai_error("injected line failure", "server_error")["error"]}
                response = {"status_code": 500, "request_id": f"req_{i}", "body": body}
                err.append(
                    {"id": f"batch_req_{i}", "custom_id": cid, "response": response, "error": None}
                )
            else:
                body = _answer(batch["endpoint"], line.get("body") or {})
                response = {"status_code": 200, "request_id": f"req_{i}", "body": body}
                out.append(
                    {"id": f"batch_req_{i}", "custom_id": cid, "response": response, "error": None}
                )
        out.reverse()  # arbitrary order: clients must join on custom_id

        def jsonl(rows: list[JSONObject]) -> bytes:
            return "".join(json.dumps(r) + "\n" for r in rows).encode()

        if out:
            batch["output_file_id"] = self.add_file(jsonl(out), "output.jsonl", "batch_output")[
                "id"
            ]
        if err:
            batch["error_file_id"] = self.add_file(jsonl(err), "errors.jsonl", "batch_output")["id"]
        batch["request_counts"] = {
            "total": len(out) + len(err),
            "completed": len(out),
            "failed": len(err),
        }
        batch.update(status="completed", completed_at=int(time.time()))


def _public(batch: JSONObject) -> JSONObject:
    return {k: v for k, v in batch.items() if not k.startswith("_")}


def _not_found(what: str) -> web.Response:
    return web.json_response(openai_error(f"No such {what}", "invalid_request_error"), status=404)


def _bad_request(message: str) -> web.Response:
    return web.json_response(openai_error(message, "invalid_request_error"), status=400)


def _create_request(raw: bytes) -> tuple[JSONObject, str, str]:
    """(body, input_file_id, endpoint) of a batch creation; ValueError, KeyError or TypeError
    when the body is not one."""
    body = json.loads(raw)
    file_id, endpoint = body["input_file_id"], body["endpoint"]
    if body.get("completion_window") != "24h":
        raise ValueError("completion_window must be '24h'")
    return body, file_id, endpoint


def _read_lines(data: bytes, endpoint: str) -> tuple[list[JSONObject], list[JSONObject]]:
    """(the input file's valid lines, a problem for each invalid one), as the API validates."""
    lines: list[JSONObject] = []
    problems: list[JSONObject] = []
    for n, raw in enumerate(data.decode(errors="replace").splitlines(), 1):
        try:
            line = json.loads(raw)
            if (
                line.get("url") != endpoint
                or line.get("method") != "POST"
                or "custom_id" not in line
            ):
                raise ValueError("url must match the endpoint, method POST, custom_id set")
            lines.append(line)
        except (ValueError, AttributeError) as exc:
            problems.append({"code": "invalid_line", "message": str(exc), "param": None, "line": n})
    return lines, problems


def _new_batch(
    batch_id: str, body: JSONObject, file_id: str, endpoint: str, data: bytes
) -> JSONObject:
    """A batch in ``validating``; ``_``-keys are the mock's own (never sent)."""
    lines, problems = _read_lines(data, endpoint)
    now = time.time()
    return {
        "id": batch_id,
        "object": "batch",
        "endpoint": endpoint,
        "input_file_id": file_id,
        "completion_window": "24h",
        "status": "validating",
        "output_file_id": None,
        "error_file_id": None,
        "errors": None,
        "created_at": int(now),
        "in_progress_at": None,
        "finalizing_at": None,
        "completed_at": None,
        "failed_at": None,
        "request_counts": {"total": len(lines), "completed": 0, "failed": 0},
        "metadata": body.get("metadata"),
        "_created": now,
        "_lines": lines,
        "_invalid": {"object": "list", "data": problems} if problems or not lines else None,
    }


class _Batches:
    """The Files and Batches endpoints over one store, counting requests served."""

    def __init__(self, settings: MockSpec, served: Served) -> None:
        self.store = _Store(settings)
        self.served = served

    def routes(self) -> list[Route]:
        return [
            ("POST", "/v1/files", self.upload),
            ("GET", "/v1/files/{id}", self.file_meta),
            ("GET", "/v1/files/{id}/content", self.file_content),
            ("POST", "/v1/batches", self.create),
            ("GET", "/v1/batches", self.listing),
            ("GET", "/v1/batches/{id}", self.get),
            ("POST", "/v1/batches/{id}/cancel", self.cancel),
        ]

    async def upload(self, request: web.Request) -> web.Response:
        self.served["/v1/files"] += 1
        form: Mapping[str, object]
        try:
            form = await request.post()
        except ValueError:
            form = {}
        purpose = form.get("purpose")
        upload = form.get("file")
        if not isinstance(purpose, str) or not isinstance(upload, FileField):
            return _bad_request("multipart fields 'purpose' and 'file' are required")
        data = upload.file.read()
        return web.json_response(
            self.store.add_file(data, upload.filename or "upload.jsonl", purpose)
        )

    async def file_meta(self, request: web.Request) -> web.Response:
        self.served["/v1/files/{id}"] += 1
        entry = self.store.files.get(request.match_info["id"])
        return web.json_response(entry["meta"]) if entry else _not_found("file")

    async def file_content(self, request: web.Request) -> web.Response:
        self.served["/v1/files/{id}/content"] += 1
        entry = self.store.files.get(request.match_info["id"])
        if not entry:
            return _not_found("file")
        return web.Response(body=entry["data"], content_type="application/octet-stream")

    async def create(self, request: web.Request) -> web.Response:
        self.served["/v1/batches"] += 1
        try:
            body, file_id, endpoint = _create_request(await request.read())
        except (ValueError, KeyError, TypeError) as exc:
            return _bad_request(f"invalid request: {exc}")
        entry = self.store.files.get(file_id)
        if not entry:
            return _not_found("file")
        batch_id = f"batch_mock{next(self.store.ids)}"
        batch = _new_batch(batch_id, body, file_id, endpoint, entry["data"])
        self.store.batches[batch_id] = batch
        return web.json_response(_public(batch))

    async def get(self, request: web.Request) -> web.Response:
        self.served["/v1/batches/{id}"] += 1
        batch = self.store.batches.get(request.match_info["id"])
        if not batch:
            return _not_found("batch")
        return web.json_response(_public(self.store.advance(batch)))

    async def cancel(self, request: web.Request) -> web.Response:
        batch = self.store.batches.get(request.match_info["id"])
        if not batch:
            return _not_found("batch")
        if self.store.advance(batch)["status"] not in _TERMINAL:
            batch.update(status="cancelled", cancelled_at=int(time.time()))
        return web.json_response(_public(batch))

    async def listing(self, request: web.Request) -> web.Response:
        data = [_public(self.store.advance(b)) for b in self.store.batches.values()]
        return web.json_response(
            {
                "object": "list",
                "data": data,
                "first_id": data[0]["id"] if data else None,
                "last_id": data[-1]["id"] if data else None,
                "has_more": False,
            }
        )


def batch_routes(settings: MockSpec, served: Served) -> list[Route]:
    return _Batches(settings, served).routes()
