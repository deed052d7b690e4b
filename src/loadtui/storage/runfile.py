"""Run files: JSON with a ``schema_version``, written atomically, never holding a secret.

This module reads and writes run files; storage/record.py turns a ``RunRecord`` into the JSON
object and back (docs/run-format.md documents every key). Writes go to a temporary file in the
same folder and are renamed into place, so a reader (or a crash) never sees half a run.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from loadtui.errors import RunFileError, UsageError
from loadtui.locations import runs_dir
from loadtui.model.controls import ControlChange, parse_control
from loadtui.model.plan import RunConfig
from loadtui.model.record import SCHEMA_VERSION, RunRecord
from loadtui.storage.files import MB, decode, read_capped, read_head, shown_path, write_atomic
from loadtui.storage.record import (
    RunJson,
    config_from_json,
    control_to_json,
    record_from_json,
    record_to_json,
)
from loadtui.storage.redact import redact_text, redacted_json
from loadtui.storage.runindex import add as index_run
from loadtui.storage.runindex import in_runs_folder, indexed_path, read_index
from loadtui.storage.seriestext import SeriesText
from loadtui.storage.trust import remember as remember_digest
from loadtui.storage.trust import written_here

__all__ = [
    "HEAD_LIMIT",
    "LISTED_HEAD_ONLY",
    "LIST_LIMIT",
    "RUN_FILE_LIMIT",
    "RUN_ID",
    "SCHEMA_VERSION",
    "ListedRun",
    "find_run",
    "list_runs",
    "load_listed",
    "load_listed_record",
    "load_record",
    "load_record_checked",
    "load_record_head",
    "load_run",
    "load_run_checked",
    "load_run_head",
    "new_run_id",
    "redact",
    "run_config",
    "run_controls",
    "save_run",
    "scan_records",
    "scan_runs",
]

RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
"""What a run id looks like (``replay ID``): no separators, so it cannot leave the runs folder."""

_REQUIRED = ("schema_version", "id", "status", "config", "controls", "summary")
_ENDED_EARLY = ("interrupted", "stopped", "running")
"""Statuses of runs whose load ended before the plan did (``running``: a checkpoint)."""
RUN_FILE_LIMIT = 256 * MB
"""Largest run file ``replay`` reads (the series takes up to ~1 KB a second, docs/performance.md:
a day is under 90 MB)."""
LIST_LIMIT = 32 * MB
"""Largest old-style run file (``series`` not last) ``runs`` and the history screen parse
whole; a larger one is named, not listed."""
HEAD_LIMIT = 1 * MB
"""What a listing reads of a run file: ``save_run`` writes the series last, so everything a
listing shows is in the head whatever the length of the run."""
_SERIES_KEY = b'\n  "series": '
"""The top-level ``series`` key as ``save_run`` writes it (indent 2: a nested key is indented
more, and a string cannot hold a raw newline, so this cannot match anything else)."""


def new_run_id(preset: str | None, now: datetime | None = None) -> str:
    """``YYYYMMDD-HHMMSS-<preset>-<4 hex>``; the preset part keeps only characters safe in a
    file name, so any preset name gives a run that can be saved."""
    now = now or datetime.now(UTC)
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", preset or "custom")[:40].strip("._") or "custom"
    return f"{now:%Y%m%d-%H%M%S}-{name}-{secrets.token_hex(2)}"


def redact(text: str, secret: str | list[str] | None) -> str:
    """Replace every occurrence of ``secret`` (or of each of several) in ``text``."""
    return redact_text(text, secret)


def save_run(
    run: RunRecord | Mapping[str, object],
    path: Path | None = None,
    secret: str | list[str] | None = None,
    remember: bool = True,
    series_text: SeriesText | None = None,
) -> Path:
    """Write ``run`` (a record, or a run file's JSON object) atomically; ``secret`` (API keys) is redacted from every value that can
    carry one (storage/redact.py), and unless ``remember`` is False (a checkpoint, rewritten
    every few seconds) the file is remembered as written here (storage/trust.py).
    ``series_text``: a record's points encoded by an earlier write are not encoded again (the
    same bytes; checkpoints, storage/seriestext.py)."""
    if series_text is not None and isinstance(run, RunRecord):
        text = _text_reusing(run, secret, series_text)
        run_id, started = run.id, run.started_at
    else:
        doc = {"schema_version": SCHEMA_VERSION, **_json_of(run)}
        if "series" in doc:  # last: a listing reads the head of the file only (scan_runs)
            series = doc.pop("series")
            doc["peak_users"] = _peak_users(series)  # what History shows of the series
            doc["series"] = series
        text = redacted_json(doc, secret, indent=2, default=_default)
        run_id, started = doc.get("id"), doc.get("started_at")  # type: ignore[assignment]
    if path is None:
        path = runs_dir() / f"{run_id}.json"
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (text + "\n").encode("utf-8")
    write_atomic(path, data)
    if remember:
        remember_digest(data)
    if isinstance(run_id, str):  # a run saved elsewhere (--out) is listed too
        index_run(run_id, path, str(started or ""))
    return path


def _text_reusing(run: RunRecord, secret: str | list[str] | None, series: SeriesText) -> str:
    """``save_run``'s text of a record, its series' points taken from ``series``: the points
    hold numbers only, so no secret can be in them (the head is redacted as ever)."""
    doc = {"schema_version": SCHEMA_VERSION, **record_to_json(run, series=False)}
    doc["peak_users"] = max((p.users for p in run.series), default=0)
    return series.document(redacted_json(doc, secret, indent=2, default=_default), run.series)


def _json_of(run: RunRecord | Mapping[str, object]) -> RunJson:
    return record_to_json(run) if isinstance(run, RunRecord) else dict(run)


def _peak_users(series: Any) -> float:
    users = (p.get("users") for p in series if isinstance(p, dict))
    return max((u for u in users if isinstance(u, int | float)), default=0)


def _default(obj: Any) -> Any:
    if isinstance(obj, tuple | set):
        return list(obj)
    if isinstance(obj, datetime):
        return obj.isoformat()
    raise TypeError(f"cannot write {type(obj).__name__} to a run file")


def load_run(path: str | Path, limit: int = RUN_FILE_LIMIT) -> RunJson:
    """Read and check a run file; RunFileError (one line) on anything wrong."""
    path = Path(path)
    data = read_capped(path, limit, "run file", RunFileError)
    return _parse(decode(data, path, RunFileError), shown_path(path))


def load_run_checked(path: str | Path, limit: int = RUN_FILE_LIMIT) -> tuple[RunJson, bool]:
    """The run, and whether this machine wrote exactly this file (storage/trust.py)."""
    path = Path(path)
    data = read_capped(path, limit, "run file", RunFileError)
    return _parse(decode(data, path, RunFileError), shown_path(path)), written_here(data)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _parse(raw: str, shown: str) -> RunJson:
    try:
        run = json.loads(raw, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        # str(exc) keeps the whole message ("... at: line 1 column 9 (char 8)")
        raise RunFileError(f"{shown}: not valid JSON ({exc})") from None
    except RecursionError:
        raise RunFileError(f"{shown}: not valid JSON (nested too deeply)") from None
    except ValueError as exc:  # an integer of more than 4,300 digits, NaN, Infinity
        raise RunFileError(f"{shown}: not valid JSON ({exc})") from None
    if not isinstance(run, dict):
        raise RunFileError(f"{shown}: not a loadtui run file (top level is not an object)")
    if "schema_version" not in run:
        raise RunFileError(f"{shown}: not a loadtui run file (no schema_version)")
    version = run.get("schema_version")
    if version != SCHEMA_VERSION or isinstance(version, bool):
        got = repr(version)[:40] if isinstance(version, int | str | None) else "a non-number"
        raise RunFileError(
            f"{shown}: schema_version {got} is not supported (this loadtui reads {SCHEMA_VERSION})"
        )
    missing = [k for k in _REQUIRED if k not in run]
    if missing:
        raise RunFileError(f"{shown}: not a loadtui run file (missing {', '.join(missing)})")
    from loadtui.storage.runshape import RunShape  # a file's reader only: not a run's start

    try:
        RunShape.model_validate(run)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])[:120]
        raise RunFileError(f"{shown}: {where}: {err['msg']}") from None
    return run


def run_config(run: RunRecord | RunJson, path: str | Path = "run file") -> RunConfig:
    """The run's config, to run it again. A run file never chooses which environment variable
    is read (``batch.admin_password_env``): a replay reads the default one."""
    if isinstance(run, RunRecord):
        if run.config_error is not None:
            raise RunFileError(run.config_error)
        return run.config  # record_from_json read it so
    return config_from_json(run["config"], shown_path(path))


def run_controls(run: RunRecord | RunJson, path: str | Path = "run file") -> list[ControlChange]:
    """The changes a replay applies: the recorded timeline, and for a run that ended early
    (interrupted, stopped, or killed while ``running``), a stop where its load ended — so the
    replay has the same length as the original. A stop made by an ``abort_on_fail`` threshold
    (source ``threshold``) is not replayed: the replay runs the whole plan and judges its own."""
    controls: object
    status: object
    ended: object
    if isinstance(run, RunRecord):
        controls = [control_to_json(c) for c in run.controls]
        status, ended = run.status, run.load_ended_s
    else:
        controls, status, ended = run.get("controls"), run.get("status"), run.get("load_ended_s")
    if not isinstance(controls, list):
        raise RunFileError(f"{path}: controls must be a list")
    aborted = False
    out = []
    for i, raw in enumerate(controls):
        if isinstance(raw, dict) and raw.get("source") == "threshold":
            aborted = True
            continue
        try:
            out.append(parse_control(raw, source="replay"))
        except ValueError as exc:
            raise RunFileError(f"{path}: controls[{i}]: {exc}") from None
    early = status in _ENDED_EARLY and not aborted and isinstance(ended, int | float) and ended > 0
    if early and isinstance(ended, int | float) and not any(c.action == "stop" for c in out):
        out.append(ControlChange("stop", None, float(ended), "replay"))
    return out


def list_runs(folder: Path | None = None) -> list[tuple[Path, RunJson]]:
    """Readable run files, newest first (unreadable ones are skipped)."""
    return scan_runs(folder)[0]


def scan_runs(
    folder: Path | None = None,
) -> tuple[list[tuple[Path, RunJson]], list[str]]:
    """Readable run files, newest first, and a one-line reason for each file skipped.

    Only the head of a file is read (``HEAD_LIMIT``): a long run's entry has ``series`` empty
    and ``LISTED_HEAD_ONLY`` set — ``load_listed`` gives the whole run. An old file whose series
    is not last is parsed whole, up to ``LIST_LIMIT`` (a larger one is skipped, named)."""
    own = folder is None  # the data dir's listing: runs saved elsewhere (--out) are in it too
    folder = folder or runs_dir()
    runs = []
    skipped: list[str] = []
    paths = sorted(folder.glob("*.json")) if folder.is_dir() else []
    if own:
        paths += _indexed(skipped)
    for path in paths:
        try:
            runs.append((path, _listed(path)))
        except RunFileError as exc:
            skipped.append(str(exc))
    runs.sort(key=lambda pr: pr[1].get("started_at", ""), reverse=True)
    return runs, skipped


def _indexed(notes: list[str]) -> list[Path]:
    """The files of runs saved outside the runs folder (storage/runindex.py); an entry whose
    file is gone is named in ``notes``, as a skipped file is."""
    entries, index_notes = read_index()
    notes += index_notes
    paths = []
    for entry in entries:
        if in_runs_folder(entry.path):
            continue  # listed already
        if not entry.path.exists():
            notes.append(
                f"run {entry.id}: {shown_path(entry.path)} is gone "
                f"(loadtui runs rm {entry.id} forgets it)"
            )
            continue
        paths.append(entry.path)
    return paths


LISTED_HEAD_ONLY = "_listed_head_only"
"""Set (True) in a listing's entry whose series was not read."""


