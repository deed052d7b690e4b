"""One run's life outside any display: target up, coordinator started, result assembled, saved.

The headless console and the Textual app drive a run from different threads (the main one, a
background one) through the same loop (``drive.py``); what a run *is* — the embedded mock when
no URL is given, the burst pre-flight, the run file's contents, its checkpoints, the save with
its fallbacks — is written once, here. Nothing the user ran is lost: the destination is checked before any load is sent,
a checkpoint (status ``running``) replaces the file every few seconds, and a final save that
still fails goes to the current folder or the temp folder, named through ``warn``.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote

from loadtui import __version__
from loadtui.engine.channel import ProcessPool, WorkerPool
from loadtui.engine.coordinator import Coordinator
from loadtui.engine.spec import basic_token
from loadtui.engine.tls import client_ssl
from loadtui.errors import ConfigError, StartError
from loadtui.locations import runs_dir
from loadtui.model.plan import RunConfig, header_secrets
from loadtui.model.record import (
    ErrorSample,
    RunRecord,
    RunSummary,
    TargetInfo,
    ThresholdResult,
    run_status,
)
from loadtui.model.servermetrics import MOCK
from loadtui.model.thresholds import Abort, judge, judge_capacity, mark_aborted
from loadtui.run.checkpoint import Checkpoints
from loadtui.run.describe import describe_trace
from loadtui.run.options import redact_url, with_userinfo
from loadtui.run.shaping import start_notices
from loadtui.run.target import bring_up, discard_prespawned, mint_key
from loadtui.runtime import timing
from loadtui.storage.conversations import load_conversations
from loadtui.storage.data import load_batch_input, load_prompts
from loadtui.storage.runfile import new_run_id, redact, save_run
from loadtui.storage.runindex import forget as forget_indexed
from loadtui.storage.seriestext import SeriesText
from loadtui.storage.trace_file import load_trace

if TYPE_CHECKING:  # imported where used: a run without them does not pay their imports
    from loadtui.run.search import CapacitySearch
    from loadtui.run.servermetrics import ServerScraper

__all__ = ["RunSession"]


class RunSession:
    """Use as a context manager: ``start()``, drive ``coord``, ``finish()``; exit cleans up."""

    def __init__(
        self,
        config: RunConfig,
        api_key: str | None = None,
        replay_of: str | None = None,
        out: Path | None = None,
        say: Callable[[str], None] = print,
        userinfo: str | None = None,
        target_source: str | None = None,
        warn: Callable[[str], None] | None = None,
        record_requests: Path | None = None,
    ) -> None:
        self.config = config
        self.record_requests = record_requests
        """``--record-requests``: one JSON line per request, joined there when the run ends."""
        self.api_key = api_key
        self.replay_of = replay_of
        self.out = out
        self._say = say
        self.userinfo = userinfo
        """``user:password`` of the target URL: Basic auth, in memory only (never in config)."""
        self.target_source = target_source
        self._warn = warn or say
        """Notices about where the run went (the headless runner sends them to stderr)."""
        self.embedded = config.target.url is None
        self.base_url = ""
        self.coord: Coordinator | None = None
        self.direct_url: str | None = None
        self.secrets: list[str] = [s for s in (api_key, userinfo) if s]
        """Every key this run knows: scrubbed from the run file and from every message."""
        if userinfo and ":" in userinfo:
            self.secrets.append(userinfo.partition(":")[2])
        if userinfo:  # as Basic auth sends them: a server may echo its Authorization header
            user, _, password = unquote(userinfo).partition(":")
            self.secrets.append(basic_token(user, password))
        self.secrets += header_secrets(config)  # auth-like --header / headers = values
        self.started_at = datetime.now(UTC)
        self.run_id = new_run_id(config.preset, self.started_at)
        self.path: Path = out or runs_dir() / f"{self.run_id}.json"
        """Where checkpoints and the final save go."""
        self._checkpoints: Checkpoints | None = None
        self._stack = ExitStack()
        self.aborted: Abort | None = None
        """The ``abort_on_fail`` threshold that stopped the run (set by the drive loop)."""
        self.search: CapacitySearch | None = None
        """The capacity search acting on this run (``config.search``), ticked by the loop."""
        self.scraper: ServerScraper | None = None
        """``--server-metrics``: the server's own series, scraped on a thread of its own."""

    def __enter__(self) -> RunSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()
        timing.stamp("session: closed (target and workers down)")

    def say(self, text: str) -> None:
        """Tell the user something, with every secret of the run replaced by ``***``."""
        self._say(redact(text, self.secrets))

    def warn(self, text: str) -> None:
        """A notice about where the run went, secrets replaced (stderr when headless)."""
        self._warn(redact(text, self.secrets))

    def start(self) -> Coordinator:
        """Bring up the target (the embedded mock if no URL) and the workers; raises StartError."""
        timing.stamp("session: starting")
        self._stack.callback(discard_prespawned)  # a start that fails ends those not taken
        config = self.config
        self._check_destination()
        client_ssl(config.target)  # an unreadable --ca-cert: exit 2 before any load
        for notice in start_notices(config):  # --insecure, hidden header values
            self.warn(notice)
        prompts = load_prompts(config.prompts)  # bad data: a one-line error before any load
        trace = None
        if config.trace is not None:
            trace = load_trace(config.trace)
            span = trace[-1].at / config.trace.speedup
            self.say(describe_trace(config.trace, len(trace), span))
        conversations = load_conversations(config.conversation)
        batch = None
        if any(r.kind == "batch" for r in config.requests):
            batch = load_batch_input(config.batch)
        pool = self._ray_pool()  # before the target: a cluster that cannot reach it is refused
        config = self.config
        minting = bool(config.batch.admin_url) and any(r.kind == "batch" for r in config.requests)
        # the embedded mock and the worker processes start side by side (each takes a few
        # tenths of a second to import): the pool waits for the mock once its workers are
        # spawned, before any load; minting a key and the burst pre-flight need it first
        pending: list[Callable[[], None]] | None = None
        if pool is None and not minting and config.load.mode != "burst":
            pending = []
        self.base_url, direct_url = bring_up(
            config, self._stack, self.say, self.target_source, pending
        )
        if pending:
            pool = ProcessPool(while_starting=_all(pending))
        self.direct_url = direct_url
        send_url = with_userinfo(self.base_url, self.userinfo)  # Basic auth, memory only
        if minting:
            self.api_key = mint_key(config, self.base_url)
            self.secrets.append(self.api_key)
            self.say("batch: minted one API key for this run (it is never written)")
        if config.load.mode == "burst":
            from loadtui.engine.preflight import preflight

            preflight(config, send_url, self.api_key)
        self.started_at = datetime.now(UTC)
        self.run_id = new_run_id(config.preset, self.started_at)
        if self.out is None:
            self.path = runs_dir() / f"{self.run_id}.json"
        coord = Coordinator(
            config,
            send_url,
            self.api_key,
            prompts=prompts,
            direct_url=direct_url,
            batch=batch,
            conversations=conversations,
            record_requests=None if self.record_requests is None else str(self.record_requests),
            pool=pool,
            trace=trace,
        )
        timing.stamp("session: target up; starting the workers")
        coord.start()
        self._stack.callback(coord.stop, 0.0)
        discard_prespawned()  # any the run did not need (a preset's URL, fewer workers)
        timing.stamp("session: workers ready, the load starts")
        self.coord = coord
        if config.search is not None:
            from loadtui.run.search import CapacitySearch

            self.search = CapacitySearch(config.search, coord, replaying=self.replay_of is not None)
        self._checkpoints = Checkpoints(self.path, self.secrets, self.warn)
        self._scrape(coord)
        return coord

    def _scrape(self, coord: Coordinator) -> None:
        """Start scraping the server's metrics (``--server-metrics``), if asked."""
        spec = self.config.server_metrics
        if spec is None:
            return
        url = spec.url
        if url == MOCK:
            if not self.embedded:  # options refuse it; a replay given another --url lands here
                self.warn("server metrics: 'mock' names the embedded mock, not this run's URL")
                return
            url = (self.direct_url or self.base_url).rstrip("/") + "/metrics"
        shown = redact_url(url, self.secrets)
        from loadtui.run.servermetrics import ServerScraper

        self.scraper = ServerScraper(spec, url, lambda: coord.elapsed, shown)
        self.scraper.start()
        self._stack.callback(self.scraper.stop)
        self.warn(f"server metrics: scraping {shown} every second")

    def _ray_pool(self) -> WorkerPool | None:
        """``--backend ray``: join the cluster (left when the run ends) and make the pool of
        actors; ``workers`` defaults to the cluster's CPUs. None for worker processes."""
        engine = self.config.engine
        if engine.backend != "ray":
            return None
        from loadtui.engine.raypool import RayPool, connect

        cluster = connect(engine.ray_address, self.config.workers, self.say)
        self._stack.callback(cluster.disconnect)
        if cluster.remote and self.embedded:
            raise ConfigError(
                "the Ray cluster has other hosts and the embedded mock listens on 127.0.0.1 "
                "only: give --url of a target every Ray node can reach"
            )
        workers = self.config.workers
        if workers > cluster.cpus:
            raise ConfigError(
                f"--workers {workers}: the Ray cluster has {cluster.cpus} CPU(s), one per actor"
            )
        if not workers:
            workers = max(1, cluster.cpus)
            load = self.config.load
            if load.mode == "closed":
                workers = max(1, min(workers, load.users))
            self.config = self.config.with_overrides(workers=workers)
        return RayPool(cluster.snapshot_interval)

    def _check_destination(self) -> None:
        """Refuse, before any load, a run file that could not be written. A device or pipe
        would be replaced by the rename (as root, ``--out /dev/null`` would replace the real
        one); a folder's write permission says little to root, so a file is really made."""
        if self.out is not None:
            if self.out.exists() and not self.out.is_file():
                raise ConfigError(
                    f"--out {self.out} is not a regular file (a device, pipe or folder); "
                    "give a path for a new or existing .json file"
                )
            problem = _cannot_write_in(self.out.parent, create=False)
            if problem:
                raise ConfigError(
                    f"--out {self.out}: cannot write in {self.out.parent} ({problem})"
                )
            return
        folder = runs_dir()
        problem = _cannot_write_in(folder, create=True)
        if problem:
            raise StartError(
                f"cannot write runs to {folder} ({problem}); "
                "set LOADTUI_DATA_DIR to a writable folder or give --out FILE"
            )

    def checkpoint(self) -> None:
        """Call from the drive loop: every few seconds, the run so far replaces the run file
        (status ``running``), written in the background (see ``checkpoint.py``)."""
        coord = self.coord
        if coord is None or self._checkpoints is None or not self._checkpoints.due():
            return
        run = self.assemble("running", None)
        # a replay stops where this ends (the record's series is a copy: the drive loop goes
        # on appending to its own)
        self._checkpoints.write(replace(run, load_ended_s=round(coord.elapsed, 3)))

    def finish(
        self,
        status: str,
        error: str | None = None,
        grace: float | None = None,
        cut_short: Callable[[], bool] | None = None,
    ) -> tuple[RunRecord, Path | None]:
        """Stop the workers (draining for ``grace``, less if ``cut_short()`` turns true),
        assemble the run and save it; the path is None only if no fallback could be written."""
        coord = self.coord
        assert coord is not None, "finish() before start()"
        timing.stamp("session: load ended; stopping the workers")
        if self.search is not None:
            self.search.finish()  # its last step ends where the load does, not after the drain
        coord.stop(grace, cut_short=cut_short)
        timing.stamp("session: workers stopped")
        if self.scraper is not None:
            self.scraper.stop()  # its series ends with the client's
        if cut_short is not None and cut_short() and status in ("completed", "stopped"):
            status = "interrupted"  # a signal cut the drain short: workers were not waited for
        silent = set(range(coord.n)) - coord.finals  # died, or hung past the drain
        if status in ("completed", "stopped") and (coord.lost_workers or silent):
            status = "failed"  # a worker's counts since its last snapshot are lost
            error = error or coord.failure or f"worker(s) {sorted(silent)} sent no final snapshot"
        if coord.record_error is not None:
            self.warn(
                f"cannot write --record-requests {self.record_requests}: {coord.record_error}"
            )
        run = self.assemble(status, error)
        if self._checkpoints is not None:
            self._checkpoints.close()  # a late checkpoint must not overwrite the final save
        timing.stamp("session: run assembled")
        path = self.save(run)
        timing.stamp("session: run saved")
        return run, path

    def save(self, run: RunRecord) -> Path | None:
        """Save to ``self.path``; if that fails, to the data dir (for --out), the current
        folder, then the temp folder — each failure named through ``warn``."""
        name = f"{run.id}.json"
        places = [self.path]
        if self.out is not None:
            places.append(runs_dir() / name)
        for folder in (Path.cwd, lambda: Path(tempfile.gettempdir())):
            with contextlib.suppress(OSError):  # a deleted cwd, no usable temp folder
                places.append(folder() / name)
        for place in dict.fromkeys(places):
            try:
                path = save_run(run, place, secret=self.secrets, series_text=self._kept())
            except OSError as exc:
                self.warn(f"cannot write the run to {place} ({exc.strerror or exc})")
                continue
            except Exception as exc:  # a bug while encoding: say it, keep the summary going
                self.warn(f"cannot write the run to {place} ({type(exc).__name__}: {exc})")
                continue
            if place != self.path:
                self.warn(f"the run was saved to {path} instead of {self.path}")
                if self._checkpoints and self._checkpoints.written:  # a stale `running` copy
                    with contextlib.suppress(OSError):
                        self.path.unlink()
                        forget_indexed([self.path])  # an --out checkpoint: no longer listed
            return path
        return None

    def _kept(self) -> SeriesText | None:
        """The checkpoints' points as text (closed by now): not encoded again (same bytes)."""
        return None if self._checkpoints is None else self._checkpoints.series_text

    def assemble(self, status: str, error: str | None) -> RunRecord:
        """The run so far as a record (docs/run-format.md)."""
        coord = self.coord
        assert coord is not None
        config = self.config
        result = coord.result()
        search = None if self.search is None else self.search.view()
        return RunRecord(
            id=self.run_id,
            status=run_status(status),
            error=error,
            started_at=self.started_at.isoformat(),
            ended_at=datetime.now(UTC).isoformat(),
            preset=config.preset,
            replay_of=self.replay_of,
            loadtui_version=__version__,
            config=config,
            target=TargetInfo(
                url=redact_url(self.base_url, self.secrets),
                embedded_mock=self.embedded,
                direct_url=self.direct_url,
                mock=config.mock if self.embedded else None,
                model=config.target.model,
                api_key="***" if self.api_key else None,
            ),
            load_ended_s=result.load_ended_s,
            controls=result.controls,
            series=result.series,
            summary=result.summary,
            generator=result.generator,
            thresholds=mark_aborted(self._judge(result.summary), self.aborted),
            peak_users=max((p.users for p in result.series), default=0),
            histograms=result.histograms,
            error_samples=tuple(redact_sample(s, self.secrets) for s in result.error_samples),
            search=search,
            server=None if self.scraper is None else self.scraper.view(),
        )

    def _judge(self, summary: RunSummary) -> tuple[ThresholdResult, ...]:
        """The thresholds on the run's figures, ``capacity`` ones on the search's result."""
        results = judge(self.config, summary)
        if self.search is None:
            return judge_capacity(results, None, "not a capacity search (--search)")
        view = self.search.view()
        why = view.message or "the search has not ended"
        # capacity: the knee; ceiling: at least the ceiling load; stopped (accept, time up):
        # the best passing step; none for never_compliant / generator_saturated (whose lower
        # bound is no capacity: the threshold fails, its reason the message)
        return judge_capacity(results, view.capacity, why)


def redact_sample(sample: ErrorSample, secrets: list[str]) -> ErrorSample:
    """``sample`` with every secret of the run replaced by ``***`` in what the server sent
    back (a body or header can echo the key) — in memory too, so the app never shows one."""
    if not secrets:
        return sample
    return replace(
        sample,
        reason=None if sample.reason is None else redact(sample.reason, secrets),
        headers={redact(k, secrets): redact(v, secrets) for k, v in sample.headers.items()},
        body=redact(sample.body, secrets),
    )


def _all(calls: list[Callable[[], None]]) -> Callable[[], None]:
    """One call that makes each of ``calls`` in turn (the waits for the servers launched)."""

    def call_all() -> None:
        for call in calls:
            call()

    return call_all


def _cannot_write_in(folder: Path, create: bool) -> str | None:
    """Why a file cannot be made in ``folder`` (None when one can: it was made and removed)."""
    try:
        if create:
            folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".loadtui-probe-"):
            return None
    except OSError as exc:
        return exc.strerror or str(exc)
