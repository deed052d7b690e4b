"""Workers as Ray actors: the ``WorkerPool`` for load from many hosts (``--backend ray``).

One Ray async actor per worker (``num_cpus=1``, spread over the nodes) runs the same ``Worker``
as a process would, in the actor's own event loop. This is the only module that imports Ray,
and only when a run asks for it: ``pip install loadtui`` stays without it.

- **Up**: each actor keeps what its worker sends (snapshots, ``Ready``, ``Failed``) and one
  thread of the driver long-polls every actor at once (``take``, answered as soon as there is
  something), so a snapshot reaches the coordinator one call after it was made.
- **Down**: controls go through one sender thread that sends each actor its queued messages in
  one call and waits for it before the next — each message is delivered once, and in order
  (Ray does not keep one caller's async calls in order).
- **Loss**: an actor whose calls raise ``RayActorError`` (killed, node lost) is reported as
  ``Exited(index, None)``; the coordinator moves its users to the survivors.
- **Secrets**: actor creation arguments are kept in the cluster's metadata, so actors are made
  with a spec without the API key and URL credentials; those come in the first call.
- **Output**: Ray's own log lines would corrupt the app's screen and the console: the driver
  does not take the actors' output (``log_to_driver=False``) and Ray's logger writes to a file
  in the data dir (``ray_log_file``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import re
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

from loadtui.engine.channel import Inbox
from loadtui.engine.context import SNAPSHOT_INTERVAL
from loadtui.engine.messages import Control, Exited, Failed, Ready, Up
from loadtui.engine.worker import Worker, WorkerSpec, describe
from loadtui.errors import ConfigError, LoadtuiError, StartError, UsageError
from loadtui.locations import error_log_dir
from loadtui.model.plan import RunConfig
from loadtui.model.shaping import redacted_headers, secret_header_values

__all__ = ["RayCluster", "RayPool", "connect", "import_ray", "ray_log_file"]

REMOTE_SNAPSHOT_INTERVAL = 1.0
"""Snapshot interval when the cluster spans hosts: each push is a call over the network."""
LOCAL_SNAPSHOT_INTERVAL = 0.5
"""Snapshot interval on a one-host cluster. Each snapshot is an actor call, ~1.5–2.5 ms of CPU
between the driver and the actor on the 2-core machine (a worker process's pipe costs a tenth of
that): at 0.5 s
rather than a process's 0.25 s the live figures move twice a second, and the per-second series
stays exact (docs/performance.md)."""

_TAKE_WAIT = 1.0
"""How long an actor holds a ``take`` call with nothing to send (the driver re-asks)."""
_CONTROL_WAIT = 10.0
"""An actor that has not taken its controls in this long is hung: it is killed (and then lost,
its users moved to the survivors) rather than hold back the controls of every other actor."""
_INSTALL = "Ray is not installed: pip install 'loadtui[ray]'"
_LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def import_ray() -> ModuleType:
    """Ray, or a one-line UsageError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise UsageError(_INSTALL) from None
    return ray


def ray_log_file() -> Path:
    """Where Ray's own log lines go during a run (never the screen)."""
    return error_log_dir() / "ray.log"


# -- the cluster -----------------------------------------------------------------------------
@dataclass
class RayCluster:
    """A connection to a Ray cluster for one run."""

    address: str | None
    cpus: int
    """The cluster's CPUs: the default number of workers."""
    remote: bool
    """Some node is not this host (the embedded mock, on 127.0.0.1, cannot be reached)."""
    owned: bool
    """Connected (or started) by this run: ``disconnect`` shuts the connection down."""

    def disconnect(self) -> None:
        if self.owned:
            import_ray().shutdown()

    @property
    def snapshot_interval(self) -> float:
        return REMOTE_SNAPSHOT_INTERVAL if self.remote else LOCAL_SNAPSHOT_INTERVAL


