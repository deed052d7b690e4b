"""The coordinator–worker channel, kept behind one small interface.

``WorkerPool`` is what the coordinator needs: start workers from specs, send a control message
to one or all, receive whatever came up (snapshots and lifecycle events), close — and how often
its workers should report (``snapshot_interval``). Two pools
implement it: ``ProcessPool`` runs each worker in a spawned process with pipes (real runs: the
generator never shares a GIL with the UI), ``InProcessPool`` (``inprocess.py``) in a thread of this process with
queues (tests whose subject is not the process boundary: no spawn, no imports twice). A pool of
Ray actors (or any other distributed engine) can implement the same five methods — the messages
(``engine/messages.py``) are plain picklable data and the histograms inside snapshots are
HdrHistogram-encoded bytes, so nothing else changes.

The contract on controls: a pool delivers every control it is sent to its worker exactly once
(unless the worker has ended), in any order, and hands it to ``Worker.handle`` as it is. The
coordinator numbers each worker's controls (``Control.seq``) and the worker applies them in
that order (``engine/sequence.py``), so a pool need not keep order nor know of the numbers. A
pool may send its own ``Stop`` unnumbered (``seq`` 0: applied at once) when its link to the
worker is gone.
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing as mp
import multiprocessing.util  # its exit handler registered now, so that ours runs before it
import os
import pickle
import queue
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any, Literal, Protocol

from loadtui.engine.spec import SNAPSHOT_INTERVAL, WorkerSpec
from loadtui.runtime import forking, timing
from loadtui.runtime.gcpause import collector_paused
from loadtui.runtime.lifeline import die_with_parent

if TYPE_CHECKING:
    from loadtui.engine.messages import Control, Up

# The messages (``engine/messages.py``, some 15-40 ms of imports) are imported where a message
# is made or read, not here: a run's CLI imports this module to fork its first worker
# (``engine/prespawn.py``) before the session, and the child imports them itself, in parallel.

__all__ = ["Inbox", "ProcessPool", "WorkerPool"]


class WorkerPool(Protocol):
    snapshot_interval: float
    """Seconds between a worker's snapshots: 0.25 on one host, longer across hosts (each push
    costs more there). The coordinator puts it in every ``WorkerSpec``."""

    def start(self, specs: list[WorkerSpec]) -> None: ...
    def send(self, index: int, message: Control) -> None:
        """Deliver ``message`` to worker ``index`` once, in any order (the contract above)."""
        ...

    def broadcast(self, message: Control) -> None:
        """The same message to every worker (the coordinator numbers each worker's own and
        uses ``send``; this is for a pool's own and tests' messages)."""
        ...

    def receive(self, timeout: float) -> list[Up]:
        """Messages that arrived within ``timeout``: snapshots, ``Ready``, ``Failed`` (a
        worker hit an unexpected exception and is ending), ``Exited`` (it has ended)."""
        ...

    def close(self, timeout: float = 5.0) -> None: ...


class Inbox:
    """What came up from every worker, in arrival order; knows which workers have ended.
    Thread-safe: every pool's readers or workers put into it, ``receive`` takes from it."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Up] = queue.SimpleQueue()
        self.gone: set[int] = set()

    def put(self, message: Up) -> None:
        self._queue.put(message)

    def take(self, timeout: float) -> list[Up]:
        out: list[Up] = []
        try:
            out.append(self._queue.get(timeout=max(0.0, timeout)))
            while True:
                out.append(self._queue.get_nowait())
        except queue.Empty:
            pass
        from loadtui.engine.messages import Exited

        self.gone.update(m.worker for m in out if isinstance(m, Exited))
        return out


