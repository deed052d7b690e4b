"""Where runs saved outside the runs folder went, so ``runs``, History, ``last`` and every
command that takes a run id find ``--out`` runs too.

The index is a JSON-lines file in the data dir (``runs-index.jsonl``, mode 0600), one object
per run: ``{"id", "path", "started_at"}``. A save appends one short line (atomic between
processes, as storage/trust.py's digests are); ``runs rm`` and ``runs prune`` rewrite it
through a temporary file and a rename (a line appended by another process during that rewrite
can be lost: that run is then no longer listed, its file is untouched). The index is a
convenience, never the truth: a line that cannot be read is skipped with one note, an entry
whose file is gone is named in the listing until ``runs rm`` or ``runs prune`` forgets it, and a
save never fails over it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from loadtui.errors import RunFileError
from loadtui.locations import runs_dir, runs_index_file
from loadtui.storage.files import MB, read_capped, shown_path, write_atomic

__all__ = [
    "INDEX_LIMIT",
    "IndexEntry",
    "add",
    "forget",
    "in_runs_folder",
    "indexed_path",
    "read_index",
]

INDEX_LIMIT = 16 * MB
"""Largest index read (about 100,000 runs); a larger one is ignored, with a note."""
_written: set[tuple[str, str]] = set()
"""(id, path) this process has indexed: a checkpoint rewrites the file every few seconds, and
one line per run is enough."""


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """One run saved outside the runs folder."""

    id: str
    path: Path
    """Absolute."""
    started_at: str


def in_runs_folder(path: Path) -> bool:
    """Whether ``path`` is one of the files ``runs`` lists by itself (``runs/*.json``)."""
    return path.resolve().parent == runs_dir().resolve()


def add(run_id: str, path: Path, started_at: str) -> None:
    """Remember a run saved at ``path`` when that is outside the runs folder (best effort: a
    run is never lost over its index)."""
    try:
        path = path.resolve()
        if in_runs_folder(path) or (run_id, str(path)) in _written:
            return
        line = json.dumps({"id": run_id, "path": str(path), "started_at": started_at})
        index = runs_index_file()
        index.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(index, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")  # one short append: atomic between processes
    except (OSError, ValueError):  # ValueError: a NUL in a path
        return
    _written.add((run_id, str(path)))


def read_index() -> tuple[list[IndexEntry], list[str]]:
    """The indexed runs, oldest first, one per path (the newest save to a path wins), and a
    one-line note when lines (or the whole index) could not be read."""
    index = runs_index_file()
    if not index.exists():
        return [], []
    try:
        data = read_capped(index, INDEX_LIMIT, "runs index", RunFileError)
    except RunFileError as exc:
        return [], [f"{exc}; runs saved with --out are not listed"]
    by_path: dict[Path, IndexEntry] = {}
    bad = 0
    for line in data.decode("utf-8", errors="replace").splitlines():
        entry = _entry(line)
        if entry is None:
            bad += 1 if line.strip() else 0
            continue
        by_path.pop(entry.path, None)  # re-inserted: the order is that of the newest save
        by_path[entry.path] = entry
    notes = []
    if bad:
        notes.append(f"{shown_path(index)}: {bad} unreadable line(s) ignored")
    return list(by_path.values()), notes


def _entry(line: str) -> IndexEntry | None:
    try:
        raw = json.loads(line)
    except ValueError:
        return None
    if not isinstance(raw, dict):
        return None
    run_id, path, started = raw.get("id"), raw.get("path"), raw.get("started_at", "")
    if not (isinstance(run_id, str) and isinstance(path, str) and isinstance(started, str)):
        return None
    if not path or "\0" in path or not Path(path).is_absolute():
        return None
    return IndexEntry(run_id, Path(path), started)


def indexed_path(run_id: str) -> Path | None:
    """Where the newest indexed run with this id was saved (its file may be gone)."""
    entries, _ = read_index()
    found = [e.path for e in entries if e.id == run_id]
    return found[-1] if found else None


def forget(paths: Iterable[Path]) -> None:
    """Drop the entries of these files from the index (rewritten atomically); OSError when
    the index cannot be rewritten."""
    gone = {p.resolve() for p in paths}
    entries, _ = read_index()
    kept = [e for e in entries if e.path not in gone]
    if len(kept) == len(entries):
        return
    index = runs_index_file()
    text = "".join(
        json.dumps({"id": e.id, "path": str(e.path), "started_at": e.started_at}) + "\n"
        for e in kept
    )
    write_atomic(index, text.encode("utf-8"))
    _written.difference_update({k for k in _written if Path(k[1]) in gone})
