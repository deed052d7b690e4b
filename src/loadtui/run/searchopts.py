"""``--search``, ``--attainment``, ``--max-rate``, ``--max-users``, ``--search-start``: from
options and a preset's ``[search]`` to the run a capacity search needs.

A search drives the load itself, so the run is made open loop at the first step's rate (a rate
search) or closed loop with the first step's users (a users search); the run's duration caps the
whole search (``SEARCH_DURATION`` when ``--search`` turns a plain preset into a search and no
``--duration`` is given). Apart from ``options.py`` because it is one idea with its own checks.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import ValidationError

from loadtui.errors import ConfigError
from loadtui.model.plan import RunConfig
from loadtui.model.search import SearchSpec
from loadtui.storage.presets import validation_message

__all__ = ["SEARCH_DURATION", "apply_search"]

SEARCH_DURATION = 1800.0
"""The cap on a search started by ``--search`` on a preset without ``[search]`` (30 minutes)."""


def apply_search(config: RunConfig, args: Any) -> RunConfig:
    """``config`` with the search options applied (``args``: the ``Overrides``)."""
    mode = getattr(args, "search", None)
    given = {
        "--attainment": getattr(args, "attainment", None),
        "--max-rate": getattr(args, "max_rate", None),
        "--max-users": getattr(args, "max_users", None),
        "--search-start": getattr(args, "search_start", None),
    }
    if config.search is None and mode is None:
        named = [name for name, value in given.items() if value is not None]
        if named:
            raise ConfigError(f"{named[0]} goes with a capacity search (--search rate|users)")
        return config
    spec = (config.search or SearchSpec()).model_dump()
    fresh = config.search is None
    if mode is not None and mode != spec["mode"]:
        # the preset's start and ceiling are in the other mode's unit (req/s, users)
        spec.update(mode=mode, start=SearchSpec().start, max_load=None)
    _check_ceiling(spec["mode"], given["--max-rate"], given["--max-users"])
    for key, option in (("attainment", "--attainment"), ("start", "--search-start")):
        if given[option] is not None:
            spec[key] = given[option]
    ceiling = given["--max-rate"] if spec["mode"] == "rate" else given["--max-users"]
    if ceiling is not None:
        spec["max_load"] = ceiling
    if spec["mode"] == "users":  # whole users: the first step's label is what runs
        spec["start"] = float(max(1, math.floor(spec["start"] + 0.5)))
    try:
        checked = SearchSpec.model_validate(spec)
    except ValidationError as exc:
        raise ConfigError(_bad_value(exc, given, spec["mode"])) from None
    return _search_load(config, checked, fresh, args)


def _bad_value(exc: ValidationError, given: dict[str, Any], mode: str) -> str:
    """One line naming the option as typed (``--max-rate: ...``) when the bad value came from
    one, not the ``[search]`` key it landed in."""
    ceiling = "--max-rate" if mode == "rate" else "--max-users"
    options = {"attainment": "--attainment", "start": "--search-start", "max_load": ceiling}
    err = exc.errors()[0]
    option = options.get(str(err["loc"][0])) if err["loc"] else None
    if option is not None and given[option] is not None:
        return f"{option}: {err['msg'].removeprefix('Value error, ')}"
    return validation_message(exc, "invalid option: ")


def _check_ceiling(mode: str, max_rate: float | None, max_users: int | None) -> None:
    if mode == "rate" and max_users is not None:
        raise ConfigError("--max-users goes with --search users; a rate search takes --max-rate")
    if mode == "users" and max_rate is not None:
        raise ConfigError("--max-rate goes with --search rate; a users search takes --max-users")


def _search_load(config: RunConfig, spec: SearchSpec, fresh: bool, args: Any) -> RunConfig:
    """The run's load as the search's first step."""
    load: dict[str, Any] = {}
    if spec.mode == "rate":
        load.update(mode="open", rate=spec.start)
    else:
        load.update(mode="closed", users=int(spec.start), spawn_rate=0.0)
    if config.load.mode == "stages":
        load.update(stages=[], duration=config.load.total_duration)
    if fresh and getattr(args, "duration", None) is None:
        load["duration"] = SEARCH_DURATION
    return config.with_overrides(load=load, search=spec.model_dump())
