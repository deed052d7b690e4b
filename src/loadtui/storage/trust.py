"""Which run files this machine wrote, and where a replay would send the user's API key.

A run file names its target, so replaying someone else's file would send the local key
(``$OPENAI_API_KEY``) to whatever host the file chose. Every run file saved here has its SHA-256
appended to a small index in the data dir (mode 0600, pruned to the newest ``KEEP``); a file whose digest is not there was not
written by this machine, and a replay of it needs ``--url`` or ``--trust-target`` before the key
goes to any host the file names.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from loadtui.locations import written_runs_index
from loadtui.model.plan import RunConfig

__all__ = ["KEEP", "digest", "key_destinations", "remember", "written_here"]

KEEP = 100_000
"""Digests kept: the newest 100,000 saved runs (about 6.5 MB); older files become foreign."""
_LINE = 65
"""Bytes per digest line (64 hex digits and a newline)."""


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def remember(data: bytes) -> None:
    """Add a run file's bytes to the index (best effort: a run is never lost over it), and
    prune it to the newest ``KEEP`` digests once it holds twice that many."""
    path = written_runs_index()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="ascii") as fh:
            fh.write(digest(data) + "\n")  # one short append: atomic between processes
            size = os.fstat(fh.fileno()).st_size
        if size > 2 * KEEP * _LINE:
            _prune(path)
    except OSError:
        pass


def _prune(path: Path) -> None:
    """Rewrite the index with its newest ``KEEP`` digests (a digest appended by another process
    during the rewrite can be lost: that file then needs ``--url`` or ``--trust-target``)."""
    newest = b"\n".join(_tail(path, KEEP * _LINE).split()[-KEEP:]) + b"\n"
    fd, tmp = tempfile.mkstemp(prefix=".written-runs.", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(newest)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _tail(path: Path, limit: int) -> bytes:
    """The last ``limit`` bytes of the index (the newest digests), whatever its size."""
    with path.open("rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size > limit:
            fh.seek(size - limit)
        return fh.read(limit)


def written_here(data: bytes) -> bool:
    """True when a run file with exactly these bytes was saved by this machine (among the
    newest ``KEEP``: an index grown past that by another program is read from its end)."""
    path = written_runs_index()
    try:
        if not path.is_file():  # never a FIFO or a device
            return False
        index = _tail(path, KEEP * _LINE)
    except OSError:
        return False
    return digest(data).encode() in index.split()


def key_destinations(config: RunConfig) -> list[str]:
    """The URLs, other than the embedded mock, a run of ``config`` sends a key or password to:
    the target, overhead mode's direct upstream, an absolute Batch admin URL."""
    urls = [config.target.url, config.overhead.direct_url]
    admin = config.batch.admin_url
    if admin and not admin.startswith("{base}/"):  # "{base}@host" would go to host
        urls.append(admin)
    return [u for u in urls if u]