def connect(address: str | None, workers: int, say: Callable[[str], None]) -> RayCluster:
    """Join the cluster at ``address`` (None: start a local Ray with ``workers`` CPUs at least).
    UsageError for a head that cannot be reached or runs another Ray version."""
    ray = import_ray()
    if ray.is_initialized():  # a caller (a test, a Ray job) connected already
        return _describe(ray, address, owned=False)
    log = ray_log_file()
    log.parent.mkdir(parents=True, exist_ok=True)
    _log_to(ray, log)
    options: dict[str, Any] = {"log_to_driver": False, "configure_logging": False}
    if address is None:
        options.update(include_dashboard=False, num_cpus=max(os.cpu_count() or 1, workers))
    _check_reachable(address)
    try:
        with _output_to(log), _local_settings(address is None):
            ray.init(address=address, **options)
    except Exception as exc:  # ConnectionError, RuntimeError, TimeoutError: Ray's own words
        raise connect_error(address, exc) from None
    if address is None:
        _stop_log_monitor(ray)
    say(f"ray: logs in {log}")
    return _describe(ray, address, owned=True)


LOCAL_RAY_SETTINGS: dict[str, str] = {
    # observability nobody reads on a Ray of one run with no dashboard: task events and
    # Ray's own metrics cost every actor call and every process a timer
    "RAY_task_events_report_interval_ms": "0",
    "RAY_enable_metrics_collection": "0",
    "RAY_event_stats": "0",
    # the raylet's housekeeping timers, 4–10 a second each by default, once a second on one
    # host: the memory monitor (the OOM killer reacts within 1 s), the disk-full check, idle
    # worker reaping, the GC check and the object manager's timer (no objects move between
    # nodes when there is one)
    "RAY_memory_monitor_refresh_ms": "1000",
    "RAY_local_fs_monitor_interval_ms": "1000",
    "RAY_kill_idle_workers_interval_ms": "1000",
    "RAY_raylet_check_gc_period_milliseconds": "1000",
    "RAY_object_manager_timer_freq_ms": "1000",
    # Ray starts a Python worker per CPU in advance; the ones no actor takes idle at ~5 ms of
    # CPU a second each for the whole run (actors start their own worker when created)
    "RAY_prestart_worker_first_driver": "0",
    # actors are the load generator: Ray starts them at nice 15, which lets every other
    # process on the host delay their timestamps; worker processes run at the driver's
    "RAY_worker_niceness": "0",
}
"""Ray settings for a local Ray that loadtui starts (never for a cluster it joins: those are
the cluster's). Environment variables, which every Ray process reads at start and a Ray
version without the setting ignores (``_system_config`` would refuse an unknown one).
Measured in docs/performance.md ("Ray actors against worker processes"); a variable already in
the environment is left as the user set it."""


@contextlib.contextmanager
def _local_settings(local: bool) -> Iterator[None]:
    """``LOCAL_RAY_SETTINGS`` in the environment while a local Ray starts (its processes
    inherit them), then the environment as it was."""
    added = {k: v for k, v in LOCAL_RAY_SETTINGS.items() if k not in os.environ} if local else {}
    os.environ.update(added)
    try:
        yield
    finally:
        for key in added:
            os.environ.pop(key, None)


def _stop_log_monitor(ray: ModuleType) -> None:
    """A local Ray's log monitor reads every worker's log ten times a second to forward it to
    the driver, which does not take it (``log_to_driver=False``): ~7 ms of CPU a second for
    nothing. Ray has no option for it in ``ray.init``, so it is stopped through the node
    object, where Ray keeps it; a Ray without that leaves it running."""
    node = getattr(getattr(ray, "_private", None), "worker", None)
    node = getattr(node, "_global_node", None)
    with contextlib.suppress(Exception):  # best effort: a cost, not a fault
        node.kill_log_monitor(check_alive=False)  # type: ignore[union-attr]


