"""Small servers in processes of their own: the mock upstream and the overhead proxy.

A server never shares an event loop (or, pinned, a core) with the engine that measures it. Its
socket is bound by the parent (the URL is known at once); the process says when it serves over
a pipe, ignores Ctrl-C, SIGHUP and SIGTERM (the parent decides when it ends, once its load has
drained: ``stop`` kills it) and dies with its parent. A server never waits long for its open
requests at shutdown (a stalled request would otherwise hold it for aiohttp's default 60 s).

Two kinds of app are served: the mock's (``mock/web.py``, served by ``mock/connection.py``,
which imports no aiohttp: its import was 0.1 s of CPU on a run's critical path) and the
proxy's (aiohttp.web, whose client it needs). aiohttp is imported in the proxy's process only,
and the mock's modules only in the mock's: a run's parent launches its embedded mock from
here by the name of its app's factory, ``"module:function"`` (docs/performance.md,
"Start-up and exit").
"""

from __future__ import annotations

import importlib
import multiprocessing as mp
import os
import pickle
import signal
import socket
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from loadtui.runtime import timing
from loadtui.runtime.gcpause import collector_paused
from loadtui.runtime.lifeline import die_with_parent

if TYPE_CHECKING:
    import asyncio
    import ssl

    from aiohttp import web as aioweb

    from loadtui.mock import web

    App = web.Application | aioweb.Application

__all__ = ["SHUTDOWN_TIMEOUT", "ServerProcess", "serve_app"]

SHUTDOWN_TIMEOUT = 0.5
"""Seconds open requests get once a server is told to stop; the server then cancels them and
waits as long again, so a server with stalled requests is down within about 1 s."""


async def serve_app(
    app: App,
    host: str = "127.0.0.1",
    port: int = 0,
    on_ready: Callable[[int], None] | None = None,
    stop: asyncio.Event | None = None,
    ssl_context: ssl.SSLContext | None = None,
    sock: socket.socket | None = None,
) -> None:
    """Serve ``app`` until ``stop`` is set (or forever); ``on_ready`` gets the bound port.
    With ``ssl_context`` it serves HTTPS (the TLS tests of ``--ca-cert`` and ``--insecure``);
    with ``sock`` (bound, not listening) it serves there instead of binding ``host:port``."""
    import asyncio

    if sock is None:
        sock = _bound(host, port)
    stop = stop or asyncio.Event()
    if _is_aiohttp(app):
        await _serve_aiohttp(app, sock, stop, on_ready, ssl_context)  # type: ignore[arg-type]
        return
    from loadtui.mock.connection import serve

    await serve(app, sock, stop, ssl_context, on_ready, SHUTDOWN_TIMEOUT)  # type: ignore[arg-type]


def _is_aiohttp(app: object) -> bool:
    """True for an aiohttp.web app (the proxy's), told without importing aiohttp."""
    return type(app).__module__.startswith("aiohttp")


