"""Trace replay's settings and one arrival of a trace (``--trace``, ``[trace]``).

Production traffic comes as traces: when each request arrived and how long its prompt and
answer were (Mooncake's FAST'25 format: ``timestamp`` in ms, ``input_length``,
``output_length``, ``hash_ids`` naming the prompt's blocks, so requests sharing a prefix name
the same first blocks). A trace run sends each line at its time, open loop. The file is read
and checked by ``storage/trace_file.py`` before any load; these are the plain values it becomes
and the settings that shape the replay.
"""

from __future__ import annotations

from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from loadtui.model.requests import Prompt

__all__ = [
    "MAX_BLOCK_IDS",
    "MAX_INPUT_WORDS",
    "MAX_TRACE_LINES",
    "TRACE_KINDS",
    "TraceEntry",
    "TraceSpec",
]

_STRICT = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False, defer_build=True)

# Bounds that keep a trace from filling memory (docs/workflows.md, "Trace replay", says them):
# every line is held as a few numbers (prompts are synthesised one arrival at a time, in the
# worker that sends it), so 200,000 lines cost tens of MB at most.
MAX_TRACE_LINES = 200_000
"""Lines of a trace file."""
MAX_INPUT_WORDS = 1_000_000
"""A line's ``input_length`` (the synthesised prompt's words)."""
MAX_BLOCK_IDS = 10_000
"""``hash_ids`` of one line."""
TRACE_KINDS = ("chat", "completion", "messages", "responses")
"""Request kinds a trace can be replayed as: those that carry a prompt and ``max_tokens``
(``max_output_tokens`` in a Responses request)."""


class TraceSpec(BaseModel):
    """``[trace]``: which trace to replay and how."""

    model_config = _STRICT

    file: str
    """JSONL, Mooncake or plain lines; a bundled trace by name (``trace-example``) or a path."""
    speedup: float = Field(default=1.0, gt=0, le=10_000)
    """Replay this many times as fast: 2 halves every gap between arrivals."""
    block_words: int = Field(default=512, ge=1, le=100_000)
    """Words in one ``hash_ids`` block of a synthesised prompt (Mooncake's block is 512 tokens;
    a word stands for a token)."""


class TraceEntry(NamedTuple):
    """One line of a trace, as the worker that sends it needs it. A named tuple: a trace of
    200,000 lines is pickled to each worker process, and only its own lines are kept there."""

    at: float
    """Seconds from the trace's first line, before the speed-up."""
    max_tokens: int
    """``output_length`` (Mooncake) or ``max_tokens`` (plain); 0: the request's own."""
    input_length: int = 0
    """Words to synthesise (Mooncake); 0 with a ``prompt``."""
    hash_ids: tuple[int, ...] = ()
    """The prompt's blocks: equal ids, equal text."""
    prompt: Prompt | None = None
    """The plain format's ``prompt`` or ``messages``, sent as they are."""