def load_listed(path: str | Path, run: RunJson) -> RunJson:
    """The whole run for an entry of ``scan_runs`` (the entry itself when it is whole);
    RunFileError (one line) when the file changed or broke since it was listed."""
    return load_run(path) if run.get(LISTED_HEAD_ONLY) else run


def load_run_head(path: str | Path) -> RunJson:
    """What a listing reads of a run file (its head, checked): RunFileError (one line) when
    the file is not a loadtui run — ``runs rm`` deletes nothing else."""
    return _listed(Path(path))


def _listed(path: Path) -> RunJson:
    head, whole = read_head(path, HEAD_LIMIT, "run file", RunFileError)
    if whole:
        return _parse(decode(head, path, RunFileError), shown_path(path))
    cut = head.find(_SERIES_KEY)
    if cut >= 0:  # close the object where the series starts
        prefix = head[:cut].rstrip().removesuffix(b",") + b"\n}"
        try:
            run = _parse(decode(prefix, path, RunFileError), shown_path(path))
        except RunFileError:
            pass  # e.g. an old file with summary after the series: read it whole below
        else:
            run["series"] = []
            run[LISTED_HEAD_ONLY] = True
            return run
    return load_run(path, LIST_LIMIT)


# -- typed readers: what the console, the CLI and the app read --------------------------
def load_record(path: str | Path, limit: int = RUN_FILE_LIMIT) -> RunRecord:
    """Read and check a run file into a record; RunFileError (one line) on anything wrong."""
    return record_from_json(load_run(path, limit), shown_path(Path(path)))


