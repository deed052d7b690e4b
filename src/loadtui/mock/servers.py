"""Small aiohttp servers in processes of their own: the mock upstream and the overhead proxy.

A server never shares an event loop (or, pinned, a core) with the engine that measures it. The
process reports its bound port over a pipe, ignores Ctrl-C and SIGHUP (the parent decides when
it ends), stops on SIGTERM and dies with its parent. A server never waits long for its open
requests at shutdown (a stalled request would otherwise hold it for aiohttp's default 60 s).
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import signal
import socket
import ssl
from collections.abc import Callable
from typing import Any

from aiohttp import web

from loadtui.runtime import aio
from loadtui.runtime.lifeline import die_with_parent

__all__ = ["SHUTDOWN_TIMEOUT", "ServerProcess", "serve_app"]

SHUTDOWN_TIMEOUT = 0.5
"""Seconds open requests get once a server is told to stop; aiohttp then cancels them and waits
as long again, so a server with stalled requests is down within about 1 s."""


async def serve_app(
    app: web.Application,
    host: str = "127.0.0.1",
    port: int = 0,
    on_ready: Callable[[int], None] | None = None,
    stop: asyncio.Event | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> None:
    """Serve ``app`` until ``stop`` is set (or forever); ``on_ready`` gets the bound port.
    With ``ssl_context`` it serves HTTPS (the TLS tests of ``--ca-cert`` and ``--insecure``)."""
    runner = web.AppRunner(
        app, access_log=None, handle_signals=False, shutdown_timeout=SHUTDOWN_TIMEOUT
    )
    await runner.setup()
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    site = web.SockSite(runner, sock, backlog=1024, ssl_context=ssl_context)
    await site.start()
    if on_ready is not None:
        on_ready(sock.getsockname()[1])
    try:
        await (stop or asyncio.Event()).wait()
    finally:
        await runner.cleanup()


class ServerProcess:
    """``factory(arg)`` builds the app inside a spawned process; both must be picklable."""

    name = "server"

    def __init__(
        self, factory: Callable[[Any], web.Application], arg: Any, host: str = "127.0.0.1"
    ) -> None:
        self.factory = factory
        self.arg = arg
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
            args=(self.factory, self.arg, self.host, child),
            name=f"loadtui-{self.name}",
            daemon=True,
        )
        self._proc.start()
        child.close()
        if not parent.poll(timeout):
            self.stop()
            raise RuntimeError(f"the {self.name} did not start")
        self.port = parent.recv()
        parent.close()
        return self.url

    def stop(self) -> None:
        if self._proc is not None and self._proc.is_alive():
            self._proc.terminate()
            self._proc.join(5.0)
            if self._proc.is_alive():  # it should have stopped within SHUTDOWN_TIMEOUT
                self._proc.kill()
                self._proc.join(1.0)
        self._proc = None

    def __enter__(self) -> ServerProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _process_main(
    factory: Callable[[Any], web.Application], arg: Any, host: str, conn: Any
) -> None:
    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)

    async def main() -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await serve_app(factory(arg), host, 0, on_ready=conn.send, stop=stop)

    aio.run(main())
