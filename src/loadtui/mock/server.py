"""The mock's server: routes of every API family, response headers, stats, its own process."""

from __future__ import annotations

import asyncio
import base64
import secrets
from collections import Counter
from collections.abc import Callable

from loadtui.mock import web
from loadtui.mock.anthropic import anthropic_routes
from loadtui.mock.batches import batch_routes
from loadtui.mock.capacity import Capacity, capacity_gate, models_capacity
from loadtui.mock.faults import Route, Served
from loadtui.mock.metrics import ServerStats, metrics_gate, metrics_route
from loadtui.mock.openai import MOCK_MODEL, openai_routes
from loadtui.mock.received import Received, record_gate
from loadtui.mock.responses import responses_routes
from loadtui.mock.servers import ServerProcess, serve_app
from loadtui.mock.wire import JSONObject
from loadtui.model.plan import MockSpec

__all__ = ["MOCK_MODEL", "MockProcess", "build_app", "serve"]


def build_app(settings: MockSpec) -> web.Application:
    served: Served = Counter()
    capacity = Capacity(settings) if models_capacity(settings) else None
    received = Received(settings.record) if settings.record else None
    middlewares = [record_gate(received)] if received else []
    metrics = ServerStats(capacity)  # GET /metrics: outside the capacity gate (its TTFT waits)
    middlewares.append(metrics_gate(metrics))
    if capacity:
        middlewares.append(capacity_gate(capacity))
    app = web.Application(middlewares=middlewares)

    async def extra_headers(request: web.Request, response: web.StreamResponse) -> None:
        for name, value in settings.headers.items():
            response.headers[name] = value

    if settings.headers:
        app.on_response_prepare.append(extra_headers)

    async def mint_key(request: web.Request) -> web.Response:
        """A stand-in for a gateway's admin API: Basic auth in, a fresh key out."""
        served["/admin/keys"] += 1
        auth = request.headers.get("Authorization", "")
        try:
            user, _, password = (
                base64.b64decode(auth.removeprefix("Basic ")).decode().partition(":")
            )
        except ValueError:
            user, password = "", ""
        if not auth.startswith("Basic ") or not user or not password:
            return web.json_response({"error": "Basic auth required"}, status=401)
        return web.json_response({"key": "sk-mock-" + secrets.token_hex(8), "user": user})

    async def stats(request: web.Request) -> web.Response:
        load = capacity.stats() if capacity else None  # null: no capacity model
        answer = {"served": sum(served.values()), "by_path": dict(served), "capacity": load}
        return web.json_response(answer)

    async def reset(request: web.Request) -> web.Response:
        served.clear()
        if received:
            received.clear()
        return web.json_response({"served": 0})

    async def what_came(request: web.Request) -> web.Response:
        """The last ``record`` requests received (``[]`` when not recording)."""
        return web.json_response(list(received.items) if received else [])

    routes: list[Route] = [
        *openai_routes(settings, served),
        *anthropic_routes(settings, served),
        *responses_routes(settings, served),
        *batch_routes(settings, served),
        ("POST", "/admin/keys", mint_key),
        ("GET", "/mock/stats", stats),
        ("POST", "/mock/reset", reset),
        ("GET", "/mock/received", what_came),
        ("GET", "/metrics", metrics_route(metrics)),
    ]
    for method, path, handler in routes:
        app.router.add_route(method, path, handler)
    return app


async def serve(
    settings: MockSpec,
    host: str = "127.0.0.1",
    port: int = 0,
    on_ready: Callable[[int], None] | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Serve the mock until ``stop`` is set (or forever); ``on_ready`` gets the bound port."""
    await serve_app(build_app(settings), host, port, on_ready, stop)


class MockProcess(ServerProcess):
    """The mock in its own process (so it never shares a core's event loop with the engine)."""

    name = "embedded mock"

    def __init__(self, settings: MockSpec | None = None, host: str = "127.0.0.1") -> None:
        self.settings = settings or MockSpec()
        super().__init__(build_app, self.settings, host)

    def stats(self) -> JSONObject:
        import httpx

        answer: JSONObject = httpx.get(self.url + "/mock/stats", timeout=5.0).json()
        return answer

    def received(self) -> list[JSONObject]:
        """The requests the mock recorded (started with ``record=N``), oldest first."""
        import httpx

        answer: list[JSONObject] = httpx.get(self.url + "/mock/received", timeout=5.0).json()
        return answer

    def __enter__(self) -> MockProcess:
        self.start()
        return self
