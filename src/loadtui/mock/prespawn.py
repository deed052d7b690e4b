"""A server's process started before its app's argument is known: a headless run's CLI forks
(or spawns) the embedded mock as soon as its options are checked, so its imports overlap the
parent's (docs/performance.md, "Start-up and exit"); the next ``ServerProcess`` of the same app
and host takes it in ``launch``.

Its socket is bound here, by the parent, as ``launch`` does; the child imports at once, then
waits for its app's argument on a pipe of its own. ``discard_prespawned`` ends one nobody took.
``ServerProcess`` looks for this module in ``sys.modules`` only: a process that never
prespawns never imports it.
"""

from __future__ import annotations

import atexit
import multiprocessing as mp
import os
import pickle
import socket
from dataclasses import dataclass
from typing import Any

from loadtui.mock.servers import _bound, _imported, _serve
from loadtui.runtime import forking, timing
from loadtui.runtime.lifeline import die_with_parent

__all__ = ["discard_prespawned", "prespawn", "take"]


@dataclass
class _Prespawned:
    """A server's process started before its app's argument was known, and its pipes."""

    proc: Any
    port: int
    ready: Any
    """Where it says "serving" (``ServerProcess.wait_ready`` reads it)."""
    settings: Any
    """Where its app's argument goes."""

    def discard(self) -> None:
        forking.discard(self.proc, self.ready, self.settings)


_prespawned: dict[tuple[str, str], _Prespawned] = {}
"""Prespawned servers by (app's name, host), until a ``ServerProcess`` takes one."""


def prespawn(
    factory: str, host: str = "127.0.0.1", name: str = "server", client_tls: bool = True
) -> None:
    """Start a server's process now, before its app's argument is known: it binds (here, as
    ``launch`` does) and imports at once, then waits. The next ``ServerProcess`` of the same
    app and host takes it in ``launch``; ``discard_prespawned`` ends one nobody took. A run's
    CLI calls this as soon as its options are checked, so the server's imports overlap the
    parent's own (docs/performance.md, "Start-up and exit"). Nothing happens if no port can be
    bound: ``launch`` will say so."""
    method = forking.prepare()  # fork while this process has one thread (Linux)
    timing.stamp(f"{name}: prespawning ({method})")
    ctx: Any = mp.get_context(method)  # fork or spawn: both make a Process and a Pipe
    try:
        sock = _bound(host, 0)
    except OSError:
        return
    ready, ready_w = ctx.Pipe(duplex=False)
    settings_r, settings = ctx.Pipe(duplex=False)
    forking.hold(ready, settings)  # a forked child (this one, or a later one) drops them
    try:
        proc = ctx.Process(
            target=_prespawned_main,
            args=(factory, sock, ready_w, settings_r, client_tls),
            name=f"loadtui-{name}",
            daemon=True,
        )
        with forking.signals_held():
            proc.start()
        port = sock.getsockname()[1]
    finally:
        sock.close()  # the child holds its own copy
        ready_w.close()
        settings_r.close()
    if not _prespawned:
        # after the spawn, so it runs before multiprocessing's exit handler (registered then)
        atexit.register(discard_prespawned)
    older = _prespawned.pop((factory, host), None)
    if older is not None:  # one of this app is enough
        older.discard()
    _prespawned[(factory, host)] = _Prespawned(proc, port, ready, settings)


def discard_prespawned() -> None:
    """End every prespawned server no ``ServerProcess`` took."""
    while _prespawned:
        _prespawned.popitem()[1].discard()


def take(factory: str, host: str) -> _Prespawned | None:
    """The prespawned server of this app and host, for a ``ServerProcess`` to adopt."""
    return _prespawned.pop((factory, host), None)


def _prespawned_main(
    factory: str, sock: socket.socket, conn: Any, settings: Any, client_tls: bool
) -> None:
    """A prespawned server (``prespawn``): its imports first, then its app's argument, the
    first message on ``settings``; that pipe closed before (the run did not want this server)
    ends it quietly."""
    # Ctrl-C and a dropped terminal are the parent's to handle, as a serving one's are (a
    # traceback of an interrupted import helps nobody); SIGTERM still ends an idle one. First:
    # they were held back while this process started (``forking.signals_held``)
    forking.ignore_signals()
    forking.drop_inherited()
    die_with_parent()
    build = _imported(factory, client_tls)
    timing.stamp("server process (prespawned): imports done, waiting for its settings")
    try:
        arg = settings.recv()
    except (EOFError, OSError, pickle.UnpicklingError):
        os._exit(0)
    settings.close()
    timing.stamp("server process: settings taken")
    _serve(build, arg, sock, conn)
