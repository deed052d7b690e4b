"""The mock's web framework: the part of aiohttp.web's surface the mock's handlers use.

The mock's process imported aiohttp.web (attrs, yarl, the client, email, ...) for some 0.1 s of
CPU before it served, on every run's critical path (docs/performance.md, "Start-up and exit").
Its handlers need little: an app with middlewares and an ``on_response_prepare`` signal, routes
with ``{name}`` parameters, a request (headers, body, form upload), whole and streamed
responses. The same names as aiohttp.web, so a handler reads the same. Here: the app and its
routes; the request and the responses in ``webrequest.py`` and ``webresponse.py``, given here
too; the connections served by ``connection.py`` (HTTP/1.1 on ``asyncio.Protocol``). The proxy
(its aiohttp client and server) is not served here.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from loadtui.mock.form import FileField
from loadtui.mock.framing import HTTPError
from loadtui.mock.webrequest import MatchInfo, Request
from loadtui.mock.webresponse import Response, StreamResponse, json_response

__all__ = [
    "Application",
    "FileField",
    "HTTPError",
    "Handler",
    "MatchInfo",
    "Middleware",
    "Request",
    "Response",
    "Router",
    "StreamResponse",
    "json_response",
    "middleware",
]

Handler = Callable[[Request], Awaitable[StreamResponse]]
Middleware = Callable[[Request, Handler], Awaitable[StreamResponse]]
Signal = Callable[[Request, StreamResponse], Awaitable[None]]


def middleware(function: Middleware) -> Middleware:
    """As aiohttp's decorator: marks nothing here (every middleware is new-style)."""
    return function


class _Resource:
    """One path pattern and its handler by method."""

    def __init__(self, canonical: str) -> None:
        self.canonical = canonical
        self.methods: dict[str, Handler] = {}

    async def not_allowed(self, request: Request) -> StreamResponse:
        allowed = ",".join(sorted(self.methods))
        return Response(status=405, text="405: Method Not Allowed", headers={"Allow": allowed})


async def _not_found(request: Request) -> StreamResponse:
    return Response(status=404, text="404: Not Found")


class Router:
    """Routes by exact path first, then by pattern in the order added."""

    def __init__(self) -> None:
        self._static: dict[str, _Resource] = {}
        self._dynamic: list[tuple[re.Pattern[str], _Resource]] = []

    def add_route(self, method: str, path: str, handler: Handler) -> None:
        resource = self._static.get(path) or next(
            (r for _, r in self._dynamic if r.canonical == path), None
        )
        if resource is None:
            resource = _Resource(path)
            if "{" in path:
                pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^{}/]+)", re.escape(path))
                self._dynamic.append((re.compile(pattern), resource))
            else:
                self._static[path] = resource
        resource.methods[method.upper()] = handler

    def add_get(self, path: str, handler: Handler) -> None:
        self.add_route("GET", path, handler)

    def add_post(self, path: str, handler: Handler) -> None:
        self.add_route("POST", path, handler)

    def resolve(self, method: str, path: str) -> tuple[Handler, MatchInfo]:
        resource = self._static.get(path)
        params: dict[str, str] = {}
        if resource is None:
            for pattern, candidate in self._dynamic:
                found = pattern.fullmatch(path)
                if found:
                    resource, params = candidate, found.groupdict()
                    break
            else:
                return _not_found, MatchInfo()
        handler = resource.methods.get(method) or resource.methods.get("*")
        return handler or resource.not_allowed, MatchInfo(params, resource.canonical)


class Application:
    """Routes, middlewares (outermost first) and the ``on_response_prepare`` signal."""

    def __init__(self, *, middlewares: Iterable[Middleware] = (), client_max_size: int = 2**20):
        self.middlewares: list[Middleware] = list(middlewares)
        self.router = Router()
        self.on_response_prepare: list[Signal] = []
        self.client_max_size = client_max_size
        """The largest request body (bytes) — aiohttp's default; a larger one gets a 413."""
        self._state: dict[str, Any] = {}
        self._chain: Handler | None = None

    def __getitem__(self, key: str) -> Any:
        return self._state[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._state[key] = value

    def freeze(self) -> None:
        """Fix the middlewares (the server does it before it serves)."""

        async def routed(request: Request) -> StreamResponse:
            assert request._handler is not None
            return await request._handler(request)

        chain: Handler = routed
        for outer in reversed(self.middlewares):
            chain = _bound(outer, chain)
        self._chain = chain

    async def handle(self, request: Request) -> StreamResponse:
        handler, request.match_info = self.router.resolve(request.method, request.path)
        request._handler = handler
        if self._chain is None:
            self.freeze()
        assert self._chain is not None
        return await self._chain(request)


def _bound(outer: Middleware, inner: Handler) -> Handler:
    def call(request: Request) -> Awaitable[StreamResponse]:
        return outer(request, inner)

    return call
