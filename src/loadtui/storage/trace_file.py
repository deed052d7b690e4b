"""Reading a trace file (``--trace``): every line checked before any load is sent.

Two formats, told apart line by line: Mooncake's (``timestamp`` in ms, ``input_length``,
``output_length``, ``hash_ids``) and a plain one (``timestamp`` with ``prompt`` or ``messages``
and optionally ``max_tokens``). A bad line is one ``ConfigError`` naming the file and the line.
The file is read a line at a time and each line kept as a few numbers (``TraceEntry``), within
the limits of ``model/trace.py``; a bundled trace is found by name in ``presets/data/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from loadtui.errors import ConfigError
from loadtui.model.trace import (
    MAX_BLOCK_IDS,
    MAX_INPUT_WORDS,
    MAX_TRACE_LINES,
    TraceEntry,
    TraceSpec,
)
from loadtui.storage.data import _rows, bundled_data
from loadtui.storage.files import MB, shown_path

__all__ = ["TRACE_FILE_LIMIT", "load_trace", "trace_path"]

TRACE_FILE_LIMIT = 256 * MB
"""Largest trace file (Mooncake's published traces are a few MB)."""
_MAX_OUTPUT = 10_000_000
"""As ``RequestSpec.max_tokens``."""


def trace_path(spec: TraceSpec) -> Path:
    """The file a ``[trace] file`` names: a bundled trace, else a path."""
    return bundled_data().get(spec.file) or Path(spec.file)


def load_trace(spec: TraceSpec) -> tuple[TraceEntry, ...]:
    """The trace's lines in order, times from the first line's; ConfigError for a bad one."""
    path = trace_path(spec)
    entries: list[TraceEntry] = []
    first: float | None = None
    last = 0.0
    for n, row in _rows(path, TRACE_FILE_LIMIT):
        where = f"{shown_path(path)}:{n}"
        if len(entries) >= MAX_TRACE_LINES:
            raise ConfigError(f"{where}: a trace holds at most {MAX_TRACE_LINES:,} lines")
        entry = _entry(row, where)
        first = entry.at if first is None else first
        if entry.at < last:
            raise ConfigError(f"{where}: timestamp goes back in time (the lines must be in order)")
        last = entry.at
        entries.append(entry._replace(at=(entry.at - first) / 1000.0))
    return tuple(entries)


def _entry(row: Any, where: str) -> TraceEntry:
    """One line as an entry (``at`` still in the file's ms)."""
    if not isinstance(row, dict):
        raise ConfigError(f"{where}: expected a JSON object")
    at = _number(row.get("timestamp"), where, "timestamp")
    if "input_length" in row or "hash_ids" in row:
        return _mooncake(row, at, where)
    prompt = row.get("prompt")
    messages = row.get("messages")
    if isinstance(prompt, str) and prompt:
        text: Any = prompt
    elif isinstance(messages, list) and messages and all(isinstance(m, dict) for m in messages):
        text = messages
    else:
        raise ConfigError(
            f"{where}: expected Mooncake fields (input_length, output_length, hash_ids) or a "
            "prompt string or messages list"
        )
    max_tokens = row.get("max_tokens")
    out = 0 if max_tokens is None else _count(max_tokens, where, "max_tokens", 1, _MAX_OUTPUT)
    return TraceEntry(at, out, prompt=text)


def _mooncake(row: dict[str, Any], at: float, where: str) -> TraceEntry:
    words = _count(row.get("input_length"), where, "input_length", 1, MAX_INPUT_WORDS)
    out = _count(row.get("output_length"), where, "output_length", 1, _MAX_OUTPUT)
    ids = row.get("hash_ids", [])
    if not isinstance(ids, list) or not all(
        isinstance(h, int) and not isinstance(h, bool) and 0 <= h < 2**63 for h in ids
    ):
        raise ConfigError(f"{where}: hash_ids must be a list of non-negative integers")
    if len(ids) > MAX_BLOCK_IDS:
        raise ConfigError(f"{where}: at most {MAX_BLOCK_IDS:,} hash_ids a line")
    return TraceEntry(at, out, words, tuple(ids))


def _number(value: Any, where: str, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{where}: {name} must be a number of ms ≥ 0, got {_shown(value)}")
    if value > 1e14:  # epoch ms (1.7e12) are fine: times count from the first line
        raise ConfigError(f"{where}: {name} is beyond any trace's length (ms from its start)")
    return float(value)


def _count(value: Any, where: str, name: str, least: int, most: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not least <= value <= most:
        raise ConfigError(
            f"{where}: {name} must be a whole number from {least} to {most:,}, got {_shown(value)}"
        )
    return value


def _shown(value: Any) -> str:
    return "nothing" if value is None else shown_path(repr(value)[:40])
