"""Where an output file goes: checked before any work, written whole or not at all.

Every file a run or a command writes (``--out``, ``--report``, ``--record-requests``, the
exports, ``report -o``, ``export``) is checked here, all at once, by ``check_outputs``: each
destination must be writable as a regular file, no two outputs may be the same file, and no
output may be a run file the command reads (``loadtui report RUN.json -o RUN.json`` would
destroy the run) or any other saved run (only ``--out``, a run itself, may replace one). One checker, so a rule added for one flag holds for all of them.

A CI job reads the JUnit file the moment loadtui exits, and a sheet may be open on last
night's CSV: a reader must never see half a file, so each one is written to a temporary file in
the same folder and renamed into place. A destination that cannot work (no such folder, a
folder given as a file, a device) is refused up front with a one-line error, before a run sends
any load.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from loadtui.errors import RunFileError, UsageError
from loadtui.storage import files

__all__ = ["check_destination", "check_outputs", "write_atomic"]


def check_destination(path: Path, flag: str) -> None:
    """UsageError (one line, naming ``flag``) when ``path`` cannot be written as a file."""
    if path.is_dir():
        raise UsageError(f"{flag} {path} is a folder; give a file name in it")
    if path.exists() and not path.is_file():
        raise UsageError(f"{flag} {path} is not a regular file (a device or a pipe)")
    folder = path.parent
    if not folder.is_dir():
        raise UsageError(f"{flag} {path}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise UsageError(f"{flag} {path}: the folder {folder} is not writable")


def check_outputs(outputs: Iterable[tuple[str, Path]], keep: Iterable[Path] = ()) -> None:
    """UsageError (one line) when one of ``outputs`` ((flag, path) pairs) cannot be written, is
    the same file as another, or is one of the run files in ``keep`` (the command's inputs).
    Paths are compared resolved, so ``x.json`` and ``./d/../x.json`` are one file."""
    taken = {path.resolve(): f"the run file {path}" for path in keep}
    for flag, path in outputs:
        check_destination(path, flag)
        clash = taken.get(path.resolve())
        if clash is not None:
            raise UsageError(f"{flag} {path} would write over {clash}")
        if flag != "--out" and _is_saved_run(path):  # --out is a run: a new one replaces it
            raise UsageError(
                f"{flag} {path} is a saved run; give another file name "
                "(or remove the run first: loadtui runs rm)"
            )
        taken[path.resolve()] = f"{flag} {path}"


def _is_saved_run(path: Path) -> bool:
    """Whether ``path`` is a loadtui run file (its head read and checked, as ``runs`` does):
    a report or an export written over it would lose the run."""
    if not path.is_file():
        return False
    from loadtui.storage import runfile  # only for a file that is there: not on the start path

    try:
        runfile.load_run_head(path)
    except RunFileError:
        return False
    return True


def write_atomic(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file renamed into place; OSError as is
    (``storage.files.write_atomic``, readable by others: an export is read by a CI's upload
    step)."""
    return files.write_atomic(path, data, private=False)
