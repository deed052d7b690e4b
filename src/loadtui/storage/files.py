"""Reading a file a user named, safely: regular files only, a size cap, lines read one by one;
and writing one whole or not at all (``write_atomic``).

Every loader (presets, control files, run files, prompt and Batch data) reads through here, so
``/dev/zero``, a FIFO, a folder or a 10 GB file is a one-line error naming the file, never a
hang, a ``MemoryError`` or a traceback. The caps are in docs/presets.md and docs/run-format.md.
"""

from __future__ import annotations

import itertools
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path

from loadtui.errors import UsageError

__all__ = [
    "MB",
    "decode",
    "iter_lines",
    "read_capped",
    "read_head",
    "shown_path",
    "size_text",
    "write_atomic",
]

MB = 1024 * 1024


def size_text(size: int) -> str:
    return f"{size / MB:.0f} MB" if size >= MB else f"{size / 1024:.0f} KB"


def _open(path: Path, what: str, error: type[UsageError]) -> tuple[int, int]:
    """An open descriptor of a regular file, and its size (``error`` for anything else).

    O_NONBLOCK: opening a FIFO with no writer would otherwise block for ever before ``fstat``
    could tell us what it is."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise error(f"{shown_path(path)}: no such {what}") from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        reason = exc.strerror if isinstance(exc, OSError) else "not a valid path"
        raise error(f"{shown_path(path)}: cannot read: {reason}") from None
    mode = os.fstat(fd)
    if not stat.S_ISREG(mode.st_mode):
        os.close(fd)
        kind = "a folder" if stat.S_ISDIR(mode.st_mode) else "not a regular file"
        raise error(f"{shown_path(path)}: cannot read a {what} from it: it is {kind}")
    os.set_blocking(fd, True)
    return fd, mode.st_size


def shown_path(path: Path | str) -> str:
    """The path as a message shows it (a 100,000-character name is cut)."""
    text = str(path)
    return text if len(text) <= 200 else text[:100] + "…" + text[-60:]


def read_capped(path: Path, limit: int, what: str, error: type[UsageError]) -> bytes:
    """The whole file, if it is a regular file of at most ``limit`` bytes."""
    fd, size = _open(path, what, error)
    with os.fdopen(fd, "rb") as fh:
        if size > limit:
            raise error(
                f"{shown_path(path)}: {size_text(size)} is too large for a {what} "
                f"(at most {size_text(limit)})"
            )
        data = fh.read(limit + 1)  # the size can change under us: never read past the cap
    if len(data) > limit:
        raise error(f"{shown_path(path)}: too large for a {what} (at most {size_text(limit)})")
    return data


def read_head(path: Path, limit: int, what: str, error: type[UsageError]) -> tuple[bytes, bool]:
    """At most the first ``limit`` bytes of a regular file, and whether that is all of it."""
    fd, _ = _open(path, what, error)
    with os.fdopen(fd, "rb") as fh:
        data = fh.read(limit + 1)  # one byte more tells whether the file goes on
    return data[:limit], len(data) <= limit


def iter_lines(
    path: Path, limit: int, line_limit: int, what: str, error: type[UsageError]
) -> Iterator[tuple[int, str]]:
    """``(line number, text)`` of each line, read one at a time; ``error`` for a file larger
    than ``limit``, a line longer than ``line_limit`` or a line that is not UTF-8."""
    fd, size = _open(path, what, error)
    if size > limit:
        os.close(fd)
        raise error(
            f"{shown_path(path)}: {size_text(size)} is too large for a {what} "
            f"(at most {size_text(limit)})"
        )
    total = 0
    with os.fdopen(fd, "rb") as fh:
        for n in itertools.count(1):
            raw = fh.readline(line_limit + 1)
            if not raw:
                return
            total += len(raw)
            if len(raw) > line_limit and not raw.endswith(b"\n"):
                raise error(f"{shown_path(path)}:{n}: line longer than {size_text(line_limit)}")
            if total > limit:
                raise error(
                    f"{shown_path(path)}: too large for a {what} (at most {size_text(limit)})"
                )
            try:
                yield n, raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise error(f"{shown_path(path)}:{n}: not UTF-8 (byte {exc.start + 1})") from None


def decode(data: bytes, path: Path, error: type[UsageError]) -> str:
    """``data`` as UTF-8 text, or ``error`` naming the line of the first bad byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise error(f"{shown_path(path)}:{line}: not UTF-8 (byte {exc.start + 1})") from None


def write_atomic(path: Path, data: bytes, *, private: bool = True) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder, synced and
    renamed into place, so a reader (or a crash) never sees half of it and a device or FIFO at
    ``path`` is replaced, never written into; OSError as is. ``private``: mode 0600 (run files,
    the runs index, the digests of written runs); else 0666 less the umask, as ``open()``
    makes a file (an export, read by a CI's upload step)."""
    tmp = path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
