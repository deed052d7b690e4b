"""Data files a run reads before it starts: prompt data and Batch API input files.

Read and checked here, once, in the process the user started — a bad line is a one-line error
naming the file and the line, before any load is sent — then handed to the workers as plain
data. Bundled Batch inputs (``batch-3``, ``batch-10``, ``batch-50``) live in the top-level
``presets/data/`` folder and ship in the wheel.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

from loadtui.errors import ConfigError
from loadtui.locations import builtin_presets_dir
from loadtui.model.requests import Prompt, PromptSpec, SyntheticPrompts
from loadtui.model.workflows import BatchInput, BatchSpec

__all__ = ["bundled_data", "load_batch_input", "load_prompts", "synthetic_prompts"]

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


def _read_jsonl(path: Path) -> list[tuple[int, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such data file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    rows = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append((n, json.loads(line)))
        except ValueError as exc:
            raise ConfigError(f"{path}:{n}: not valid JSON ({exc})") from None
    if not rows:
        raise ConfigError(f"{path}: no lines")
    return rows


def load_prompts(spec: PromptSpec) -> list[Prompt] | None:
    """The run's prompts, or None when each request's own prompt is used."""
    if spec.synthetic is not None:
        return synthetic_prompts(spec.synthetic)
    if spec.file is None:
        return None
    path = bundled_data().get(spec.file) or Path(spec.file)
    prompts: list[Prompt] = []
    for n, row in _read_jsonl(path):
        if isinstance(row, dict) and isinstance(row.get("prompt"), str):
            prompts.append(row["prompt"])
        elif isinstance(row, dict) and isinstance((row.get("body") or {}).get("messages"), list):
            prompts.append(row["body"]["messages"])
        elif isinstance(row, dict) and isinstance(row.get("messages"), list):
            prompts.append(row["messages"])
        else:
            raise ConfigError(
                f'{path}:{n}: expected {{"prompt": ...}} or a Batch line with body.messages'
            )
    return prompts


def synthetic_prompts(spec: SyntheticPrompts) -> list[Prompt]:
    """``count`` prompts with word counts drawn from the distribution (seeded: the same every run)."""
    rng = random.Random(spec.seed)
    lo, hi = spec.min_words, spec.max_words
    mean = spec.mean_words or (lo + hi) / 2
    out: list[Prompt] = []
    for i in range(spec.count):
        if spec.distribution == "uniform":
            n = rng.randint(lo, hi)
        elif spec.distribution == "normal":
            n = round(rng.gauss(mean, (hi - lo) / 6 or 1))
        else:
            n = round(rng.lognormvariate(math.log(mean), 0.5))
        n = min(hi, max(lo, n))
        words = [_WORDS[(i + k * 7) % len(_WORDS)] for k in range(n)]
        out.append(f"Prompt {i}: " + " ".join(words))
    return out


def load_batch_input(spec: BatchSpec) -> BatchInput:
    """The batch input file, checked the way the Batch API checks it (protocols.md §3)."""
    path = bundled_data().get(spec.data) or Path(spec.data)
    ids: list[str] = []
    for n, row in _read_jsonl(path):
        if not isinstance(row, dict) or not isinstance(row.get("custom_id"), str):
            raise ConfigError(f"{path}:{n}: each line needs a custom_id string")
        if row.get("method") != "POST":
            raise ConfigError(f"{path}:{n}: method must be POST")
        if row.get("url") != spec.endpoint:
            raise ConfigError(
                f"{path}:{n}: url {row.get('url')!r} does not match the batch endpoint {spec.endpoint!r}"
            )
        if not isinstance(row.get("body"), dict):
            raise ConfigError(f"{path}:{n}: body must be an object")
        if row["body"].get("stream"):
            raise ConfigError(f"{path}:{n}: batch bodies cannot stream")
        ids.append(row["custom_id"])
    if len(set(ids)) != len(ids):
        raise ConfigError(f"{path}: custom_id values must be unique")
    return BatchInput(path.read_bytes(), tuple(ids))
