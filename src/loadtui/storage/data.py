"""Data files a run reads before it starts: prompt data and Batch API input files.

Read and checked here, once, in the process the user started — a bad line is a one-line error
naming the file and the line, before any load is sent — then handed to the workers as plain
data. Bundled Batch inputs (``batch-3``, ``batch-10``, ``batch-50``) live in the top-level
``presets/data/`` folder and ship in the wheel.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from loadtui.errors import ConfigError
from loadtui.locations import builtin_presets_dir
from loadtui.model.requests import Prompt, PromptSpec, SyntheticPrompts
from loadtui.model.shaping import draw_lengths
from loadtui.model.workflows import BatchInput, BatchSpec
from loadtui.storage.files import MB, iter_lines, read_capped, shown_path

__all__ = [
    "BATCH_LIMIT",
    "LINE_LIMIT",
    "PROMPTS_LIMIT",
    "bundled_data",
    "load_batch_input",
    "load_prompts",
    "synthetic_prompts",
]

PROMPTS_LIMIT = 1024 * MB
"""Largest prompt data file; it is read a line at a time and only the prompts are kept."""
BATCH_LIMIT = 200 * MB
"""Largest Batch input file: the Batch API's own limit (the file is uploaded whole)."""
LINE_LIMIT = 4 * MB
"""Longest line of prompt or Batch data (one prompt, one request body)."""

_WORDS = [
    "load",
    "latency",
    "token",
    "stream",
    "gateway",
    "model",
    "request",
    "answer",
    "server",
    "queue",
    "cache",
    "proxy",
    "throughput",
    "window",
    "percentile",
    "budget",
    "retry",
    "header",
    "batch",
    "prompt",
    "vector",
    "upstream",
    "route",
]


def bundled_data() -> dict[str, Path]:
    folder = builtin_presets_dir() / "data"
    return {p.stem: p for p in sorted(folder.glob("*.jsonl"))} if folder.is_dir() else {}


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _rows(path: Path, limit: int) -> Iterator[tuple[int, Any]]:
    """Each non-blank line's JSON value, read one line at a time (ConfigError on a bad one)."""
    empty = True
    for n, line in iter_lines(path, limit, LINE_LIMIT, "data file", ConfigError):
        if not line.strip():
            continue
        try:
            row = json.loads(line, parse_constant=_reject_constant)
        except RecursionError:
            raise ConfigError(
                f"{shown_path(path)}:{n}: not valid JSON (nested too deeply)"
            ) from None
        except ValueError as exc:  # also an integer of more than 4,300 digits
            raise ConfigError(f"{shown_path(path)}:{n}: not valid JSON ({exc})") from None
        empty = False
        yield n, row
    if empty:
        raise ConfigError(f"{shown_path(path)}: no lines")


def load_prompts(spec: PromptSpec) -> list[Prompt] | None:
    """The run's prompts, or None when each request's own prompt is used."""
    if spec.synthetic is not None:
        return synthetic_prompts(spec.synthetic)
    if spec.file is None:
        return None
    path = bundled_data().get(spec.file) or Path(spec.file)
    prompts: list[Prompt] = []
    for n, row in _rows(path, PROMPTS_LIMIT):
        prompt = _prompt_of(row)
        if prompt is None:
            raise ConfigError(
                f'{shown_path(path)}:{n}: expected {{"prompt": ...}} or a Batch line with '
                "body.messages"
            )
        prompts.append(prompt)
    return prompts


def _prompt_of(row: Any) -> Prompt | None:
    """The prompt of one line: ``{"prompt": str}``, a Batch line or ``{"messages": [...]}``."""
    if not isinstance(row, dict):
        return None
    prompt = row.get("prompt")
    if isinstance(prompt, str):
        return prompt
    body = row.get("body")
    for messages in (body.get("messages") if isinstance(body, dict) else None, row.get("messages")):
        if isinstance(messages, list) and messages and all(isinstance(m, dict) for m in messages):
            return messages
    return None


def synthetic_prompts(spec: SyntheticPrompts) -> list[Prompt]:
    """``count`` prompts with word counts drawn from the distribution (seeded: the same every run)."""
    lengths = draw_lengths(
        spec.distribution, spec.min_words, spec.max_words, spec.mean_words, spec.seed, spec.count
    )
    return [
        f"Prompt {i}: " + " ".join(_WORDS[(i + k * 7) % len(_WORDS)] for k in range(n))
        for i, n in enumerate(lengths)
    ]


def load_batch_input(spec: BatchSpec) -> BatchInput:
    """The batch input file, checked the way the Batch API checks it."""
    path = bundled_data().get(spec.data) or Path(spec.data)
    ids: list[str] = []
    for n, row in _rows(path, BATCH_LIMIT):
        where = f"{shown_path(path)}:{n}"
        if not isinstance(row, dict) or not isinstance(row.get("custom_id"), str):
            raise ConfigError(f"{where}: each line needs a custom_id string")
        if row.get("method") != "POST":
            raise ConfigError(f"{where}: method must be POST")
        if row.get("url") != spec.endpoint:
            shown = shown_path(repr(row.get("url")))
            raise ConfigError(
                f"{where}: url {shown} does not match the batch endpoint {spec.endpoint!r}"
            )
        if not isinstance(row.get("body"), dict):
            raise ConfigError(f"{where}: body must be an object")
        if row["body"].get("stream"):
            raise ConfigError(f"{where}: batch bodies cannot stream")
        ids.append(row["custom_id"])
    if len(set(ids)) != len(ids):
        raise ConfigError(f"{shown_path(path)}: custom_id values must be unique")
    # read again, capped, for the upload: the file was validated line by line above
    return BatchInput(read_capped(path, BATCH_LIMIT, "data file", ConfigError), tuple(ids))
