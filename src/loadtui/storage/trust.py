"""Which run files this machine wrote, and where a replay would send the user's API key.

A run file names its target, so replaying someone else's file would send the local key
(``$OPENAI_API_KEY``) to whatever host the file chose. Every run file saved here has its SHA-256
appended to a small index in the data dir (mode 0600); a file whose digest is not there was not
written by this machine, and a replay of it needs ``--url`` or ``--trust-target`` before the key
goes to any host the file names.
"""

from __future__ import annotations

import hashlib
import os

from loadtui.errors import RunFileError
from loadtui.locations import written_runs_index
from loadtui.model.plan import RunConfig
from loadtui.storage.files import MB, read_capped

__all__ = ["digest", "key_destinations", "remember", "written_here"]

_INDEX_LIMIT = 64 * MB


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def remember(data: bytes) -> None:
    """Add a run file's bytes to the index (best effort: a run is never lost over it)."""
    path = written_runs_index()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="ascii") as fh:
            fh.write(digest(data) + "\n")  # one short append: atomic between processes
    except OSError:
        pass


def written_here(data: bytes) -> bool:
    """True when a run file with exactly these bytes was saved by this machine."""
    path = written_runs_index()
    try:
        index = read_capped(path, _INDEX_LIMIT, "index", RunFileError)
    except RunFileError:
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
