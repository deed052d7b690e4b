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
from loadtui.engine.mock import MockProcess
from loadtui.engine.preflight import preflight
from loadtui.errors import StartError
from loadtui.model.plan import RunConfig
from loadtui.model.thresholds import evaluate
from loadtui.storage.runfile import new_run_id, save_run

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
    ) -> None:
        self.config = config
        self.api_key = api_key
        self.replay_of = replay_of
        self.out = out
        self.say = say
        self.embedded = config.target.url is None
        self.base_url = ""
        self.coord: Coordinator | None = None
        self.started_at = datetime.now(UTC)
        self._stack = ExitStack()

    def __enter__(self) -> RunSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def start(self) -> Coordinator:
        """Bring up the target (the embedded mock if no URL) and the workers; raises StartError."""
        if self.embedded:
            mock = MockProcess(self.config.mock)
            try:
                self.base_url = mock.start()
            except RuntimeError as exc:
                raise StartError(str(exc)) from None
            self._stack.callback(mock.stop)
            self.say(f"target: the embedded mock upstream at {self.base_url} (no --url given)")
        else:
            self.base_url = self.config.target.url or ""
            self.say(f"target: {self.base_url}")
        if self.config.load.mode == "burst":
            preflight(self.config, self.base_url, self.api_key)
        self.started_at = datetime.now(UTC)
        coord = Coordinator(self.config, self.base_url, self.api_key)
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
            path = save_run(run, self.out, secret=self.api_key)
        except OSError as exc:
            if self.out is None:
                raise
            self.say(f"cannot write {self.out} ({exc.strerror}); saving to the data dir")
            path = save_run(run, None, secret=self.api_key)
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
                "url": self.base_url,
                "embedded_mock": self.embedded,
                "mock": config.mock.model_dump(mode="json") if self.embedded else None,
                "model": config.target.model,
                "api_key": "***" if self.api_key else None,
            },
            **result,
            "thresholds": evaluate(config.thresholds, result["summary"]),
        }
