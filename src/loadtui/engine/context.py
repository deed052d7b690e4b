"""What the parts of one worker share: its session, recorder, request mix, clock and switches.

A worker is split by responsibility — closed-loop users (``users.py``), open-loop and one-shot
requests (``arrivals.py``), the reporter (``reporter.py``) and the thin ``Worker`` that owns the
loop and the controls (``worker.py``). They all send requests over the same connections, book
them in the same ``Recorder``, wait for the same start time and obey the same pause; this one
object carries that, so none of them reaches into another.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from time import perf_counter
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from loadtui.engine.budget import Budget, share
from loadtui.engine.client import UserStatus, execute
from loadtui.engine.mix import RequestMix
from loadtui.engine.protocols import Prepared
from loadtui.engine.requestlog import RequestLog
from loadtui.engine.spec import SNAPSHOT_INTERVAL, WorkerSpec, basic_token
from loadtui.engine.tls import client_ssl
from loadtui.engine.wire import Wire
from loadtui.metrics.stats import Recorder
from loadtui.model.plan import header_secrets
from loadtui.model.slo import SloJudge, slos_of

if TYPE_CHECKING:
    import aiohttp

# SNAPSHOT_INTERVAL, WorkerSpec and basic_token live in ``spec.py`` (plain data the parent
# imports without aiohttp); named here too, where the worker's modules have always found them.
__all__ = ["SNAPSHOT_INTERVAL", "WorkerContext", "WorkerSpec", "basic_token", "describe"]


def _secrets(spec: WorkerSpec) -> tuple[str, ...]:
    """The key and URL credentials an error sample must not keep (a server may echo them);
    shorter than 4 characters they would match ordinary text, and no real one is."""
    found = [spec.api_key, *header_secrets(spec.config)]  # auth-like --header values too
    for url in (spec.base_url, spec.direct_url):
        parts = urlsplit(url or "")
        if parts.username is not None:
            user, password = unquote(parts.username), unquote(parts.password or "")
            found += [parts.username, parts.password, user, password, basic_token(user, password)]
    return tuple(s for s in dict.fromkeys(found) if s and len(s) >= 4)


def describe(exc: BaseException, where: str) -> str:
    """One line naming where an unexpected exception happened and what it was."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    line = f"{where}: {type(exc).__name__}" + (f": {text}" if text else "")
    return line[:300]


class WorkerContext:
    def __init__(self, spec: WorkerSpec, fail: Callable[[str, BaseException], None]) -> None:
        self.spec = spec
        self.fail = fail
        """Ends the worker with an exception raised outside any one request."""
        self.mix = RequestMix(
            spec.config,
            spec.base_url,
            spec.api_key,
            list(spec.prompts) if spec.prompts else None,
            spec.direct_url,
            spec.batch,
        )
        slos = slos_of(spec.config.slo)
        self.rec = Recorder(SloJudge(slos) if slos else None)
        self.rec.samples.secrets = _secrets(spec)
        self.log: RequestLog | None = None
        """One line per request (``--record-requests``), None when not asked for."""
        if spec.record_requests is not None:
            self.log = RequestLog(spec.record_requests, spec.index)
        self.wire: Wire | None = None
        """The worker's connections (``wire.py``); set while the worker serves."""
        self.batch_session: aiohttp.ClientSession | None = None
        """aiohttp's session for Batch API jobs, made by the first one (``batch_job``)."""
        self.t0: float | None = None
        self.started = asyncio.Event()
        self.running = asyncio.Event()
        """Cleared while paused."""
        self.running.set()
        self.stopping = asyncio.Event()
        """Set once the worker drains: nothing new may start."""
        self.in_flight = 0
        """Turns being sent now, by users and one-shot requests alike."""
        requests = spec.config.load.requests
        self.budget = None if requests is None else Budget(share(requests, spec.index, spec.count))
        """This worker's share of ``[load] requests`` (``budget.py``); None: no budget."""

    def start(self, t0: float) -> None:
        self.t0 = t0
        self.rec.samples.t0 = t0
        if self.log is not None:
            self.log.t0 = t0
        self.started.set()

    async def until_start(self) -> None:
        await self.started.wait()
        assert self.t0 is not None
        delay = self.t0 - perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)

    def watch(self, task: asyncio.Task[None], where: str) -> asyncio.Task[None]:
        """``task``, made to end the worker if it raises (a loop would only log it)."""

        def done(t: asyncio.Task[None]) -> None:
            if not t.cancelled() and (exc := t.exception()) is not None:
                self.fail(where, exc)

        task.add_done_callback(done)
        return task

    def spawn(self, coro: Coroutine[Any, Any, None], where: str) -> asyncio.Task[None]:
        return self.watch(asyncio.ensure_future(coro), where)

    async def perform(
        self,
        prep: Prepared,
        user: UserStatus | None = None,
        intended: float | None = None,
        answer: list[bytes] | None = None,
    ) -> bool:
        """One turn's request: a single HTTP request, or a whole Batch API job (``answer``:
        a conversation's turn, whose answer is kept there — ``client.execute``)."""
        wire = self.wire
        assert wire is not None, "requests are sent only once the worker serves"
        if prep.kind == "batch":
            return await self.batch_job(prep, user)
        return await execute(wire, prep, self.rec, user, intended, self.log, answer)

    def open_wire(self) -> Wire:
        """The worker's connections, with the target's TLS setting and timeouts."""
        target = self.spec.config.target
        self.wire = Wire(client_ssl(target), target.timeout, target.connect_timeout)
        return self.wire

    async def close_transports(self) -> None:
        """Close every connection the worker opened (its own and a batch job's session)."""
        if self.wire is not None:
            self.wire.close()
        if self.batch_session is not None:
            await self.batch_session.close()
            self.batch_session = None

    async def batch_job(self, prep: Prepared, user: UserStatus | None) -> bool:
        """A Batch API job over aiohttp, imported and opened by the run's first job only (a
        job is a few requests spread over seconds: not the hot path ``wire`` serves)."""
        from loadtui.engine.batch import batch_session, run_batch_job

        if self.batch_session is None:
            self.batch_session = batch_session(self.spec.config.target)
        return await run_batch_job(self.batch_session, prep, self.rec, user)