def connect_error(address: str | None, exc: BaseException) -> LoadtuiError:
    """One line for a failed ``ray.init``; a version mismatch names both sides' versions."""
    text = str(exc)
    where = f"the Ray cluster at {address}" if address else "a local Ray"
    chain = "\n".join(str(e) for e in (exc, exc.__cause__, exc.__context__) if e is not None)
    if "InvalidAuthToken" in chain:
        return ConfigError(
            f"{where} asks for its token: set RAY_AUTH_MODE=token and RAY_AUTH_TOKEN "
            "(or the file ~/.ray/auth_token) as on the head (docs/ray.md)"
        )
    if "version mismatch" in text.lower():
        rays = re.findall(r"Ray: (\S+)", text)
        pythons = re.findall(r"Python: (\S+)", text)
        if len(rays) == 2 and len(pythons) == 2:
            return ConfigError(
                f"{where} runs Ray {rays[0]} on Python {pythons[0]}, this loadtui has Ray "
                f"{rays[1]} on Python {pythons[1]}: install the same versions on both"
            )
    first = next((line.strip() for line in text.splitlines() if line.strip()), type(exc).__name__)
    if address is None:
        return StartError(f"cannot start {where}: {first[:200]}")
    hint = ""
    if (
        address.startswith("ray://")
        and "connection timeout" in text
        and not os.environ.get("RAY_AUTH_MODE")
    ):  # a head with token auth gives a client without its token no answer at all
        hint = "; if the head uses token authentication, set RAY_AUTH_MODE=token (docs/ray.md)"
    return ConfigError(f"cannot join {where}: {first[:200]}{hint}")


_REACH_TIMEOUT = 3.0
"""How long the head's port gets to answer: Ray itself retries for minutes."""


def _check_reachable(address: str | None) -> None:
    """A head that does not answer is a one-line error at once (``ray.init`` would retry, and
    print, for minutes). ``auto`` and a local start are left to Ray."""
    if address is None or address == "auto":
        return
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        host = port = None
    if not host or port is None:
        raise ConfigError(
            f"--ray-address {address!r}: give auto, HOST:PORT (6379) or ray://HOST:PORT (10001)"
        )
    try:
        socket.create_connection((host, port), timeout=_REACH_TIMEOUT).close()
    except OSError as exc:
        raise ConfigError(
            f"cannot reach the Ray head at {address}: {exc.strerror or exc}"
        ) from None


@contextlib.contextmanager
def _output_to(path: Path) -> Iterator[None]:
    """While Ray starts, what its C++ core writes to this process's stdout and stderr (and what
    the processes it spawns inherit) goes to ``path``: it writes there, not through Python."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    try:
        with open(path, "ab") as log:
            os.dup2(log.fileno(), 1)
            os.dup2(log.fileno(), 2)
        yield
    finally:
        with contextlib.suppress(OSError, ValueError):
            sys.stdout.flush()
            sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])


def _log_to(ray: ModuleType, path: Path) -> None:
    """Ray's Python loggers write to ``path``, never to the terminal."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("ray")
    for old in list(logger.handlers):
        logger.removeHandler(old)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def _describe(ray: ModuleType, address: str | None, owned: bool) -> RayCluster:
    cpus = int(ray.cluster_resources().get("CPU", 0))
    here = ray.util.get_node_ip_address()
    nodes = {n["NodeManagerAddress"] for n in ray.nodes() if n.get("Alive")}
    client = (address or "").startswith("ray://")
    host = urlsplit(address).hostname if client and address else None
    remote = bool(nodes - {here}) or (client and host not in _LOCAL_HOSTS)
    return RayCluster(address, cpus, remote, owned)


