"""What replacing aiohttp's client could buy (issue 15): the ceiling of a minimal HTTP/1.1
keep-alive client on ``asyncio.Protocol``, posting the same chat body as benchmarks/raw_client.py
in a closed loop, N connections, and measuring nothing but the count. A prototype for the note in
docs/performance.md, not a client for src/: it handles only ``Content-Length`` answers (the mock's
non-streaming ones), no chunked encoding, redirects, TLS, timeouts or errors.

Prints one JSON line like raw_client.py: {"requests": n, "seconds": s, "rps": r}.

    proto_client.py URL [--concurrency 64] [--seconds 10] [--loop uvloop|asyncio]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from urllib.parse import urlsplit

from raw_client import BODY


class _Conn(asyncio.Protocol):
    """One keep-alive connection: send the request, read one answer, send again until stop."""

    def __init__(self, request: bytes, stop_at: float, done: asyncio.Future[int]) -> None:
        self.request = request
        self.stop_at = stop_at
        self.done = done
        self.buf = bytearray()
        self.need = -1  # bytes of the answer (headers + body) once the headers are in
        self.count = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        transport.write(self.request)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        while True:
            if self.need < 0:
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    return
                head = bytes(buf[:end]).lower()
                at = head.find(b"content-length:")
                length = int(
                    head[at + 15 : head.find(b"\r\n", at) if head.find(b"\r\n", at) > 0 else None]
                )
                self.need = end + 4 + length
            if len(buf) < self.need:
                return
            del buf[: self.need]
            self.need = -1
            self.count += 1
            if time.perf_counter() >= self.stop_at:
                self.transport.close()
                if not self.done.done():
                    self.done.set_result(self.count)
                return
            self.transport.write(self.request)  # type: ignore[attr-defined]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(self.count)


async def run(url: str, concurrency: int, seconds: float) -> None:
    parts = urlsplit(url)
    request = (
        f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(BODY)}\r\n\r\n"
    ).encode() + BODY
    loop = asyncio.get_running_loop()
    start = time.perf_counter()
    stop_at = start + seconds
    futures = []
    for _ in range(concurrency):
        done: asyncio.Future[int] = loop.create_future()
        await loop.create_connection(
            lambda d=done: _Conn(request, stop_at, d), parts.hostname, parts.port
        )
        futures.append(done)
    count = sum(await asyncio.gather(*futures))
    took = time.perf_counter() - start
    print(json.dumps({"requests": count, "seconds": took, "rps": count / took}))


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("--concurrency", type=int, default=64)
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    a = p.parse_args()
    if a.loop == "uvloop":
        import uvloop

        uvloop.run(run(a.url, a.concurrency, a.seconds))
    else:
        asyncio.run(run(a.url, a.concurrency, a.seconds))