def load_record_checked(path: str | Path, limit: int = RUN_FILE_LIMIT) -> tuple[RunRecord, bool]:
    """The run as a record, and whether this machine wrote exactly this file."""
    run, trusted = load_run_checked(path, limit)
    return record_from_json(run, shown_path(Path(path))), trusted


def load_record_head(path: str | Path) -> RunRecord:
    """A run without its series (``record.series`` empty), read as a listing reads it: the
    head of the file only, so ``show`` and the summary JSON take milliseconds at any length of
    run (a 1-hour file's 3,600 points cost ~0.2 s to read into a record)."""
    path = Path(path)
    return record_from_json(_listed(path), shown_path(path))


@dataclass(frozen=True, slots=True)
class ListedRun:
    """One entry of a listing: the run without its series when only the head was read."""

    path: Path
    record: RunRecord
    head_only: bool
    """The series was not read (``record.series`` is empty): ``load_listed_record`` reads it."""


def scan_records(folder: Path | None = None) -> tuple[list[ListedRun], list[str]]:
    """``scan_runs`` as records: readable runs newest first, and why each other file was
    skipped (a config this loadtui cannot read is skipped too, named)."""
    runs, skipped = scan_runs(folder)
    listed = []
    for path, run in runs:
        try:
            record = record_from_json(run, shown_path(path))
        except RunFileError as exc:
            skipped.append(str(exc))
            continue
        listed.append(ListedRun(path, record, bool(run.get(LISTED_HEAD_ONLY))))
    return listed, skipped


