"""Workers as threads of this process: the ``WorkerPool`` the engine's tests run on.

Spawning a worker process costs a fresh interpreter and a second import of loadtui, aiohttp and
the metrics — seconds on a busy machine, for every run of every test. Most engine tests are
about what a worker does, not about the process it lives in; they run the same ``Worker`` with
the same messages in a thread instead. Real runs keep ``ProcessPool``: a generator that shares
the UI's GIL could not promise its timestamps.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from collections.abc import Callable

from loadtui.engine.channel import Inbox
from loadtui.engine.messages import Control, Exited, Failed, Ready, Stop, Up
from loadtui.engine.worker import SNAPSHOT_INTERVAL, Worker, WorkerSpec, describe
from loadtui.runtime import aio

__all__ = ["InProcessPool"]

_THREAD_END = 3.0
"""How long ``InProcessPool.close`` waits for a worker told to stop at once: its cancelled
requests unwind (up to 2 s) and it sends its last snapshot."""


class InProcessPool:
    """Workers as threads of this process, each with its own event loop.

    The same ``Worker`` and the same messages, handed over through thread-safe queues instead of
    pipes (by reference, not pickled: a sender never touches a message again). A run starts in
    milliseconds instead of a spawn and a fresh import per worker, so the engine's tests use it
    wherever the process boundary is not their subject. The workers share this process's GIL
    with the caller, so a generator's accuracy and capacity belong to ``ProcessPool``; their
    CPU figures are their threads'. A thread cannot be killed: ``close`` tells a worker still
    running to stop at once and waits a little, then leaves it (a daemon thread).
    """

    def __init__(
        self,
        snapshot_interval: float = SNAPSHOT_INTERVAL,
        wall_clocks: Callable[[int], Callable[[], float]] | None = None,
    ) -> None:
        self.snapshot_interval = snapshot_interval
        self._wall_clocks = wall_clocks
        """Worker index → its wall clock (tests: a worker whose host's clock is off)."""
        self._inbox = Inbox()
        self._workers: list[_ThreadWorker] = []

    def start(self, specs: list[WorkerSpec]) -> None:
        for spec in specs:
            wall = self._wall_clocks(spec.index) if self._wall_clocks else time.time
            worker = _ThreadWorker(spec, self._inbox.put, wall)
            worker.thread.start()
            self._workers.append(worker)

    def send(self, index: int, message: Control) -> None:
        if index not in self._inbox.gone:
            self._workers[index].send(message)

    def broadcast(self, message: Control) -> None:
        for i in range(len(self._workers)):
            self.send(i, message)

    def worker(self, index: int) -> Worker | None:
        """Worker ``index`` itself, once its loop runs: it shares this process, so a test can
        read what it did (when it began, on the same ``perf_counter`` as the coordinator)."""
        return self._workers[index].worker

    def receive(self, timeout: float) -> list[Up]:
        if len(self._inbox.gone) >= len(self._workers):
            return []
        return self._inbox.take(timeout)

    def close(self, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        for worker in self._workers:
            worker.thread.join(max(0.0, deadline - time.monotonic()))
        late = [w for w in self._workers if w.thread.is_alive()]
        for worker in late:
            worker.send(Stop(0.0))  # what terminating a process is to ProcessPool
        deadline = time.monotonic() + _THREAD_END
        for worker in late:
            worker.thread.join(max(0.0, deadline - time.monotonic()))
        self._inbox.gone.update(range(len(self._workers)))


class _ThreadWorker:
    """One worker on its own thread and event loop; controls reach it through a queue."""

    def __init__(
        self, spec: WorkerSpec, up: Callable[[Up], None], wall_clock: Callable[[], float]
    ) -> None:
        self.spec = spec
        self.up = up
        self.wall_clock = wall_clock
        self._down: queue.SimpleQueue[Control] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        """Set while the worker's loop runs: ``send`` wakes it to read the queue."""
        self.worker: Worker | None = None
        self.thread = threading.Thread(
            target=self._main, name=f"loadtui-worker-{spec.index}", daemon=True
        )

    def send(self, message: Control) -> None:
        self._down.put(message)
        with self._lock:
            loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: it has ended
                loop.call_soon_threadsafe(self._pump)

    def _main(self) -> None:
        code = 1
        try:
            code = 0 if aio.run(self._serve()) is None else 1
        except BaseException as exc:  # a bug outside any task: say so, as a process would
            self.up(Failed(self.spec.index, describe(exc, "worker")))
        finally:
            self.up(Exited(self.spec.index, code))

    async def _serve(self) -> str | None:
        """Serve until stopped; returns the failure the worker reported, if any."""
        worker = self.worker = Worker(self.spec, self.up, time.thread_time, self.wall_clock)
        with self._lock:
            self._loop = asyncio.get_running_loop()
        try:
            self._pump()  # anything sent before the loop was known
            self.up(Ready(self.spec.index))
            await worker.serve()
        finally:
            with self._lock:
                self._loop = None
        return worker.failure

    def _pump(self) -> None:
        worker = self.worker
        assert worker is not None
        while True:
            try:
                message = self._down.get_nowait()
            except queue.Empty:
                return
            worker.handle(message)
