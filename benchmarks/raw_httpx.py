"""httpx peer for benchmarks/bench.py: the same loop as raw_aiohttp.py through httpx's API,
with its default transport or the httpx-aiohttp transport. Prints one JSON line."""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import httpx

BODY = b'{"model":"mock-model","messages":[{"role":"user","content":"Write a haiku about load testing."}],"max_tokens":16}'


async def main(url: str, concurrency: int, seconds: float, transport: str) -> None:
    count = 0
    stop_at = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    if transport == "aiohttp":
        from httpx_aiohttp import AiohttpTransport

        client = httpx.AsyncClient(transport=AiohttpTransport(), limits=limits)
    else:
        client = httpx.AsyncClient(limits=limits)
    async with client:

        async def loop() -> None:
            nonlocal count
            while time.perf_counter() < stop_at:
                r = await client.post(
                    url, content=BODY, headers={"Content-Type": "application/json"}
                )
                r.read()
                count += 1

        start = time.perf_counter()
        await asyncio.gather(*(loop() for _ in range(concurrency)))
        took = time.perf_counter() - start
    print(json.dumps({"requests": count, "seconds": took, "rps": count / took}))


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("--concurrency", type=int, default=64)
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--transport", choices=("default", "aiohttp"), default="default")
    a = p.parse_args()
    asyncio.run(main(a.url, a.concurrency, a.seconds, a.transport))
