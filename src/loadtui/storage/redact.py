"""Keeping API keys out of run files without corrupting them.

A text replace over the serialised JSON broke files (``--api-key null`` wrote invalid JSON,
``--api-key test`` rewrote a prompt, ``--api-key smoke`` renamed the preset). So redaction works
on the values before they are serialised: inside every string that can carry a secret (URLs,
paths, headers, error messages, warnings — every string but the names listed in ``_NAMES``) the
secret becomes ``***``; keys, numbers and names are never touched. The serialised text is then
checked: a secret that still shows up outside a name is a bug, and the save refuses.

A secret shorter than ``MIN_SECRET`` characters is not treated as one: it would match numbers
and ordinary words (``--api-key 1``), and no real key is that short.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["LONG_SECRET", "MIN_SECRET", "redact_text", "redacted_json"]

MIN_SECRET = 4
LONG_SECRET = 16
"""A secret this long found in a name too is certainly a key the user pasted there (no preset
or model is named like one): it is then redacted from names and mapping keys as well."""

# Strings that name things or are the user's own content: a secret equal to one of them (the
# key ``smoke``, the key ``mock-model``) must not rename the preset or change the model sent.
# ``*`` stands for any list index or mapping key.
_NAMES = {
    ("id",),
    ("status",),
    ("started_at",),
    ("ended_at",),
    ("preset",),
    ("replay_of",),
    ("loadtui_version",),
    ("config", "preset"),
    ("config", "description"),
    ("config", "target", "model"),
    ("config", "target", "auth"),
    ("config", "target", "anthropic_version"),
    ("config", "load", "mode"),
    ("config", "load", "arrival"),
    ("config", "requests", "*", "kind"),
    ("config", "requests", "*", "name"),
    ("config", "requests", "*", "prompt"),
    ("config", "requests", "*", "system"),
    ("config", "requests", "*", "checks", "*", "name"),
    ("config", "requests", "*", "checks", "*", "json_field"),
    ("config", "requests", "*", "checks", "*", "header"),
    ("config", "prompts", "synthetic", "distribution"),
    ("config", "batch", "endpoint"),
    ("config", "batch", "completion_window"),
    ("config", "batch", "verify"),
    ("config", "batch", "admin_user"),
    ("config", "batch", "admin_password_env"),
    ("config", "thresholds", "*", "*"),
    ("config", "thresholds", "*", "*", "threshold"),
    ("target", "model"),
    ("controls", "*", "action"),
    ("controls", "*", "source"),
    ("thresholds", "*", "metric"),
    ("thresholds", "*", "expression"),
}


def _secrets(secret: str | Iterable[str | None] | None) -> list[str]:
    given = [secret] if isinstance(secret, str) or secret is None else list(secret)
    return [s for s in given if s and len(s) >= MIN_SECRET]


def redact_text(text: str, secret: str | Iterable[str | None] | None) -> str:
    """``text`` with every occurrence of each secret replaced by ``***`` (repeatedly, so a
    replacement cannot join two halves into a new occurrence)."""
    for s in _secrets(secret):
        while s in text:
            text = text.replace(s, "***")
    return text


def _is_name(path: tuple[str, ...]) -> bool:
    return any(
        len(name) == len(path) and all(n in ("*", p) for n, p in zip(name, path, strict=True))
        for name in _NAMES
    )


def _redact(value: Any, secrets: list[str], path: tuple[str, ...], everywhere: bool) -> Any:
    if isinstance(value, dict):
        return {
            (redact_text(k, secrets) if everywhere and isinstance(k, str) else k): _redact(
                v, secrets, (*path, str(k)), everywhere
            )
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_redact(v, secrets, (*path, "*"), everywhere) for v in value]
    if isinstance(value, str) and (everywhere or not _is_name(path)):
        return redact_text(value, secrets)
    return value


def _carriers(value: Any, path: tuple[str, ...] = ()) -> Iterator[str]:
    """Every string value that is not a name (the ones that must hold no secret)."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _carriers(v, (*path, str(k)))
    elif isinstance(value, list):
        for v in value:
            yield from _carriers(v, (*path, "*"))
    elif isinstance(value, str) and not _is_name(path):
        yield value


def redacted_json(
    run: dict[str, Any], secret: str | Iterable[str | None] | None, **dump: Any
) -> str:
    """``run`` as JSON with each secret redacted from the values that can carry one.

    The result is read back and checked; ValueError if a secret survived (never expected: it
    would mean the redaction missed a value, and writing the file would leak it)."""
    secrets = _secrets(secret)
    text = json.dumps(_redact(run, secrets, (), False) if secrets else run, **dump)
    if any(len(s) >= LONG_SECRET and s in text for s in secrets):
        text = json.dumps(_redact(run, secrets, (), True), **dump)
    if secrets:
        for value in _carriers(json.loads(text)):
            if any(s in value for s in secrets):
                raise ValueError("a secret survived redaction; the run was not written")
    return text
