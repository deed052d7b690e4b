"""The embedded mock upstream: an OpenAI-compatible server with known, configurable timing.

It gives every run a target (``loadtui --headless`` with no ``--url``), gives tests a ground
truth (fixed TTFT and inter-chunk gaps, a count of requests served at ``/mock/stats``) and runs
standalone as ``loadtui mock``. Chunks are sent at absolute deadlines from the request's arrival
(``ttft + k * itl``), so scheduling jitter never accumulates along a stream.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing as mp
import random
import signal
import socket
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from aiohttp import web

from loadtui.engine import aio
from loadtui.model.plan import MockSpec

__all__ = ["MockProcess", "build_app", "serve"]

MOCK_MODEL = "mock-model"


def _error_body(message: str, type_: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": None, "code": code}}


def _pick_fault(faults: dict[str, float]) -> str | None:
    if not faults:
        return None
    draw = random.random()
    for kind, rate in faults.items():
        if draw < rate:
            return kind
        draw -= rate
    return None


def _chunk(obj: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(obj, separators=(",", ":")).encode() + b"\n\n"


def _delta(chunk: dict[str, Any], delta: dict[str, Any], finish: str | None = None) -> bytes:
    """One ``chat.completion.chunk`` event with a single choice carrying ``delta``."""
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
    return _chunk({**chunk, "choices": [choice]})


def build_app(settings: MockSpec) -> web.Application:
    served: Counter[str] = Counter()
    app = web.Application()

    async def health(request: web.Request) -> web.Response:
        served["/health"] += 1
        return web.json_response({"status": "ok"})

    async def models(request: web.Request) -> web.Response:
        served["/v1/models"] += 1
        return web.json_response(
            {
                "object": "list",
                "data": [
                    {"id": MOCK_MODEL, "object": "model", "created": 0, "owned_by": "loadtui"}
                ],
            }
        )

    async def chat(request: web.Request) -> web.StreamResponse:
        arrived = time.perf_counter()
        served["/v1/chat/completions"] += 1
        try:
            body = json.loads(await request.read())
            if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
                raise ValueError("messages must be a list")
        except ValueError as exc:
            return web.json_response(
                _error_body(f"invalid request body: {exc}", "invalid_request_error"), status=400
            )
        fault = _pick_fault(settings.faults)
        if fault == "http_400":
            return web.json_response(
                _error_body("injected fault", "invalid_request_error"), status=400
            )
        if fault == "http_429":
            return web.json_response(
                _error_body("Rate limit reached (injected)", "requests", "rate_limit_exceeded"),
                status=429,
                headers={"Retry-After": "1", "retry-after-ms": "1000"},
            )
        if fault == "http_500":
            return web.json_response(_error_body("injected fault", "server_error"), status=500)
        model = str(body.get("model") or MOCK_MODEL)
        max_tokens = body.get("max_tokens")
        n = settings.tokens
        if isinstance(max_tokens, int) and 0 < max_tokens < n:
            n = max_tokens
        finish = "length" if n < settings.tokens else "stop"
        prompt_tokens = sum(
            len(str(m.get("content", "")).split()) for m in body["messages"] if isinstance(m, dict)
        )
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": n,
            "total_tokens": prompt_tokens + n,
        }
        base = {"id": "chatcmpl-mock", "created": int(time.time()), "model": model}
        if not body.get("stream"):
            await _sleep_until(arrived + settings.latency)
            if fault == "reset":
                assert request.transport is not None
                request.transport.abort()
                return web.Response()
            if fault == "malformed":
                return web.Response(body=b"{not json", content_type="application/json")
            if fault == "stream_error":
                return web.json_response(_error_body("injected fault", "server_error"))
            if fault == "stall":
                await asyncio.sleep(3600)
            return web.json_response(
                {
                    **base,
                    "object": "chat.completion",
                    "choices": [
                        {
                            "index": 0,
                            "message": {
                                "role": "assistant",
                                "content": " ".join(f"tok{i}" for i in range(n)),
                            },
                            "logprobs": None,
                            "finish_reason": finish,
                        }
                    ],
                    "usage": usage,
                }
            )
        resp = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await resp.prepare(request)
        chunk = {**base, "object": "chat.completion.chunk"}
        await resp.write(_delta(chunk, {"role": "assistant", "content": ""}))
        for k in range(n):
            await _sleep_until(arrived + settings.ttft + k * settings.itl)
            if k == n // 2 and fault is not None:
                if fault == "reset":
                    assert request.transport is not None
                    request.transport.abort()
                    return resp
                if fault == "malformed":
                    await resp.write(b'data: {"choices": [{"delta": \n\n')
                elif fault == "stream_error":
                    await resp.write(
                        _chunk(_error_body("injected mid-stream fault", "server_error"))
                    )
                elif fault == "stall":
                    await asyncio.sleep(3600)
            await resp.write(_delta(chunk, {"content": f"tok{k} "}))
        tail = _delta(chunk, {}, finish)
        options = body.get("stream_options")
        if isinstance(options, dict) and options.get("include_usage"):
            tail += _chunk({**chunk, "choices": [], "usage": usage})
        await resp.write(tail + b"data: [DONE]\n\n")
        await resp.write_eof()
        return resp

    async def stats(request: web.Request) -> web.Response:
        return web.json_response({"served": sum(served.values()), "by_path": dict(served)})

    async def reset(request: web.Request) -> web.Response:
        served.clear()
        return web.json_response({"served": 0})

    app.router.add_get("/health", health)
    app.router.add_get("/v1/models", models)
    app.router.add_post("/v1/chat/completions", chat)
    app.router.add_get("/mock/stats", stats)
    app.router.add_post("/mock/reset", reset)
    return app


async def _sleep_until(deadline: float) -> None:
    delay = deadline - time.perf_counter()
    if delay > 0:
        await asyncio.sleep(delay)


async def serve(
    settings: MockSpec,
    host: str = "127.0.0.1",
    port: int = 0,
    on_ready: Callable[[int], None] | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Serve until ``stop`` is set (or forever); ``on_ready`` gets the bound port."""
    runner = web.AppRunner(build_app(settings), access_log=None, handle_signals=False)
    await runner.setup()
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    site = web.SockSite(runner, sock, backlog=1024)
    await site.start()
    if on_ready is not None:
        on_ready(sock.getsockname()[1])
    try:
        await (stop or asyncio.Event()).wait()
    finally:
        await runner.cleanup()


class MockProcess:
    """The mock in its own process (so it never shares a core's event loop with the engine)."""

    def __init__(self, settings: MockSpec | None = None, host: str = "127.0.0.1") -> None:
        self.settings = settings or MockSpec()
        self.host = host
        self.port: int | None = None
        self._proc: Any = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self, timeout: float = 30.0) -> str:
        ctx = mp.get_context("spawn")
        parent, child = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(
            target=_process_main,
            args=(self.settings, self.host, child),
            name="loadtui-mock",
            daemon=True,
        )
        self._proc.start()
        child.close()
        if not parent.poll(timeout):
            self.stop()
            raise RuntimeError("the embedded mock did not start")
        self.port = parent.recv()
        parent.close()
        return self.url

    def stats(self) -> dict[str, Any]:
        import httpx

        return httpx.get(self.url + "/mock/stats", timeout=5.0).json()

    def stop(self) -> None:
        if self._proc is not None and self._proc.is_alive():
            self._proc.terminate()
            self._proc.join(5.0)
        self._proc = None

    def __enter__(self) -> MockProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _process_main(settings: MockSpec, host: str, conn: Any) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)

    async def main() -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await serve(settings, host, 0, on_ready=conn.send, stop=stop)

    aio.run(main())
