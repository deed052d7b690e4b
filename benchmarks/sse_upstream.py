"""A lean reference upstream for the streams rows of benchmarks/moonshot.py (issue 15).

loadtui's mock (aiohttp.web) costs ~45 µs of CPU per streamed chunk, so on one core it tops out
near 20,000 chunks/s — the 1,000-stream row would measure the mock as much as the generator.
This server does one thing: every POST gets an OpenAI chat stream (the mock's chunk shape:
a role chunk, ``--tokens`` content chunks, a finish chunk, a usage chunk, ``[DONE]``) over
HTTP/1.1 chunked transfer encoding on a keep-alive connection; the first content chunk is
written ``--ttft`` after the request's body arrived and each next one ``--itl`` after the
previous one's *scheduled* time (absolute times on the loop's clock, so a late timer does not
push the rest). One ``transport.write`` and one timer per chunk on uvloop. A POST whose body does
not ask for a stream (no ``"stream": true``) gets a whole chat completion at once, with a
``Content-Length`` (the throughput row's upstream: loadtui's mock tops out near 5,700 such
answers a second on this machine's core, below 2× Locust). A benchmark prototype, not part of
loadtui: no routing, no faults.

    python benchmarks/sse_upstream.py --port 0 --ttft 50 --itl 50 --tokens 50

Prints ``listening on http://127.0.0.1:PORT`` once it accepts connections (as ``loadtui mock``
does, so benchmarks/bench.py's helpers can read it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import time

HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n"
)


def _chunk(obj: object) -> bytes:
    data = b"data: " + json.dumps(obj, separators=(",", ":")).encode() + b"\n\n"
    return b"%x\r\n%s\r\n" % (len(data), data)


def _plain(tokens: int) -> bytes:
    """The whole answer to a non-streamed request: head and a chat completion body."""
    body = json.dumps(
        {
            "id": "chatcmpl-ref",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": "mock-model",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "tok " * tokens},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 8, "completion_tokens": tokens, "total_tokens": 8 + tokens},
        },
        separators=(",", ":"),
    ).encode()
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
    return head % len(body) + body


_STREAM = re.compile(rb'"stream"\s*:\s*true')


def _events(tokens: int) -> tuple[bytes, list[bytes], bytes]:
    base = {"id": "chatcmpl-ref", "created": int(time.time()), "model": "mock-model"}
    base["object"] = "chat.completion.chunk"

    def choice(delta: dict[str, str], finish: str | None = None) -> bytes:
        c = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return _chunk({**base, "choices": [c]})

    first = choice({"role": "assistant", "content": ""})
    content = [choice({"content": f"tok{i} "}) for i in range(tokens)]
    usage = {"prompt_tokens": 8, "completion_tokens": tokens, "total_tokens": 8 + tokens}
    tail = choice({}, "stop") + _chunk({**base, "choices": [], "usage": usage})
    tail += b"%x\r\ndata: [DONE]\n\n\r\n0\r\n\r\n" % len(b"data: [DONE]\n\n")
    return first, content, tail


class _Conn(asyncio.Protocol):
    def __init__(
        self, a: argparse.Namespace, events: tuple[bytes, list[bytes], bytes], plain: bytes
    ) -> None:
        self.a = a
        self.first, self.content, self.tail = events
        self.plain = plain
        self.buf = bytearray()
        self.loop = asyncio.get_running_loop()
        self.open = True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.open = False

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(buf[:end]).lower()
        at = head.find(b"content-length:")
        length = 0
        if at >= 0:
            stop = head.find(b"\r\n", at)
            length = int(head[at + 15 : stop if stop > 0 else None])
        if len(buf) < end + 4 + length:
            return
        streamed = _STREAM.search(buf, end + 4, end + 4 + length) is not None
        del buf[: end + 4 + length]  # one request at a time: the client waits for the answer
        if not streamed:
            self.transport.write(self.plain)
            if buf:  # a pipelined next request (none of the benchmarks' clients pipeline)
                self.data_received(b"")
            return
        self.transport.write(HEAD + self.first)
        start = self.loop.time() + self.a.ttft / 1000.0
        self.loop.call_at(start, self._send, 0, start)

    def _send(self, i: int, due: float) -> None:
        if not self.open:
            return
        if i + 1 < len(self.content):
            self.transport.write(self.content[i])
            nxt = due + self.a.itl / 1000.0
            self.loop.call_at(nxt, self._send, i + 1, nxt)
        else:
            self.transport.write(self.content[i] + self.tail)


async def serve(a: argparse.Namespace) -> None:
    events, plain = _events(a.tokens), _plain(a.tokens)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Conn(a, events, plain), a.host, a.port, backlog=4096)
    port = server.sockets[0].getsockname()[1]
    print(f"listening on http://{a.host}:{port}", flush=True)
    await server.serve_forever()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--ttft", type=float, default=50.0, help="ms to the first content chunk")
    p.add_argument("--itl", type=float, default=10.0, help="ms between content chunks")
    p.add_argument("--tokens", type=int, default=16)
    a = p.parse_args()
    import uvloop

    uvloop.run(serve(a))


if __name__ == "__main__":
    main()
