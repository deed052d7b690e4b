"""Conversation files (``[conversation] file``): JSONL, one conversation a line.

Read and checked here, in the process the user started (a bad line is a one-line error naming
the file and line, before any load), then handed to the workers as plain ``Script`` data. Two
shapes are read: ``{"messages": [{"role": "system"|"user"|"assistant", "content": ...}]}`` and
ShareGPT's ``{"conversations": [{"from": "system"|"human"|"gpt", "value": ...}]}``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from loadtui.errors import ConfigError
from loadtui.model.conversation import MAX_TURNS, ConversationSpec, Script
from loadtui.storage.data import PROMPTS_LIMIT, _rows, bundled_data
from loadtui.storage.files import shown_path

__all__ = ["load_conversations", "script_of"]

_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant"}
_ROLES |= {"system": "system", "chatgpt": "assistant", "bing": "assistant", "bard": "assistant"}


def load_conversations(spec: ConversationSpec | None) -> list[Script] | None:
    """The conversations of the run's file, or None when the run has none (or no file)."""
    if spec is None or spec.file is None:
        return None
    path = bundled_data().get(spec.file) or Path(spec.file)
    scripts: list[Script] = []
    for n, row in _rows(path, PROMPTS_LIMIT):
        try:
            scripts.append(script_of(row))
        except ValueError as exc:
            raise ConfigError(f"{shown_path(path)}:{n}: {exc}") from None
    return scripts


def script_of(row: Any) -> Script:
    """One line's conversation; ValueError saying what is wrong with it."""
    turns = _turns(row)
    system = "\n".join(text for role, text in turns if role == "system") or None
    users = tuple(text for role, text in turns if role == "user")
    if not users:
        raise ValueError("a conversation with no user turn")
    if len(users) > MAX_TURNS:
        raise ValueError(f"{len(users)} user turns; at most {MAX_TURNS}")
    return Script(system, users)


def _turns(row: Any) -> list[tuple[str, str]]:
    """(role, text) of each message, roles made OpenAI's (user, assistant, system)."""
    if isinstance(row, dict) and isinstance(row.get("messages"), list):
        items, role_key, text_key = row["messages"], "role", "content"
    elif isinstance(row, dict) and isinstance(row.get("conversations"), list):
        items, role_key, text_key = row["conversations"], "from", "value"
    else:
        raise ValueError('expected {"messages": [...]} or {"conversations": [...]}')
    out = []
    for item in items:
        name = item.get(role_key) if isinstance(item, dict) else None
        role = _ROLES.get(name) if isinstance(name, str) else None
        text = item.get(text_key) if isinstance(item, dict) else None
        if role is None or not isinstance(text, str):
            raise ValueError(
                f'each message needs a known "{role_key}" and a text "{text_key}", '
                f"got {str(item)[:60]!r}"
            )
        out.append((role, text))
    return out
