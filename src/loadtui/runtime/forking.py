"""Prespawned helper processes started by ``fork`` where that is safe, and what such a child drops.

A run's CLI starts its embedded mock and first workers before it knows their settings
(``engine/channel.py``, ``mock/servers.py`` ``prespawn``). Spawned, each child starts a new
interpreter and imports pydantic and the run's models again before its own modules; forked
from the parent — which has imported them to check the options — it starts with them (some
0.1-0.25 s of CPU less per child: docs/performance.md, "Start-up and exit"). ``fork`` is used
only on Linux and only while the parent has a single thread: a child forked from a threaded
process can inherit a lock some other thread held (macOS's system libraries forbid it too).
Children spawned later (by the session, from a threaded process) are spawned as before.

A forked child inherits every descriptor of its parent, among them the parent's ends of its
own pipes and of its siblings'; it closes those at once (``drop_inherited``), so each pipe
still ends (EOF) when the parent closes its end or dies.
"""

from __future__ import annotations

import contextlib
import gc
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any, Literal

__all__ = ["discard", "drop_inherited", "hold", "ignore_signals", "prepare", "signals_held"]

_HELD = (signal.SIGINT, signal.SIGHUP)
"""The signals a prespawned child leaves to its parent (Ctrl-C, a dropped terminal)."""

_held: list[Any] = []
"""The parent's ends of its prespawned helpers' pipes (``multiprocessing`` connections)."""


def prepare() -> Literal["fork", "spawn"]:
    """The start method for a prespawned child: ``fork`` on Linux while this process runs one
    thread, ``spawn`` otherwise. Output buffered so far is flushed first: a forked child that
    flushes its copy of the buffers as it ends would write it again. Before a fork, what this
    process holds is frozen out of its garbage collector (``gc.freeze``)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError, AttributeError):  # closed, or None
            stream.flush()
    if sys.platform.startswith("linux") and threading.active_count() == 1:
        # the parent's own collections must not visit what it shares with the child either: a
        # full collection in the parent wrote every inherited object's header, and ~5.5 MB of
        # pages each process had shared became private to both, mid-run (memory_bench.py)
        gc.freeze()
        return "fork"
    return "spawn"


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Ctrl-C and SIGHUP held back while children are started: a child inherits the blocked
    mask (through ``fork`` and ``exec`` alike) and lets them in only once it ignores them
    (``ignore_signals``); this process takes any that came meanwhile as the block ends.
    Without it a Ctrl-C in the first moments of a child printed a ``KeyboardInterrupt``
    traceback from inside it."""
    if not hasattr(signal, "pthread_sigmask"):  # Windows: nothing to hold
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def ignore_signals() -> None:
    """First in a prespawned child: Ctrl-C and SIGHUP are its parent's to handle (as a
    worker's are); ignored, then let in."""
    for sig in _HELD:
        signal.signal(sig, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _HELD)


def hold(*conns: Any) -> None:
    """Note pipe ends this process keeps for a child, before it starts: a child forked from now
    on drops them. Ends closed since (a pool that ended) are forgotten here, so the list of a
    long-lived process (the app starts run after run) stays as long as its open pipes."""
    _held[:] = [conn for conn in _held if not getattr(conn, "closed", False)]
    _held.extend(conns)


def drop_inherited() -> None:
    """Call first in a forked child: close the pipe ends its parent holds, and keep the
    inherited objects out of the garbage collector's passes, which write to every object they
    visit and would copy the pages the child shares with its parent (``gc.freeze``). Nothing
    in a spawned child, which inherited nothing."""
    if not _held:
        return
    gc.freeze()
    while _held:
        _held.pop().close()


def discard(proc: Any, *conns: Any) -> None:
    """End a prespawned child no run took, at once (it holds nothing worth an orderly end), reap
    it, and close this process's ends of its pipes."""
    if proc.is_alive():
        proc.kill()
    proc.join(5.0)
    for conn in conns:
        conn.close()
