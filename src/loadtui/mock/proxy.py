"""A minimal pass-through proxy, so the overhead preset works with no gateway installed.

Every request is forwarded to the upstream with its method, path, query, headers and body; the
answer comes back with its status and headers, and a streamed body is relayed read by read, so
the proxy adds what a thin gateway adds and nothing more. It is the stand-in the "overhead"
preset measures when no proxy URL is given — point ``--url`` at a real gateway to measure that.
"""

from __future__ import annotations

import aiohttp
from aiohttp import web

from loadtui.mock.servers import ServerProcess

__all__ = ["ProxyProcess", "build_proxy"]

_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
}


def build_proxy(upstream: str) -> web.Application:
    app = web.Application()
    upstream = upstream.rstrip("/")

    async def on_startup(app: web.Application) -> None:
        connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=300)
        app["session"] = aiohttp.ClientSession(
            connector=connector, timeout=aiohttp.ClientTimeout(total=None), auto_decompress=False
        )

    async def on_cleanup(app: web.Application) -> None:
        await app["session"].close()

    async def forward(request: web.Request) -> web.StreamResponse:
        session: aiohttp.ClientSession = request.app["session"]
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP}
        body = await request.read()
        try:
            async with session.request(
                request.method,
                upstream + str(request.rel_url),
                headers=headers,
                data=body or None,
            ) as up:
                out_headers = {k: v for k, v in up.headers.items() if k.lower() not in _HOP}
                resp = web.StreamResponse(status=up.status, headers=out_headers)
                await resp.prepare(request)
                async for chunk in up.content.iter_any():
                    await resp.write(chunk)
                await resp.write_eof()
                return resp
        except (aiohttp.ClientError, ConnectionError) as exc:
            return web.json_response(
                {"error": {"message": f"proxy: upstream failed: {exc}", "type": "proxy_error"}},
                status=502,
            )

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    app.router.add_route("*", "/{tail:.*}", forward)
    return app


class ProxyProcess(ServerProcess):
    name = "pass-through proxy"

    def __init__(self, upstream: str, host: str = "127.0.0.1") -> None:
        super().__init__(build_proxy, upstream, host)
