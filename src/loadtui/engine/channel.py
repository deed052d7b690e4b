"""The coordinator–worker channel, kept behind one small interface.

``WorkerPool`` is what the coordinator needs: start workers from specs, send a control tuple to
one or all, receive whatever came up (snapshots and lifecycle events), close. ``ProcessPool``
implements it with local processes and pipes. A pool of Ray actors (or any other distributed
engine) can implement the same five methods — the messages are plain picklable data and the
histograms inside snapshots are HdrHistogram-encoded bytes, so nothing else changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import signal
from multiprocessing.connection import Connection, wait
from typing import Any, Protocol

from loadtui.engine import aio
from loadtui.engine.lifeline import die_with_parent
from loadtui.engine.worker import Worker, WorkerSpec

__all__ = ["ProcessPool", "WorkerPool"]


class WorkerPool(Protocol):
    def start(self, specs: list[WorkerSpec]) -> None: ...
    def send(self, index: int, message: tuple) -> None: ...
    def broadcast(self, message: tuple) -> None: ...
    def receive(self, timeout: float) -> list[Any]:
        """Messages that arrived within ``timeout``: snapshots, ("ready", i), ("exited", i)."""
        ...

    def close(self, timeout: float = 5.0) -> None: ...


class ProcessPool:
    """Workers as spawned processes, one duplex pipe each."""

    def __init__(self) -> None:
        self._ctx = mp.get_context("spawn")
        self._conns: list[Connection] = []
        self._procs: list[Any] = []
        self._open: dict[Connection, int] = {}

    def start(self, specs: list[WorkerSpec]) -> None:
        for spec in specs:
            parent, child = self._ctx.Pipe(duplex=True)
            proc = self._ctx.Process(
                target=_process_main,
                args=(spec, child),
                name=f"loadtui-worker-{spec.index}",
                daemon=True,
            )
            proc.start()
            child.close()
            self._conns.append(parent)
            self._procs.append(proc)
            self._open[parent] = spec.index

    def send(self, index: int, message: tuple) -> None:
        conn = self._conns[index]
        if conn in self._open:
            with contextlib.suppress(BrokenPipeError, OSError):
                conn.send(message)

    def broadcast(self, message: tuple) -> None:
        for i in range(len(self._conns)):
            self.send(i, message)

    def receive(self, timeout: float) -> list[Any]:
        out: list[Any] = []
        if not self._open:
            return out
        for conn in wait(list(self._open), timeout):
            try:
                while conn.poll():
                    out.append(conn.recv())
            except (EOFError, OSError):
                out.append(("exited", self._open.pop(conn)))
        return out

    def close(self, timeout: float = 5.0) -> None:
        for proc in self._procs:
            proc.join(timeout)
            if proc.is_alive():
                proc.terminate()
                proc.join(1.0)
        for conn in self._conns:
            conn.close()
        self._open.clear()


def _process_main(spec: WorkerSpec, conn: Connection) -> None:
    die_with_parent()  # a SIGKILLed coordinator must not leave load running
    # The coordinator owns shutdown: Ctrl-C and a dropped SSH session reach it, and it stops us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    aio.run(_serve(spec, conn))


async def _serve(spec: WorkerSpec, conn: Connection) -> None:
    loop = asyncio.get_running_loop()
    worker = Worker(spec, conn.send)

    def readable() -> None:
        try:
            while conn.poll():
                worker.handle(conn.recv())
        except (EOFError, OSError):
            loop.remove_reader(conn.fileno())
            worker.handle(("stop", 0.0))

    loop.add_reader(conn.fileno(), readable)
    conn.send(("ready", spec.index))
    with contextlib.suppress(BrokenPipeError, OSError):
        await worker.serve()
