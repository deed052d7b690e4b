"""The OpenAI Files and Batches APIs in the mock, with phases a client can watch.

A batch spends ``batch_phase`` seconds in each of validating, in_progress and finalizing, then
is completed (or failed, if its input does not validate). At completion it writes an output
file and, when some lines fail (``batch_line_errors``), an error file with those lines as
ordinary HTTP failures — and when every line fails, it completes with no output file and
``request_counts.completed == 0``, the case ../shared/protocols.md §3 warns about. Output lines
come back in reverse order, so clients must join on ``custom_id``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import time
from typing import Any

from aiohttp import web

from loadtui.mock.faults import openai_error
from loadtui.model.plan import MockSpec

__all__ = ["batch_routes"]

_TERMINAL = ("completed", "failed", "cancelled", "expired")


def _fails(custom_id: str, rate: float) -> bool:
    """Deterministic per line, so a test knows exactly which lines fail."""
    if rate <= 0:
        return False
    digest = hashlib.sha256(custom_id.encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < rate


def _answer(endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
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
        self.files: dict[str, dict[str, Any]] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.ids = itertools.count(1)

    def add_file(self, data: bytes, filename: str, purpose: str) -> dict[str, Any]:
        meta = {
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

    def advance(self, batch: dict[str, Any]) -> dict[str, Any]:
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

    def _complete(self, batch: dict[str, Any]) -> None:
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

        def jsonl(rows: list[dict[str, Any]]) -> bytes:
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


def _public(batch: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in batch.items() if not k.startswith("_")}


def batch_routes(settings: MockSpec, served: Any) -> list[tuple[str, str, Any]]:
    store = _Store(settings)

    def not_found(what: str) -> web.Response:
        return web.json_response(
            openai_error(f"No such {what}", "invalid_request_error"), status=404
        )

    async def upload(request: web.Request) -> web.Response:
        served["/v1/files"] += 1
        try:
            form = await request.post()
        except ValueError:
            form = {}
        purpose = form.get("purpose")
        upload = form.get("file")
        if not isinstance(purpose, str) or upload is None or isinstance(upload, str):
            return web.json_response(
                openai_error(
                    "multipart fields 'purpose' and 'file' are required", "invalid_request_error"
                ),
                status=400,
            )
        data = upload.file.read()
        return web.json_response(store.add_file(data, upload.filename or "upload.jsonl", purpose))

    async def file_meta(request: web.Request) -> web.Response:
        served["/v1/files/{id}"] += 1
        entry = store.files.get(request.match_info["id"])
        return web.json_response(entry["meta"]) if entry else not_found("file")

    async def file_content(request: web.Request) -> web.Response:
        served["/v1/files/{id}/content"] += 1
        entry = store.files.get(request.match_info["id"])
        if not entry:
            return not_found("file")
        return web.Response(body=entry["data"], content_type="application/octet-stream")

    async def create(request: web.Request) -> web.Response:
        served["/v1/batches"] += 1
        try:
            body = json.loads(await request.read())
            file_id, endpoint = body["input_file_id"], body["endpoint"]
            if body.get("completion_window") != "24h":
                raise ValueError("completion_window must be '24h'")
        except (ValueError, KeyError, TypeError) as exc:
            return web.json_response(
                openai_error(f"invalid request: {exc}", "invalid_request_error"), status=400
            )
        entry = store.files.get(file_id)
        if not entry:
            return not_found("file")
        lines, problems = [], []
        for n, raw in enumerate(entry["data"].decode(errors="replace").splitlines(), 1):
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
                problems.append(
                    {"code": "invalid_line", "message": str(exc), "param": None, "line": n}
                )
        now = time.time()
        batch = {
            "id": f"batch_mock{next(store.ids)}",
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
        store.batches[batch["id"]] = batch
        return web.json_response(_public(batch))

    async def get(request: web.Request) -> web.Response:
        served["/v1/batches/{id}"] += 1
        batch = store.batches.get(request.match_info["id"])
        return web.json_response(_public(store.advance(batch))) if batch else not_found("batch")

    async def cancel(request: web.Request) -> web.Response:
        batch = store.batches.get(request.match_info["id"])
        if not batch:
            return not_found("batch")
        if store.advance(batch)["status"] not in _TERMINAL:
            batch.update(status="cancelled", cancelled_at=int(time.time()))
        return web.json_response(_public(batch))

    async def listing(request: web.Request) -> web.Response:
        data = [_public(store.advance(b)) for b in store.batches.values()]
        return web.json_response(
            {
                "object": "list",
                "data": data,
                "first_id": data[0]["id"] if data else None,
                "last_id": data[-1]["id"] if data else None,
                "has_more": False,
            }
        )

    return [
        ("POST", "/v1/files", upload),
        ("GET", "/v1/files/{id}", file_meta),
        ("GET", "/v1/files/{id}/content", file_content),
        ("POST", "/v1/batches", create),
        ("GET", "/v1/batches", listing),
        ("GET", "/v1/batches/{id}", get),
        ("POST", "/v1/batches/{id}/cancel", cancel),
    ]