class ProcessPool:
    """Workers as spawned processes, two one-way pipes each.

    Down (controls) the child reads from its event loop; up (snapshots) a child thread writes
    in blocking mode, so a large snapshot is always written whole — the loop's reader makes its
    fd non-blocking, and a shared duplex pipe once tore a 170 KB snapshot in half (EAGAIN) and
    left the parent waiting forever for the rest. In the parent one reader thread per worker
    blocks on its pipe, so ``receive`` only waits on a queue: a partial message, a stopped
    worker or a dead one can never hang the coordinator or keep a signal from being handled.
    """

    def __init__(
        self,
        snapshot_interval: float = SNAPSHOT_INTERVAL,
        while_starting: Callable[[], None] | None = None,
    ) -> None:
        self.snapshot_interval = snapshot_interval
        self._while_starting = while_starting
        """Run by ``start`` once the workers are spawned, while they import (the session waits
        there for the embedded mock, which starts at the same time); if it raises, the workers
        are ended and the error goes on."""
        self._down: list[Connection] = []
        self._up: list[Connection] = []
        self._procs: list[Any] = []
        self._readers: list[threading.Thread] = []
        self._inbox = Inbox()

    def start(self, specs: list[WorkerSpec]) -> None:
        timing.stamp(f"workers: spawning {len(specs)}")
        handed: list[tuple[Connection, WorkerSpec]] = []
        # workers prespawned by this process (``engine/prespawn.py``), if it imported that
        prespawned = sys.modules.get("loadtui.engine.prespawn")
        for spec in specs:
            warm = None if prespawned is None else prespawned.take()
            if warm is None:
                self._spawn(spec)
                continue
            self._adopt(spec, warm)
            handed.append((warm.down, spec))
        # a prespawned worker gets its spec once every other is spawned: a large spec (a trace,
        # prompts) fills the pipe and waits for the child to finish importing
        for down, spec in handed:
            with contextlib.suppress(BrokenPipeError, OSError):  # it died: its reader says so
                down.send(spec)
        if self._while_starting is not None:
            try:
                self._while_starting()
            except BaseException:
                self.close(0.0)
                raise

    def _spawn(self, spec: WorkerSpec) -> None:
        child = _Child.spawn(_process_main, f"loadtui-worker-{spec.index}", spec)
        self._adopt(spec, child)

    def _adopt(self, spec: WorkerSpec, child: _Child) -> None:
        """Take ``child`` as worker ``spec.index``: its pipes, and a thread reading it."""
        child.proc.name = f"loadtui-worker-{spec.index}"
        self._down.append(child.down)
        self._up.append(child.up)
        self._procs.append(child.proc)
        reader = threading.Thread(
            target=self._read,
            args=(spec.index, child.up, child.proc),
            name=f"loadtui-read-{spec.index}",
        )
        reader.daemon = True
        reader.start()
        self._readers.append(reader)

    def _read(self, index: int, conn: Connection, proc: Any) -> None:
        try:
            while True:
                self._inbox.put(conn.recv())
        except (EOFError, OSError, pickle.UnpicklingError):
            pass
        finally:
            from loadtui.engine.messages import Exited

            proc.join(2.0)  # EOF comes as it exits: wait for its exit code, to say why
            self._inbox.put(Exited(index, proc.exitcode))

    def send(self, index: int, message: Control) -> None:
        if index in self._inbox.gone:
            return
        with contextlib.suppress(BrokenPipeError, OSError):
            self._down[index].send(message)

    def broadcast(self, message: Control) -> None:
        for i in range(len(self._down)):
            self.send(i, message)

    def receive(self, timeout: float) -> list[Up]:
        if len(self._inbox.gone) >= len(self._procs):
            return []
        return self._inbox.take(timeout)

    def kill(self, index: int) -> None:
        """End one worker at once (tests, and a worker that stopped answering)."""
        proc = self._procs[index]
        if proc.is_alive():
            proc.kill()

    def close(self, timeout: float = 5.0) -> None:
        for proc in self._procs:
            proc.join(timeout)
            if proc.is_alive():  # it ignores SIGTERM (above): only a kill ends a hung worker
                proc.kill()
                proc.join(1.0)
        for reader in self._readers:
            reader.join(1.0)  # the child is gone: its pipe is at EOF
        for conn in (*self._down, *self._up):
            conn.close()
        self._inbox.gone.update(range(len(self._procs)))


_started: list[Any] = []
"""Every worker process this process started: any still alive when it exits is killed
(``_end_leftovers``)."""


def _end_leftovers() -> None:
    """At exit, before multiprocessing's own handler — which signals its children and then
    waits for each with no time limit — kill any worker still alive: a worker ignores the
    signals the CLI takes, so a path that skipped the pool's close (an interrupted start) would
    otherwise hang the exit for ever."""
    for proc in _started:
        with contextlib.suppress(Exception):
            if proc.is_alive():
                proc.kill()
    _started.clear()


atexit.register(_end_leftovers)  # after multiprocessing.util's (imported above): runs first


