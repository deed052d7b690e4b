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

__all__ = ["PresetInfo", "find_presets", "load_control_file", "load_preset", "validation_message"]


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
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = "unknown key"
    return f"{prefix}{where}: {msg}" if where else f"{prefix}{msg}"


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None


def load_preset(name_or_path: str) -> RunConfig:
    """A preset by name (``smoke``) or by path to a .toml file."""
    path = Path(name_or_path)
    if name_or_path.endswith(".toml") or path.is_file():
        if not path.is_file():
            raise ConfigError(f"{path}: no such preset file")
        name = path.stem
    else:
        presets = find_presets()
        if name_or_path not in presets:
            raise ConfigError(
                f"unknown preset {name_or_path!r}; choose one of {', '.join(presets)} "
                "(loadtui presets lists them)"
            )
        path = presets[name_or_path].path
        name = name_or_path
    data = _read_toml(path)
    data.setdefault("preset", name)
    try:
        return RunConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(validation_message(exc, f"{path}: ")) from None


def load_control_file(path_text: str) -> list[ControlChange]:
    """Timed control changes: ``[[control]]`` tables with ``at``, ``action`` and ``value``."""
    path = Path(path_text)
    if not path.is_file():
        raise ConfigError(f"{path}: no such control file")
    data = _read_toml(path)
    unknown = set(data) - {"control"}
    if unknown:
        raise ConfigError(
            f"{path}: unknown key(s) {', '.join(sorted(unknown))}; expected [[control]]"
        )
    entries = data.get("control", [])
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: control must be an array of tables ([[control]])")
    out = []
    for i, raw in enumerate(entries):
        try:
            out.append(parse_control(raw, source="control-file"))
        except ValueError as exc:
            raise ConfigError(f"{path}: control[{i}]: {exc}") from None
    return sorted(out, key=lambda c: c.at or 0.0)