async def _serve_aiohttp(
    app: aioweb.Application,
    sock: socket.socket,
    stop: asyncio.Event,
    on_ready: Callable[[int], None] | None,
    ssl_context: ssl.SSLContext | None,
) -> None:
    from aiohttp import web as aioweb

    runner = aioweb.AppRunner(
        app, access_log=None, handle_signals=False, shutdown_timeout=SHUTDOWN_TIMEOUT
    )
    await runner.setup()
    site = aioweb.SockSite(runner, sock, backlog=1024, ssl_context=ssl_context)
    await site.start()
    if on_ready is not None:
        on_ready(sock.getsockname()[1])
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def _bound(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


Factory = Callable[[Any], "App"] | str
"""What builds a server's app in its process: a function, or its name as ``"module:function"``
(imported in the child only)."""


class ServerProcess:
    """``factory(arg)`` builds the app inside a spawned process; both must be picklable."""

    name = "server"

    def __init__(
        self,
        factory: Factory,
        arg: Any,
        host: str = "127.0.0.1",
        name: str | None = None,
        client_tls: bool = True,
    ) -> None:
        if name is not None:
            self.name = name
        self.factory = factory
        self.client_tls = client_tls
        """False for a server whose app sends no HTTPS request (the embedded mock): if its
        process imports aiohttp, that skips loading the CA bundle into aiohttp's default client
        contexts (``_imported``)."""
        self.arg = arg
        self.host = host
        self.port: int | None = None
        self._proc: Any = None
        self._ready: Any = None
        """The pipe the launched child says "serving" on, until ``wait_ready`` has read it."""

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self, timeout: float = 30.0) -> str:
        """Start the server and wait until it serves; its URL (RuntimeError if it does not)."""
        url = self.launch()
        self.wait_ready(timeout)
        return url

    def launch(self) -> str:
        """Start the server's process and return its URL at once, before it serves
        (RuntimeError if its socket cannot be bound). A server of this app and host that was
        prespawned (``prespawn``) is taken instead, given ``arg``.

        The socket is bound here and handed to the child, so the port is known while the child
        still imports: a run starts its workers meanwhile (``wait_ready`` before any load).
        Until the child listens, a connection is refused, never queued.
        """
        if self._take_prespawned():
            timing.stamp(f"{self.name}: prespawned one taken")
            return self.url
        timing.stamp(f"{self.name}: spawning")
        ctx = mp.get_context("spawn")
        try:
            sock = _bound(self.host, 0)
        except OSError as exc:  # no free descriptor, an unusable host: a start error (exit 3)
            raise RuntimeError(
                f"the {self.name} could not bind a port on {self.host}: {exc.strerror or exc}"
            ) from None
        parent, child = ctx.Pipe(duplex=False)
        try:
            self._proc = ctx.Process(
                target=_process_main,
                args=(self.factory, self.arg, sock, child, self.client_tls),
                name=f"loadtui-{self.name}",
                daemon=True,
            )
            self._proc.start()
            self.port = sock.getsockname()[1]
        finally:
            sock.close()  # the child holds its own copy
            child.close()
        self._ready = parent
        return self.url

    def _take_prespawned(self) -> bool:
        """Take the prespawned server of this app and host, if any, and hand it ``arg``."""
        prespawned = sys.modules.get("loadtui.mock.prespawn")  # imported by ``prespawn`` only
        if prespawned is None or not isinstance(self.factory, str):
            return False
        warm = prespawned.take(self.factory, self.host)
        if warm is None:
            return False
        try:
            warm.settings.send(self.arg)
        except (OSError, pickle.PicklingError):  # it died: spawn one as usual
            warm.discard()
            return False
        warm.settings.close()
        warm.proc.name = f"loadtui-{self.name}"
        self._proc, self.port, self._ready = warm.proc, warm.port, warm.ready
        return True

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Wait until the launched server serves (RuntimeError, and it is stopped, if not)."""
        conn, self._ready = self._ready, None
        if conn is None:
            return
        try:
            ok = conn.poll(timeout) and conn.recv() is not None
        except (EOFError, OSError):  # the child ended before it served
            ok = False
        finally:
            conn.close()
        if not ok:
            self.stop()
            raise RuntimeError(f"the {self.name} did not start")
        timing.stamp(f"{self.name}: ready")

    def stop(self) -> None:
        """End the server at once. It keeps nothing worth an orderly shutdown (no file, nothing
        read after it ends), and aiohttp's shutdown plus the interpreter's exit took 0.1–0.3 s
        of every run's exit; a kill takes a millisecond. (It ignores SIGTERM, as it ignores
        Ctrl-C: its parent stops it.)"""
        if self._ready is not None:
            self._ready.close()
            self._ready = None
        if self._proc is not None and self._proc.is_alive():
            self._proc.kill()
            self._proc.join(5.0)
        self._proc = None

    def __enter__(self) -> ServerProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _process_main(
    factory: Factory, arg: Any, sock: socket.socket, conn: Any, client_tls: bool = True
) -> None:
    die_with_parent()
    build = _imported(factory, client_tls)
    timing.stamp("server process: imports done")
    _serve(build, arg, sock, conn)


def _imported(factory: Factory, client_tls: bool = True) -> Callable[[Any], App]:
    """Import what a server's process needs (asyncio, the app's module: aiohttp only if that
    module imports it, as the proxy's does) and give the app's factory."""
    import asyncio  # noqa: F401  here: the parent that launches a server does not need it

    from loadtui.runtime import aio

    aio.preload()
    with collector_paused():
        if not client_tls:
            with _no_trust_store():  # for an app of that kind that imports aiohttp
                return _resolve(factory)
        return _resolve(factory)


_TRUST_METHODS = ("load_default_certs", "set_default_verify_paths")


@contextmanager
def _no_trust_store() -> Iterator[None]:
    """While an app's module is imported: aiohttp's two default client TLS contexts, made at
    its import, if it is imported, load no
    CA bundle (each read of the system's bundle costs 20-50 ms of CPU, a good part of the
    embedded mock's start-up). Only for a process whose app sends no request: a default client
    context of that process trusts nobody. ``ssl.create_default_context`` and contexts made
    after this are as usual."""
    import ssl

    cls = ssl.SSLContext
    saved = {name: cls.__dict__.get(name) for name in _TRUST_METHODS}
    cls.load_default_certs = lambda self, purpose=None: None  # type: ignore[method-assign]
    cls.set_default_verify_paths = lambda self: None  # type: ignore[method-assign]
    try:
        yield
    finally:
        for name, original in saved.items():
            if original is None:
                delattr(cls, name)  # the C method of ``_ssl._SSLContext`` shows again
            else:
                setattr(cls, name, original)


def _serve(build: Callable[[Any], App], arg: Any, sock: socket.socket, conn: Any) -> None:
    """Serve ``build(arg)`` on ``sock`` until the parent kills this process."""
    import asyncio

    from loadtui.runtime import aio

    # Its parent stops it (a kill, ``stop``) once the load has drained: Ctrl-C, a dropped SSH
    # session and a SIGTERM sent to the whole process group are the parent's to handle — a
    # server that stopped on them cut the requests the parent was still draining
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)

    async def main() -> None:
        stop = asyncio.Event()  # never set: the process ends by its parent's kill
        app = build(arg)
        if timing.ENABLED:
            app.middlewares.append(_first_request_stamp(_is_aiohttp(app)))
        await serve_app(app, on_ready=_told(conn), stop=stop, sock=sock)

    aio.run(main())


def _told(conn: Any) -> Callable[[int], None]:
    """Tell the parent this server's port; a parent no longer waiting (a Ctrl-C while the run
    started closed the pipe) ends this process at once, quietly — no traceback, and none of
    the output buffered in the parent when it forked written a second time."""

    def ready(port: int) -> None:
        try:
            conn.send(port)
        except OSError:
            os._exit(0)

    return ready


def _resolve(factory: Factory) -> Callable[[Any], App]:
    """The factory itself, or the function its ``"module:function"`` name names (imported)."""
    if not isinstance(factory, str):
        return factory
    module, _, function = factory.partition(":")
    found: Callable[[Any], App] = getattr(importlib.import_module(module), function)
    return found


def _first_request_stamp(aiohttp_app: bool) -> Any:
    """A middleware (debug timing only) that stamps the first request this server gets."""
    first = True

    async def stamp_first(request: Any, handler: Any) -> Any:
        nonlocal first
        if first:
            first = False
            # the route's pattern, never the path: a ``{key}`` path carries the API key
            if aiohttp_app:
                route = request.match_info.route.resource
                where = None if route is None else route.canonical
            else:
                where = request.match_info.canonical
            where = where or "unrouted"
            timing.stamp(f"server process: first request ({request.method} {where})")
        return await handler(request)

    if aiohttp_app:
        from aiohttp import web as aioweb

        return aioweb.middleware(stamp_first)
    return stamp_first
