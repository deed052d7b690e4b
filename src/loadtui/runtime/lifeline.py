"""Helper processes die with the process that started them.

A SIGKILLed loadtui (``kill -9``, the OOM killer) runs no cleanup of its own. Without this its
workers and the embedded mock would live on for minutes, holding the terminal's pipes — and so
would multiprocessing's resource tracker, which exits only once every process holding its pipe
(every spawned child inherits it) is gone. On Linux the kernel kills the child when its parent
dies (``PR_SET_PDEATHSIG``); elsewhere a thread polls the parent's pid.

Linux sends the signal when the *thread* that started the child ends, not only the process: a
helper must be started on a thread that outlives it (the session starts and stops its workers
and servers on one thread, the main one or the app's run thread).
"""

from __future__ import annotations

import ctypes
import multiprocessing as mp
import os
import signal
import sys
import threading
import time

__all__ = ["die_with_parent"]

_PR_SET_PDEATHSIG = 1


def die_with_parent(poll: float = 0.5) -> None:
    """Call first thing in a spawned child: it is killed as soon as its parent process ends."""
    parent = mp.parent_process()
    expected = parent.pid if parent is not None and parent.pid else os.getppid()
    if not _pdeathsig(signal.SIGKILL):
        threading.Thread(
            target=_watch, args=(expected, poll), name="loadtui-lifeline", daemon=True
        ).start()
    if os.getppid() != expected:  # the parent died before the kernel was told to watch it
        os._exit(1)


def _pdeathsig(sig: int) -> bool:
    """Ask Linux to send ``sig`` when the parent dies; False where that is not available."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def _watch(expected: int, poll: float) -> None:
    while os.getppid() == expected:
        time.sleep(poll)
    os._exit(1)
