"""Preset files: TOML in the shipped presets/ folder, overridden by name from the user's.

A preset is a ``RunConfig`` written as TOML (``[load]``, ``[[requests]]``, ``[thresholds]``,
``[target]``, ``description``). Errors name the file, the key and what was expected, in one line.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from loadtui.errors import ConfigError
from loadtui.locations import builtin_presets_dir, user_presets_dir
from loadtui.model.controls import ControlChange, parse_control
from loadtui.model.plan import RunConfig
from loadtui.storage.files import MB, decode, read_capped, shown_path

__all__ = [
    "PRESET_LIMIT",
    "PresetInfo",
    "find_presets",
    "load_control_file",
    "load_preset",
    "validation_message",
]

PRESET_LIMIT = 1 * MB
"""Largest preset or control file read (a real one is a few KB)."""


@dataclass(frozen=True)
class PresetInfo:
    name: str
    path: Path
    user: bool


def find_presets() -> dict[str, PresetInfo]:
    """Every preset by name; a user preset replaces a built-in one of the same name."""
    found: dict[str, PresetInfo] = {}
    for folder, user in ((builtin_presets_dir(), False), (user_presets_dir(), True)):
        if folder.is_dir():
            for path in sorted(folder.glob("*.toml")):
                found[path.stem] = PresetInfo(path.stem, path, user)
    return dict(sorted(found.items()))


def validation_message(exc: ValidationError, prefix: str = "") -> str:
    """The first validation error as ``key.path: message`` (one line)."""
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"] if p != "__root__")
    if len(where) > 120:  # a key is whatever the file says: keep the line readable
        where = where[:100] + "…"
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = "unknown key"
    return f"{prefix}{where}: {msg}" if where else f"{prefix}{msg}"


def _read_toml(path: Path, what: str) -> dict[str, Any]:
    """The file's TOML (at most ``PRESET_LIMIT`` bytes of UTF-8); ConfigError otherwise."""
    text = decode(read_capped(path, PRESET_LIMIT, what, ConfigError), path, ConfigError)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{shown_path(path)}: invalid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{shown_path(path)}: invalid TOML: nested too deeply") from None
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise ConfigError(f"{shown_path(path)}: invalid TOML: {exc}") from None


def _is_file(path: Path) -> bool:
    """``path.is_file()``, False for a name the system refuses (too long, a NUL in it)."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def load_preset(name_or_path: str) -> RunConfig:
    """A preset by name (``smoke``) or by path to a .toml file."""
    path = Path(name_or_path)
    if name_or_path.endswith(".toml") or "/" in name_or_path or _is_file(path):
        name = path.stem
    else:
        presets = find_presets()
        if name_or_path not in presets:
            raise ConfigError(
                f"unknown preset {shown_path(repr(name_or_path))}; choose one of "
                f"{', '.join(presets)} (loadtui presets lists them)"
            )
        path = presets[name_or_path].path
        name = name_or_path
    data = _read_toml(path, "preset file")
    data.setdefault("preset", name)
    try:
        return RunConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(validation_message(exc, f"{shown_path(path)}: ")) from None


def load_control_file(path_text: str) -> list[ControlChange]:
    """Timed control changes: ``[[control]]`` tables with ``at``, ``action`` and ``value``."""
    path = Path(path_text)
    data = _read_toml(path, "control file")
    shown = shown_path(path)
    unknown = set(data) - {"control"}
    if unknown:
        keys = shown_path(", ".join(sorted(unknown)))
        raise ConfigError(f"{shown}: unknown key(s) {keys}; expected [[control]]")
    entries = data.get("control", [])
    if not isinstance(entries, list):
        raise ConfigError(f"{shown}: control must be an array of tables ([[control]])")
    out = []
    for i, raw in enumerate(entries):
        try:
            out.append(parse_control(raw, source="control-file"))
        except ValueError as exc:
            raise ConfigError(f"{shown}: control[{i}]: {exc}") from None
    return sorted(out, key=lambda c: c.at or 0.0)
