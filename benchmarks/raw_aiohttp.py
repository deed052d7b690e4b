"""Raw aiohttp peer for benchmarks/bench.py: N coroutines posting in a loop, nothing measured
but the count. Prints one JSON line: {"requests": n, "seconds": s, "rps": r}."""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import aiohttp

BODY = b'{"model":"mock-model","messages":[{"role":"user","content":"Write a haiku about load testing."}],"max_tokens":16}'


async def main(url: str, concurrency: int, seconds: float) -> None:
    count = 0
    stop_at = time.perf_counter() + seconds
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def loop() -> None:
            nonlocal count
            while time.perf_counter() < stop_at:
                async with session.post(
                    url, data=BODY, headers={"Content-Type": "application/json"}
                ) as r:
                    await r.read()
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
    p.add_argument("--uvloop", action="store_true")
    a = p.parse_args()
    if a.uvloop:
        import uvloop

        uvloop.run(main(a.url, a.concurrency, a.seconds))
    else:
        asyncio.run(main(a.url, a.concurrency, a.seconds))
