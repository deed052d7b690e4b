"""Run files: JSON with a ``schema_version``, written atomically, never holding a secret.

This is the only module that turns a run into JSON and back. docs/run-format.md documents every
key. Writes go to a temporary file in the same folder and are renamed into place, so a reader
(or a crash) never sees half a run.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from loadtui.errors import RunFileError
from loadtui.locations import runs_dir
from loadtui.model.controls import ControlChange, parse_control
from loadtui.model.plan import RunConfig

__all__ = [
    "SCHEMA_VERSION",
    "list_runs",
    "load_run",
    "new_run_id",
    "redact",
    "run_config",
    "run_controls",
    "save_run",
]

SCHEMA_VERSION = 1
_REQUIRED = ("schema_version", "id", "status", "config", "controls", "summary")
_ENDED_EARLY = ("interrupted", "stopped", "running")
"""Statuses of runs whose load ended before the plan did (``running``: a checkpoint)."""


def new_run_id(preset: str | None, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%d-%H%M%S}-{preset or 'custom'}-{secrets.token_hex(2)}"


def redact(text: str, secret: str | list[str] | None) -> str:
    """Replace every occurrence of ``secret`` (or of each of several) in ``text``."""
    for s in [secret] if isinstance(secret, str) or secret is None else secret:
        if s and len(s) >= 4:
            text = text.replace(s, "***")
    return text


def save_run(
    run: dict[str, Any], path: Path | None = None, secret: str | list[str] | None = None
) -> Path:
    """Write ``run`` atomically; ``secret`` (API keys) is scrubbed from every byte written."""
    run = {"schema_version": SCHEMA_VERSION, **run}
    if path is None:
        path = runs_dir() / f"{run['id']}.json"
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = redact(json.dumps(run, indent=2, default=_default), secret)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _default(obj: Any) -> Any:
    if isinstance(obj, tuple | set):
        return list(obj)
    if isinstance(obj, datetime):
        return obj.isoformat()
    raise TypeError(f"cannot write {type(obj).__name__} to a run file")


def load_run(path: str | Path) -> dict[str, Any]:
    """Read and check a run file; RunFileError (one line) on anything wrong."""
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RunFileError(f"{path}: no such run file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RunFileError(f"{path}: cannot read: {exc}") from None
    try:
        run = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise RunFileError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    if not isinstance(run, dict):
        raise RunFileError(f"{path}: not a loadtui run file (top level is not an object)")
    version = run.get("schema_version")
    if version != SCHEMA_VERSION:
        raise RunFileError(
            f"{path}: schema_version {version!r} is not supported (this loadtui reads {SCHEMA_VERSION})"
        )
    missing = [k for k in _REQUIRED if k not in run]
    if missing:
        raise RunFileError(f"{path}: not a loadtui run file (missing {', '.join(missing)})")
    return run


def run_config(run: dict[str, Any], path: str | Path = "run file") -> RunConfig:
    try:
        return RunConfig.model_validate(run["config"])
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise RunFileError(f"{path}: config.{where}: {err['msg']}") from None


def run_controls(run: dict[str, Any], path: str | Path = "run file") -> list[ControlChange]:
    """The changes a replay applies: the recorded timeline, and for a run that ended early
    (interrupted, stopped, or killed while ``running``), a stop where its load ended — so the
    replay has the same length as the original."""
    controls = run.get("controls")
    if not isinstance(controls, list):
        raise RunFileError(f"{path}: controls must be a list")
    out = []
    for i, raw in enumerate(controls):
        try:
            out.append(parse_control(raw, source="replay"))
        except ValueError as exc:
            raise RunFileError(f"{path}: controls[{i}]: {exc}") from None
    ended = run.get("load_ended_s")
    early = run.get("status") in _ENDED_EARLY and isinstance(ended, int | float)
    if early and ended > 0 and not any(c.action == "stop" for c in out):
        out.append(ControlChange("stop", None, float(ended), "replay"))
    return out


def list_runs(folder: Path | None = None) -> list[tuple[Path, dict[str, Any]]]:
    """Readable run files, newest first (unreadable ones are skipped)."""
    folder = folder or runs_dir()
    runs = []
    for path in folder.glob("*.json") if folder.is_dir() else ():
        try:
            runs.append((path, load_run(path)))
        except RunFileError:
            continue
    runs.sort(key=lambda pr: pr[1].get("started_at", ""), reverse=True)
    return runs
