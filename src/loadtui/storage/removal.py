"""Removing saved runs — ``runs rm``, ``runs prune`` and History's delete — written once.

What goes (docs/workflows.md, "Run management"):

- a run in the runs folder (the data dir's ``runs/``) is loadtui's own: its file is deleted;
- a run saved elsewhere (``--out``, listed through storage/runindex.py) is the user's own file:
  it is only forgotten (its index entry goes, the file stays) unless ``files`` is set
  (``--files``), since deleting a file the user placed themselves would be a surprise;
- nothing but a loadtui run file is ever deleted: each file's head is read and checked before
  a plan is made, and a plan that names anything else is refused before anything goes.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from loadtui.errors import RunFileError, UsageError
from loadtui.storage.files import shown_path
from loadtui.storage.record import RunJson
from loadtui.storage.runfile import find_run, load_run_head, scan_runs
from loadtui.storage.runindex import IndexEntry, forget, in_runs_folder, read_index

__all__ = ["LIVE_S", "Removal", "apply", "plan_prune", "plan_rm"]

LIVE_S = 60.0
"""A ``running`` file changed this recently may be a live run's checkpoint: prune keeps it."""


@dataclass(frozen=True, slots=True)
class Removal:
    """One run to remove, and how."""

    path: Path
    run_id: str
    delete: bool
    """The file is deleted; else only its index entry goes (the file is kept, or is gone)."""
    gone: bool = False
    """The file was already gone: only the index entry is left to forget."""
    broken: str | None = None
    """Why the indexed file is not a readable run: only its entry is forgotten (never deleted:
    what is not a loadtui run is never deleted)."""

    def describe(self, dry_run: bool = False) -> str:
        """One line saying what removing it does (``dry_run``: would do)."""
        verb = "remove" if self.delete else "forget"
        done = f"would {verb}" if dry_run else ("removed" if self.delete else "forgot")
        line = f"{done} {self.run_id}  {shown_path(self.path)}"
        if self.delete:
            return line
        if self.broken:
            return line + f" (file kept: it is not a readable run: {self.broken})"
        return line + (
            " (its file was already gone)" if self.gone else " (file kept; --files deletes it)"
        )


def plan_rm(refs: Sequence[str], files: bool = False) -> list[Removal]:
    """What ``runs rm REF...`` removes (ids, paths or ``last``); UsageError (one line) on the
    first ref that names no run or a file that is not one — then nothing is removed."""
    indexed = {e.path: e for e in read_index()[0]}
    plan: dict[Path, Removal] = {}
    for ref in refs:
        removal = _removal_of(ref, files, indexed)
        plan.setdefault(removal.path.resolve(), removal)
    return list(plan.values())


def _removal_of(ref: str, files: bool, indexed: dict[Path, IndexEntry]) -> Removal:
    path = find_run(ref)
    entry = indexed.get(path.resolve())
    if not path.exists():
        if entry is not None:
            return Removal(path, entry.id, delete=False, gone=True)
        raise UsageError(f"no saved run {ref[:80]!r} (loadtui runs lists them); nothing removed")
    try:
        run = load_run_head(path)
    except RunFileError as exc:
        if entry is not None:  # listed by us, unreadable now: its entry can go, never the file
            return Removal(path, entry.id, delete=False, broken=str(exc))
        raise UsageError(f"{exc}: not removed, and nothing else was") from None
    run_id = str(run["id"])
    if in_runs_folder(path) or files:
        return Removal(path, run_id, delete=True)
    if entry is None:
        raise UsageError(
            f"{shown_path(path)} is outside the runs folder and not listed; "
            "add --files to delete it (nothing removed)"
        )
    return Removal(path, run_id, delete=False)


def plan_prune(
    keep: int | None, older_than: float | None, files: bool = False, now: float | None = None
) -> tuple[list[Removal], list[str]]:
    """What ``runs prune`` removes: runs beyond the newest ``keep`` and (when both are given:
    and) started more than ``older_than`` seconds ago — plus index entries whose file is gone;
    and a note for each run kept because it may still be running."""
    if keep is None and older_than is None:
        raise UsageError("runs prune needs --keep N or --older-than AGE (e.g. 30d)")
    now = time.time() if now is None else now
    runs, _ = scan_runs()
    plan, notes = [], []
    for i, (path, run) in enumerate(runs):
        if keep is not None and i < keep:
            continue
        if older_than is not None and _age(run, path, now) <= older_than:
            continue
        if run.get("status") == "running" and now - _mtime(path, now) < LIVE_S:
            notes.append(f"kept {run['id']}: it may still be running ({shown_path(path)})")
            continue
        plan.append(Removal(path, str(run["id"]), delete=in_runs_folder(path) or files))
    for entry in read_index()[0]:
        if not entry.path.exists():
            plan.append(Removal(entry.path, entry.id, delete=False, gone=True))
    return plan, notes


def _age(run: RunJson, path: Path, now: float) -> float:
    """Seconds since the run started (its file's mtime when ``started_at`` is unreadable)."""
    started = run.get("started_at")
    try:
        when = datetime.fromisoformat(str(started))
    except ValueError:
        return now - _mtime(path, now)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return now - when.timestamp()


def _mtime(path: Path, now: float) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return now


def apply(plan: Sequence[Removal]) -> dict[Path, str]:
    """Remove what ``plan`` says; why each removal that failed did (by path)."""
    failed: dict[Path, str] = {}
    for removal in plan:
        if not removal.delete:
            continue
        try:
            removal.path.unlink()
        except FileNotFoundError:
            pass  # gone meanwhile: the outcome asked for
        except OSError as exc:
            failed[removal.path] = exc.strerror or str(exc)
    try:
        forget(r.path for r in plan if r.path not in failed)
    except OSError as exc:
        reason = f"the runs index could not be rewritten ({exc.strerror or exc})"
        for removal in plan:
            if not removal.delete:
                failed.setdefault(removal.path, reason)
    return failed
