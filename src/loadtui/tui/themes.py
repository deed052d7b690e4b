"""Textual themes read from the top-level ``themes/`` folder (shipped as ``loadtui/themes``).

Each ``*.toml`` file holds the fields of one ``textual.theme.Theme``. A broken file is skipped
with a note instead of keeping the app from opening.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from textual.theme import Theme

from loadtui.locations import builtin_themes_dir

__all__ = ["load_themes"]


def load_themes(folder: Path | None = None) -> tuple[list[Theme], list[str]]:
    """The themes in ``folder`` and one message per file that could not be used."""
    folder = folder or builtin_themes_dir()
    themes: list[Theme] = []
    problems: list[str] = []
    for path in sorted(folder.glob("*.toml")):
        try:
            with path.open("rb") as fh:
                themes.append(Theme(**tomllib.load(fh)))
        except (OSError, tomllib.TOMLDecodeError, TypeError) as exc:
            problems.append(f"theme {path.name} skipped: {exc}")
    return themes, problems
