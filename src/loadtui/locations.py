"""Every place on disk loadtui reads or writes, in one module.

``LOADTUI_DATA_DIR`` and ``LOADTUI_CONFIG_DIR`` override the platformdirs defaults (tests and
CI use them so they never touch a user's real directories); with ``LOADTUI_DATA_DIR`` set, the
cache is below it too, unless ``LOADTUI_CACHE_DIR`` names one.
"""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_cache_path, user_config_path, user_data_path

APP = "loadtui"


def data_dir() -> Path:
    """Where run files live (``runs/`` below it)."""
    override = os.environ.get("LOADTUI_DATA_DIR")
    return Path(override) if override else user_data_path(APP)


def cache_dir() -> Path:
    """What loadtui keeps only to start faster (``runtime/codecache.py``): safe to delete.
    ``LOADTUI_CACHE_DIR`` names it; else it is ``cache/`` below ``LOADTUI_DATA_DIR`` if that
    is set, else the platform's cache folder."""
    if override := os.environ.get("LOADTUI_CACHE_DIR"):
        return Path(override)
    data = os.environ.get("LOADTUI_DATA_DIR")
    return Path(data) / "cache" if data else user_cache_path(APP)


def runs_dir() -> Path:
    return data_dir() / "runs"


def config_dir() -> Path:
    """Where user presets (``presets/``) and settings live."""
    override = os.environ.get("LOADTUI_CONFIG_DIR")
    return Path(override) if override else user_config_path(APP)


def user_presets_dir() -> Path:
    return config_dir() / "presets"


def builtin_presets_dir() -> Path:
    """Presets shipped in the wheel (``loadtui/presets``) or, in a source checkout, ``presets/``."""
    packaged = Path(__file__).parent / "presets"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "presets"


def tui_state_file() -> Path:
    """The app's remembered choices: theme and recent targets (never keys)."""
    return config_dir() / "tui.json"


def builtin_themes_dir() -> Path:
    """Themes shipped in the wheel (``loadtui/themes``) or, in a source checkout, ``themes/``."""
    packaged = Path(__file__).parent / "themes"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "themes"


def written_runs_index() -> Path:
    """Digests of the run files this machine wrote: a replay trusts their targets."""
    return data_dir() / "written-runs"


def runs_index_file() -> Path:
    """Where runs saved outside ``runs/`` (``--out``) went: ``runs`` and History list them too."""
    return data_dir() / "runs-index.jsonl"


def error_log_dir() -> Path:
    """Where an internal error's traceback is written (the one-line message names the file)."""
    return data_dir() / "logs"


def timing_log_file() -> Path:
    """Where the app sends ``LOADTUI_DEBUG_TIMING`` stamps (the terminal is the app's)."""
    return error_log_dir() / "timing.log"
