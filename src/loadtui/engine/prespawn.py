"""Workers started before their run is known: a headless run's CLI forks (or spawns) them as
soon as its options are checked, so their imports overlap the parent's (docs/performance.md,
"Start-up and exit"); the next ``ProcessPool.start`` of this process takes them.

A prespawned worker imports the worker's modules at once, then waits on its control pipe for
its ``WorkerSpec``, the first message down; ``discard_prespawned`` ends those no pool took.
``ProcessPool`` looks for this module in ``sys.modules`` only: a process that never prespawns
never imports it.
"""

from __future__ import annotations

import atexit
import os
import pickle
from multiprocessing.connection import Connection

from loadtui.engine.channel import _Child, _import_worker, _work
from loadtui.runtime import forking, timing
from loadtui.runtime.lifeline import die_with_parent

__all__ = ["discard_prespawned", "prespawn", "take", "waiting"]

_prespawned: list[_Child] = []
"""Workers spawned before their run was known (``prespawn``), oldest first."""


def prespawn(count: int) -> None:
    """Start ``count`` worker processes now, before their specs are known: each imports the
    worker's modules at once, then waits on its pipe. The next ``ProcessPool.start`` in this
    process takes them (spawning any more it needs); ``discard_prespawned`` ends those left.

    A run's CLI calls this as soon as its options are checked, so the workers' imports overlap
    the parent's own (docs/performance.md, "Start-up and exit"). Call it on the thread that
    will run the pool: a child dies with the thread that started it (``runtime/lifeline.py``).
    """
    first = not _prespawned
    method = forking.prepare()  # fork while this process has one thread (Linux)
    with forking.signals_held():
        for _ in range(count):
            _prespawned.append(_Child.spawn(_prespawned_main, "loadtui-worker", method=method))
    if first and count:
        # registered after multiprocessing's own exit handler (imported by the first spawn), so
        # it runs before that one, which would wait for the children it signals
        atexit.register(discard_prespawned)
    timing.stamp(f"workers: prespawned {count} ({method})")


def waiting() -> int:
    """How many prespawned workers wait for a pool to take them."""
    return len(_prespawned)


def discard_prespawned() -> None:
    """End every prespawned worker no pool took (the run ended before it started workers,
    or needed fewer)."""
    while _prespawned:
        _prespawned.pop().discard()


def take() -> _Child | None:
    """The oldest live prespawned worker, for a pool to adopt (None: there is none left; a
    dead one is ended and skipped, so the pool spawns a fresh one)."""
    while _prespawned:
        child = _prespawned.pop(0)
        if child.proc.is_alive():
            return child
        child.discard()
    return None


def _prespawned_main(down: Connection, up: Connection) -> None:
    """A prespawned worker (``prespawn``): its imports first, then its spec, the first message
    down; the pipe closed before that (the run did not want it) ends it quietly."""
    # Ctrl-C and a dropped terminal are the parent's to handle, as a worker's are (a traceback
    # of an interrupted import helps nobody); SIGTERM still ends an idle one. First: they were
    # held back while this process started (``forking.signals_held``)
    forking.ignore_signals()
    forking.drop_inherited()
    die_with_parent()
    _import_worker()
    timing.stamp("worker (prespawned): imports done, waiting for its spec")
    try:
        spec = down.recv()
    except (EOFError, OSError, pickle.UnpicklingError):
        os._exit(0)
    timing.stamp(f"worker {spec.index}: spec taken")
    _work(spec, down, up)
