"""One run's life outside any display: target up, coordinator started, result assembled, saved.

The headless console and the Textual app drive a run differently (a loop on the main thread, a
background thread), but what a run *is* — the embedded mock when no URL is given, the burst
pre-flight, the run file's contents, the save with its fallback — is written once, here.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from loadtui import __version__
from loadtui.engine.coordinator import Coordinator
from loadtui.engine.preflight import preflight
from loadtui.headless.target import bring_up, mint_key
from loadtui.model.plan import RunConfig
from loadtui.model.thresholds import evaluate
from loadtui.storage.data import load_batch_input, load_prompts
from loadtui.storage.options import redact_url, with_userinfo
from loadtui.storage.runfile import new_run_id, redact, save_run

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
    ) -> None:
        self.config = config
        self.api_key = api_key
        self.replay_of = replay_of
        self.out = out
        self._say = say
        self.userinfo = userinfo
        """``user:password`` of the target URL: Basic auth, in memory only (never in config)."""
        self.target_source = target_source
        self.embedded = config.target.url is None
        self.base_url = ""
        self.coord: Coordinator | None = None
        self.direct_url: str | None = None
        self.secrets: list[str] = [s for s in (api_key, userinfo) if s]
        """Every key this run knows: scrubbed from the run file and from every message."""
        if userinfo and ":" in userinfo:
            self.secrets.append(userinfo.partition(":")[2])
        self.started_at = datetime.now(UTC)
        self._stack = ExitStack()

    def __enter__(self) -> RunSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def say(self, text: str) -> None:
        """Tell the user something, with every secret of the run replaced by ``***``."""
        self._say(redact(text, self.secrets))

    def start(self) -> Coordinator:
        """Bring up the target (the embedded mock if no URL) and the workers; raises StartError."""
        config = self.config
        prompts = load_prompts(config.prompts)  # bad data: a one-line error before any load
        batch = None
        if any(r.kind == "batch" for r in config.requests):
            batch = load_batch_input(config.batch)
        self.base_url, direct_url = bring_up(config, self._stack, self.say, self.target_source)
        self.direct_url = direct_url
        send_url = with_userinfo(self.base_url, self.userinfo)  # Basic auth, memory only
        if config.batch.admin_url and any(r.kind == "batch" for r in config.requests):
            self.api_key = mint_key(config, self.base_url)
            self.secrets.append(self.api_key)
            self.say("batch: minted one API key for this run (it is never written)")
        if config.load.mode == "burst":
            preflight(config, send_url, self.api_key)
        self.started_at = datetime.now(UTC)
        coord = Coordinator(
            config, send_url, self.api_key, prompts=prompts, direct_url=direct_url, batch=batch
        )
        coord.start()
        self._stack.callback(coord.stop, 0.0)
        self.coord = coord
        return coord

    def finish(
        self, status: str, error: str | None = None, grace: float | None = None
    ) -> tuple[dict[str, Any], Path]:
        """Stop the workers (draining for ``grace``), assemble the run and save it."""
        coord = self.coord
        assert coord is not None, "finish() before start()"
        coord.stop(grace)
        if status == "completed" and coord.exited - coord.finals:
            status = "failed"
        run = self.assemble(status, error)
        try:
            path = save_run(run, self.out, secret=self.secrets)
        except OSError as exc:
            if self.out is None:
                raise
            self.say(f"cannot write {self.out} ({exc.strerror}); saving to the data dir")
            path = save_run(run, None, secret=self.secrets)
        return run, path

    def assemble(self, status: str, error: str | None) -> dict[str, Any]:
        """The run file's contents (schema in docs/run-format.md)."""
        coord = self.coord
        assert coord is not None
        config = self.config
        result = coord.result()
        return {
            "id": new_run_id(config.preset, self.started_at),
            "status": status,
            "error": error,
            "started_at": self.started_at.isoformat(),
            "ended_at": datetime.now(UTC).isoformat(),
            "preset": config.preset,
            "replay_of": self.replay_of,
            "loadtui_version": __version__,
            "config": config.model_dump(mode="json"),
            "target": {
                "url": redact_url(self.base_url, self.secrets),
                "embedded_mock": self.embedded,
                "direct_url": self.direct_url,
                "mock": config.mock.model_dump(mode="json") if self.embedded else None,
                "model": config.target.model,
                "api_key": "***" if self.api_key else None,
            },
            **result,
            "thresholds": evaluate(
                config.thresholds,
                result["summary"],
                streamed=any(r.streamed for r in config.requests),
            ),
        }
