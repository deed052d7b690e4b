"""Multi-turn conversations: each closed-loop user holds a conversation of several turns.

Chat and agent traffic resends a growing history every turn, so a server's prefix cache decides
its TTFT; a benchmark of single prompts cannot show that. ``[conversation]`` in a preset (or
``--turns``) turns a run's users into conversations: turn k sends the system prompt, the user's
own prefix, the k−1 earlier user messages with the answers the server actually gave, and a new
user message (docs/workflows.md, "Multi-turn conversations").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

__all__ = [
    "CONVERSATION_KINDS",
    "MAX_TURNS",
    "MAX_TURN_LABEL",
    "ConversationSpec",
    "Script",
    "parse_turns",
    "turn_label",
    "turn_labels",
]

MAX_TURNS = 1000
"""Turns in one conversation: a history past this is a typo, not a workload."""
MAX_TURN_LABEL = 20
"""Turns past this count under one label (``turn 20+``): the per-label tables stay bounded."""
MAX_PREFIX_WORDS = 100_000
CONVERSATION_KINDS = ("chat", "messages")
"""Request kinds a conversation can be held in (OpenAI chat, Anthropic messages)."""


def parse_turns(value: Any) -> tuple[int, int]:
    """``4`` or ``"4"`` → (4, 4); ``"2-6"`` or ``[2, 6]`` → (2, 6): turns per conversation,
    fixed or drawn uniformly from the range."""
    if isinstance(value, bool):
        raise ValueError("turns is a number or a range like 2-6")
    if isinstance(value, int):
        return value, value
    if isinstance(value, (list, tuple)) and len(value) == 2:
        lo, hi = value
    elif isinstance(value, str):
        lo, sep, hi = value.strip().partition("-")
        hi = hi if sep else lo
    else:
        raise ValueError("turns is a number or a range like 2-6")
    try:
        low, high = int(lo), int(hi)
    except (TypeError, ValueError):
        raise ValueError(f"turns is a number or a range like 2-6, got {value!r:.40}") from None
    return low, high


class ConversationSpec(BaseModel):
    """``[conversation]``: how many turns, what every conversation starts with, or a file."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False, defer_build=True)

    turns: Annotated[tuple[int, int], BeforeValidator(parse_turns)] = (4, 4)
    """Turns per conversation: fixed (``4``) or uniform over a range (``"2-6"``), drawn per
    user and conversation from ``seed`` (a replay draws the same)."""
    system: str | None = None
    """A system prompt every user's every conversation starts with (the common prefix)."""
    user_prefix_words: int = Field(default=0, ge=0, le=MAX_PREFIX_WORDS)
    """Words that open each user's first message: the same block for one user in every
    conversation, different between users (a per-user prefix)."""
    file: str | None = None
    """JSONL conversations (``{"messages": [...]}`` or ShareGPT ``{"conversations": [...]}``):
    their user turns are sent in order, their assistant turns replaced by the answers received;
    a bundled file by name (``conversations-example``) or a path."""
    seed: int = Field(default=1, ge=0, lt=2**63)

    @model_validator(mode="after")
    def _range(self) -> ConversationSpec:
        lo, hi = self.turns
        if not 1 <= lo <= hi <= MAX_TURNS:
            raise ValueError(f"turns must be between 1 and {MAX_TURNS}, low to high, got {lo}-{hi}")
        return self

    @property
    def turns_text(self) -> str:
        lo, hi = self.turns
        return str(lo) if lo == hi else f"{lo}-{hi}"


def turn_labels(spec: ConversationSpec) -> list[str]:
    """The labels a run of these conversations can book: up to its most turns (a file's
    conversations: up to ``turn 20+``, their lengths being the file's)."""
    most = MAX_TURNS if spec.file is not None else spec.turns[1]
    return [turn_label(k) for k in range(1, min(most, MAX_TURN_LABEL) + 1)]


def turn_label(k: int) -> str:
    """The per-request table's row of a conversation's ``k``-th turn (1-based)."""
    return f"turn {k}" if k < MAX_TURN_LABEL else f"turn {MAX_TURN_LABEL}+"


@dataclass(frozen=True, slots=True)
class Script:
    """One conversation of a file: its own system prompt (if it has one) and its user turns,
    in order (the file's assistant turns are not kept: the answers received replace them)."""

    system: str | None
    users: tuple[str, ...]
