"""The compiled code of dataclass methods, kept between runs as bytecode is.

``dataclasses`` writes each class's methods (``__init__``, ``__eq__``, ``__repr__``, a frozen
class's ``__setattr__`` ...) as source text and compiles it as the class is defined: on every
import, in every process, with no ``.pyc`` to keep it. A headless run's parent defines some 120
dataclasses before its load starts (the run record, the workers' messages, the models,
annotated_types' constraints), and compiling their ~590 methods was ~38 ms of the ~230 ms of CPU
it spends before the load (docs/performance.md, "Start-up and exit").

``install`` gives the ``dataclasses`` module an ``exec`` of its own (a module global is found
before the builtin) that compiles each text once: the code objects are kept in one marshal file
per Python bytecode version in loadtui's cache folder, read at start and written back at exit
when something new was compiled. A text compiles to the same code whenever it is compiled (the
same file name, no inherited ``__future__`` flags, as ``dataclasses``' own ``exec`` of a string),
so every class is defined exactly as before. A cache file that is not this user's alone, too
big, or not a table of code objects is ignored, and a new one is written.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import marshal
import os
import stat
import sys
from pathlib import Path
from types import CodeType
from typing import Any

__all__ = ["install", "save"]

_MAX_ENTRIES = 20_000
"""Texts kept at most (loadtui's own need ~600-1,500: the CLI, a worker, the app)."""
_MAX_FILE = 32 * 1024 * 1024
"""A cache file bigger than this is not read."""

_cache: dict[str, CodeType] = {}
_state: dict[str, Any] = {"path": None, "new": 0}


def install(folder: Path) -> None:
    """Compile dataclass methods once, keeping them in ``folder`` (created on the first save);
    idempotent. Processes forked later inherit the table; ``save`` runs at this process's exit
    (and any process may call it before an ``os._exit``)."""
    if getattr(dataclasses, "exec", None) is _exec:
        return
    from importlib.util import MAGIC_NUMBER

    tag = sys.implementation.cache_tag or sys.implementation.name
    path = folder / f"dataclasses-{tag}-{MAGIC_NUMBER.hex()}.marshal"
    _state["path"] = path
    _cache.update(_read(path))
    dataclasses.exec = _exec  # type: ignore[attr-defined]
    atexit.register(save)


def _exec(source: Any, globals: Any = None, locals: Any = None, /) -> None:
    """``exec`` for ``dataclasses``: a text is compiled once, then its code reused."""
    if type(source) is str:
        code = _cache.get(source)
        if code is None:
            code = compile(source, "<string>", "exec", dont_inherit=True)
            if len(_cache) < _MAX_ENTRIES:
                _cache[source] = code
                _state["new"] += 1
        source = code
    exec(source, globals, locals)


def save() -> None:
    """Write the table back if this process compiled anything new (merged with what another
    process wrote meanwhile; written whole, then renamed). Errors are ignored: a cache."""
    path: Path | None = _state["path"]
    if path is None or not _state["new"]:
        return
    _state["new"] = 0
    with contextlib.suppress(OSError, ValueError):
        merged = {**_read(path), **_cache}
        if len(merged) > _MAX_ENTRIES:
            merged = dict(_cache)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.{os.getpid()}")
        with contextlib.suppress(FileNotFoundError):  # left by a killed process of this pid
            os.unlink(temp)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(temp, flags, 0o600)  # a new file of ours: never one planted there
        try:
            with os.fdopen(fd, "wb") as fh:
                marshal.dump(merged, fh)
            os.replace(temp, path)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(temp)


def _read(path: Path) -> dict[str, CodeType]:
    """The table in ``path``; empty when it is missing, not this user's alone, too big or not
    a table of code objects (a cache file holds code: it is trusted as a ``.pyc`` would be, and
    only when no one else can write it)."""
    try:
        # never blocks: a FIFO put there is opened, seen not to be a file, and left alone
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        fd = os.open(path, flags)
    except OSError:
        return {}
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        mine = not hasattr(os, "getuid") or info.st_uid == os.getuid()
        if not stat.S_ISREG(info.st_mode) or not mine or info.st_mode & 0o022:
            return {}
        if info.st_size > _MAX_FILE:
            return {}
        try:
            table = marshal.loads(fh.read())
        except (EOFError, ValueError, TypeError, OSError):
            return {}
    if not isinstance(table, dict):
        return {}
    return {k: v for k, v in table.items() if type(k) is str and type(v) is CodeType}