# -- the actor -------------------------------------------------------------------------------
class WorkerActor:
    """One worker in a Ray actor (made a Ray actor class by ``RayPool`` when Ray is loaded)."""

    def __init__(self, spec: WorkerSpec) -> None:
        self._spec = spec
        self._up: list[Up] = []
        self._wake: Any = None
        self._worker: Worker | None = None
        self._early: list[Control] = []
        self._ended: int | None = None
        self._task: Any = None

    def _event(self) -> Any:
        import asyncio

        if self._wake is None:
            self._wake = asyncio.Event()
        return self._wake

    def _put(self, message: Up) -> None:
        self._up.append(message)
        self._event().set()

    async def begin(self, secrets: Secrets) -> str:
        """Take the secrets the spec was made without and start serving; returns the node."""
        import asyncio

        api_key, base_url, direct_url, config = secrets
        spec = replace(
            self._spec,
            api_key=api_key,
            base_url=base_url,
            direct_url=direct_url,
            config=config or self._spec.config,
        )
        self._worker = Worker(spec, self._put)
        for message in self._early:
            self._worker.handle(message)
        self._task = asyncio.get_running_loop().create_task(self._serve(self._worker))
        node = f"{socket.gethostname()} {import_ray().util.get_node_ip_address()}"
        self._put(Ready(spec.index, node))
        return node

    async def _serve(self, worker: Worker) -> None:
        try:
            await worker.serve()
            code = 0 if worker.failure is None else 1
        except BaseException as exc:  # a bug outside any task: say so, as a process would
            self._put(Failed(self._spec.index, describe(exc, "worker")))
            code = 1
        self._ended = code
        self._event().set()

    async def take(self, wait: float) -> tuple[list[Up], int | None]:
        """What the worker sent since the last call (waiting up to ``wait`` for something),
        and its exit code once it has ended."""
        import asyncio

        wake = self._event()
        if not self._up and self._ended is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), wait)
        wake.clear()
        out, self._up = self._up, []
        return out, self._ended

    async def handle(self, messages: list[Control]) -> None:
        for message in messages:
            if self._worker is None:
                self._early.append(message)
            else:
                self._worker.handle(message)


Secrets = tuple[str | None, str, str | None, RunConfig | None]
"""What an actor gets in its first call, never in its creation arguments (which Ray keeps): the
API key, the URLs (credentials may be in them) and — when auth-like headers are set — the run's
configuration with their real values."""


def _without_secrets(spec: WorkerSpec) -> tuple[WorkerSpec, Secrets]:
    """The spec an actor is created with (kept by Ray) and the secrets handed over later."""
    hidden = _hidden_headers(spec.config)
    config = None if hidden is spec.config else spec.config
    secrets = (spec.api_key, spec.base_url, spec.direct_url, config)
    return replace(spec, api_key=None, base_url="", direct_url=None, config=hidden), secrets


def _hidden_headers(config: RunConfig) -> RunConfig:
    """``config`` with the values of auth-like headers (``--header``, a request's ``headers``)
    replaced by ``***``; the same object when it has none."""
    every = (config.target.headers, *(r.headers for r in config.requests))
    if not any(secret_header_values(headers) for headers in every):
        return config
    target = config.target.model_copy(update={"headers": redacted_headers(config.target.headers)})
    requests = tuple(
        r.model_copy(update={"headers": redacted_headers(r.headers)}) for r in config.requests
    )
    return config.model_copy(update={"target": target, "requests": requests})


