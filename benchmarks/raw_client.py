"""Raw-client peers for benchmarks/bench.py: N coroutines posting the same chat body in a loop,
measuring nothing but the count. Prints one JSON line: {"requests": n, "seconds": s, "rps": r}.

    raw_client.py URL --client aiohttp|aiohttp-uvloop|httpx|httpx-aiohttp
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Awaitable, Callable

BODY = b'{"model":"mock-model","messages":[{"role":"user","content":"Write a haiku about load testing."}],"max_tokens":16}'
HEADERS = {"Content-Type": "application/json"}


async def _count(post: Callable[[], Awaitable[None]], concurrency: int, seconds: float) -> None:
    count = 0
    stop_at = time.perf_counter() + seconds

    async def loop() -> None:
        nonlocal count
        while time.perf_counter() < stop_at:
            await post()
            count += 1

    start = time.perf_counter()
    await asyncio.gather(*(loop() for _ in range(concurrency)))
    took = time.perf_counter() - start
    print(json.dumps({"requests": count, "seconds": took, "rps": count / took}))


async def with_aiohttp(url: str, concurrency: int, seconds: float) -> None:
    import aiohttp

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def post() -> None:
            async with session.post(url, data=BODY, headers=HEADERS) as r:
                await r.read()

        await _count(post, concurrency, seconds)


async def with_httpx(url: str, concurrency: int, seconds: float, aiohttp_transport: bool) -> None:
    import httpx

    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    if aiohttp_transport:
        from httpx_aiohttp import AiohttpTransport

        client = httpx.AsyncClient(transport=AiohttpTransport(), limits=limits)
    else:
        client = httpx.AsyncClient(limits=limits)
    async with client:

        async def post() -> None:
            r = await client.post(url, content=BODY, headers=HEADERS)
            r.read()

        await _count(post, concurrency, seconds)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("--concurrency", type=int, default=64)
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument(
        "--client",
        choices=("aiohttp", "aiohttp-uvloop", "httpx", "httpx-aiohttp"),
        default="aiohttp",
    )
    a = p.parse_args()
    if a.client == "aiohttp-uvloop":
        import uvloop

        uvloop.run(with_aiohttp(a.url, a.concurrency, a.seconds))
    elif a.client == "aiohttp":
        asyncio.run(with_aiohttp(a.url, a.concurrency, a.seconds))
    else:
        asyncio.run(with_httpx(a.url, a.concurrency, a.seconds, a.client == "httpx-aiohttp"))