@dataclass
class _Child:
    """A worker's process and the parent's ends of its two pipes."""

    proc: Any
    down: Connection
    up: Connection

    @classmethod
    def spawn(
        cls,
        target: Callable[..., None],
        name: str,
        *args: Any,
        method: Literal["fork", "spawn"] = "spawn",
    ) -> _Child:
        ctx: Any = mp.get_context(method)  # fork or spawn: both make a Process and a Pipe
        down_r, down_w = ctx.Pipe(duplex=False)
        up_r, up_w = ctx.Pipe(duplex=False)
        forking.hold(down_w, up_r)  # a forked child (this one, or a later one) drops them
        proc = ctx.Process(target=target, args=(*args, down_r, up_w), name=name, daemon=True)
        if method == "spawn":  # its start unblocks SIGINT, which the block below must keep
            from multiprocessing import resource_tracker

            resource_tracker.ensure_running()
        with forking.signals_held():  # a Ctrl-C while it starts is the parent's alone
            proc.start()
        _started[:] = [p for p in _started if p.is_alive()]  # an app starts run after run
        _started.append(proc)
        down_r.close()
        up_w.close()
        return cls(proc, down_w, up_r)

    def discard(self) -> None:
        """End it at once: a prespawned worker no run took holds nothing."""
        forking.discard(self.proc, self.down, self.up)


class _Sender:
    """The worker's way up: whole messages written from a thread on a blocking pipe, in order.

    The event loop only enqueues; if the parent reads slowly, the thread waits, not the loop.
    """

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._queue: queue.SimpleQueue[Up | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="loadtui-send", daemon=True)
        self._thread.start()

    def __call__(self, message: Up) -> None:
        self._queue.put(message)

    def _run(self) -> None:
        while (message := self._queue.get()) is not None:
            try:
                self._conn.send(message)
            except (BrokenPipeError, OSError):
                return  # the parent is gone; nobody is left to tell

    def close(self, timeout: float = 10.0) -> None:
        """Flush what is queued (the final snapshot) before the process exits."""
        self._queue.put(None)
        self._thread.join(timeout)


def _process_main(spec: WorkerSpec, down: Connection, up: Connection) -> None:
    forking.ignore_signals()  # Ctrl-C and SIGHUP, held back while it started, are the parent's
    die_with_parent()  # a SIGKILLed coordinator must not leave load running
    _import_worker()
    timing.stamp(f"worker {spec.index}: imports done")
    _work(spec, down, up)


def _import_worker() -> None:
    """The worker's modules (the hot path) and asyncio, imported in the child only: the parent
    imports this module to spawn workers and must not pay for them."""
    with collector_paused():
        import loadtui.engine.worker  # noqa: F401
        from loadtui.runtime import aio

        aio.preload()


def _work(spec: WorkerSpec, down: Connection, up: Connection) -> None:
    """Be worker ``spec.index`` until stopped, then end the process."""
    from loadtui.engine.messages import Failed
    from loadtui.engine.worker import describe
    from loadtui.runtime import aio

    # The coordinator owns shutdown: Ctrl-C, a dropped SSH session and a SIGTERM sent to the
    # whole process group (`timeout`, systemd, `kill -TERM -PGID`) reach it too, and it stops
    # us once the load has drained; the kernel kills us if it dies (die_with_parent).
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    send = _Sender(up)
    try:
        failure = aio.run(_serve(spec, down, send))
    except BaseException as exc:  # a bug outside any task: say so, then exit non-zero
        send(Failed(spec.index, describe(exc, "worker")))
        failure = "reported"
    send.close()
    timing.stamp(f"worker {spec.index}: final snapshot sent, exiting")
    # Nothing is left to write: the request log was closed before the final snapshot, which is
    # in the pipe. The interpreter's teardown (aiohttp's and the run's objects, every module)
    # took 0.1-0.3 s between that snapshot and the exit the coordinator waits for: skipped.
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    if (cache := sys.modules.get("loadtui.runtime.codecache")) is not None:
        cache.save()  # a forked worker's own dataclasses, compiled once (runtime/codecache.py)
    os._exit(0 if failure is None else 1)


async def _serve(spec: WorkerSpec, down: Connection, send: _Sender) -> str | None:
    """Serve until stopped; returns the failure the worker reported, if any."""
    import asyncio  # imported already, as the rest (``_process_main``)

    from loadtui.engine.messages import Ready, Stop
    from loadtui.engine.worker import Worker

    loop = asyncio.get_running_loop()
    worker = Worker(spec, send)

    def readable() -> None:
        # Control messages are tiny (< PIPE_BUF), so each arrives whole even on this
        # non-blocking fd.
        try:
            while down.poll():
                worker.handle(down.recv())
        except (EOFError, OSError):
            loop.remove_reader(down.fileno())
            worker.handle(Stop(0.0))

    loop.add_reader(down.fileno(), readable)
    send(Ready(spec.index))
    timing.stamp(f"worker {spec.index}: ready")
    await worker.serve()
    return worker.failure