def load_listed_record(entry: ListedRun) -> RunRecord:
    """The whole run of a listing's entry (the entry's record when it is whole)."""
    return load_record(entry.path) if entry.head_only else entry.record


def find_run(ref: str) -> Path:
    """The run file ``ref`` names, for every command that takes a run (replay, show, compare,
    report, export): a path when it looks like one (a separator, or ``.json``); ``last`` for
    the newest saved run; else a run id, which must look like one, in the runs folder — so
    ``show ../../x`` never reads outside it — or a run saved elsewhere (``--out``) that the
    runs index names (storage/runindex.py). UsageError (one line) when there is no such run."""
    if "/" in ref or os.sep in ref or ref.endswith(".json"):
        return Path(ref)
    if ref == "last":
        runs, _ = scan_runs()
        if not runs:
            raise UsageError(f"no saved runs in {runs_dir()}, so there is no 'last' run")
        return runs[0][0]
    if not RUN_ID.fullmatch(ref) or ".." in ref:
        raise UsageError(f"{ref[:80]!r} is not a run id; give a run file as a path (./{ref[:40]})")
    path = runs_dir() / f"{ref}.json"
    if not path.exists() and (elsewhere := indexed_path(ref)) is not None:
        return elsewhere
    if not path.exists() and Path(ref).is_file():
        raise UsageError(f"no saved run {ref!r}; to use the file of that name, give ./{ref}")
    if not path.exists():  # the wording `runs rm` uses for the same mistake
        raise UsageError(f"no saved run {ref!r} (loadtui runs lists them)")
    return path