# -- the pool --------------------------------------------------------------------------------
class RayPool:
    """Workers as Ray actors, spread over the cluster's nodes (see the module's docstring)."""

    def __init__(self, snapshot_interval: float = SNAPSHOT_INTERVAL) -> None:
        self.ray = import_ray()
        self.snapshot_interval = snapshot_interval
        self.actors: list[Any] = []
        self._inbox = Inbox()
        self._down: queue.SimpleQueue[tuple[int, Control] | None] = queue.SimpleQueue()
        self._closing = threading.Event()
        self._reported: set[int] = set()
        self._reader: threading.Thread | None = None
        self._sender: threading.Thread | None = None

    def start(self, specs: list[WorkerSpec]) -> None:
        ray = self.ray
        actor_class = ray.remote(WorkerActor)
        begun: dict[Any, int] = {}
        for spec in specs:
            bare, secrets = _without_secrets(
                replace(spec, snapshot_interval=self.snapshot_interval)
            )
            actor = actor_class.options(
                num_cpus=1, scheduling_strategy="SPREAD", max_concurrency=64
            ).remote(bare)
            self.actors.append(actor)
            begun[actor.begin.remote(secrets)] = spec.index
        self._reader = threading.Thread(
            target=self._read, args=(begun,), name="loadtui-ray-read", daemon=True
        )
        self._sender = threading.Thread(target=self._send, name="loadtui-ray-send", daemon=True)
        self._reader.start()
        self._sender.start()

    # -- up ------------------------------------------------------------------------------
    def _read(self, begun: dict[Any, int]) -> None:
        """Long-poll every actor at once; a failed ``begin`` or ``take`` is the actor's end."""
        ray = self.ray
        pending: dict[Any, tuple[int, bool]] = {ref: (i, True) for ref, i in begun.items()}
        for i, actor in enumerate(self.actors):
            pending[actor.take.remote(_TAKE_WAIT)] = (i, False)
        while pending and not self._closing.is_set():
            done, _ = ray.wait(list(pending), num_returns=1, timeout=0.5)
            if done:
                rest = [r for r in pending if r not in done]
                more, _ = ray.wait(rest, num_returns=len(rest), timeout=0) if rest else ([], [])
                done = [*done, *more]
            for ref in done:
                index, is_begin = pending.pop(ref)
                again = self._answer(ref, index, is_begin)
                if again:
                    pending[self.actors[index].take.remote(_TAKE_WAIT)] = (index, False)

    def _answer(self, ref: Any, index: int, is_begin: bool) -> bool:
        """Deliver one call's answer; whether to ask that actor again."""
        try:
            answer = self.ray.get(ref)
        except self.ray.exceptions.RayError as exc:
            if is_begin or not isinstance(exc, self.ray.exceptions.RayActorError):
                # it never started (loadtui missing on that node, an import error): say why
                self._inbox.put(Failed(index, describe(exc, "ray actor")))
            self._exited(index, None)
            return False
        if is_begin:
            return False
        messages, ended = answer
        for message in messages:
            self._inbox.put(message)
        if ended is not None:
            self._exited(index, ended)
            return False
        return index not in self._reported

    def _exited(self, index: int, code: int | None) -> None:
        if index not in self._reported:
            self._reported.add(index)
            self._inbox.put(Exited(index, code))

    # -- down ----------------------------------------------------------------------------
    def _send(self) -> None:
        """Each actor's queued controls in one call, waited for: once each, in order."""
        while (first := self._down.get()) is not None:
            batch: dict[int, list[Control]] = {}
            item: tuple[int, Control] | None = first
            while item is not None:
                batch.setdefault(item[0], []).append(item[1])
                try:
                    item = self._down.get_nowait()
                except queue.Empty:
                    break
            calls = [(i, self.actors[i].handle.remote(msgs)) for i, msgs in batch.items()]
            for i, call in calls:
                try:
                    self.ray.get(call, timeout=_CONTROL_WAIT)
                except self.ray.exceptions.GetTimeoutError:
                    self.kill(i)  # hung: it would hold every other actor's controls back
                except self.ray.exceptions.RayError:
                    pass  # a lost actor: the reader reports it
            if item is None:
                return

    def send(self, index: int, message: Control) -> None:
        if index not in self._inbox.gone:
            self._down.put((index, message))

    def broadcast(self, message: Control) -> None:
        for i in range(len(self.actors)):
            self.send(i, message)

    def receive(self, timeout: float) -> list[Up]:
        if len(self._inbox.gone) >= len(self.actors):
            return []
        return self._inbox.take(timeout)

    def kill(self, index: int) -> None:
        """End one actor at once (tests; what a lost node does)."""
        self.ray.kill(self.actors[index], no_restart=True)

    def close(self, timeout: float = 5.0) -> None:
        if self._reader is not None:
            self._reader.join(timeout)
        self._closing.set()
        self._down.put(None)
        if self._sender is not None:
            self._sender.join(2.0)
        for actor in self.actors:
            with contextlib.suppress(Exception):  # already gone
                self.ray.kill(actor, no_restart=True)
        if self._reader is not None:
            self._reader.join(2.0)
        self._inbox.gone.update(range(len(self.actors)))
