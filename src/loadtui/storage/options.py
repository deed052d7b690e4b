"""From a preset and a user's options to one validated RunConfig.

The command line and the app's setup form both describe a run as "this preset, with these
changes"; both go through ``resolve_config`` so an option means the same thing wherever it is
typed, and a bad value gets the same one-line message.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, fields
from typing import Any

from pydantic import ValidationError

from loadtui.errors import ConfigError
from loadtui.model.plan import RunConfig, fit_duration, scale_time
from loadtui.storage.presets import load_preset, validation_message

__all__ = ["Overrides", "default_api_key", "resolve_config"]


def default_api_key(config: RunConfig, given: str | None = None) -> str | None:
    """The key to use: the one given, else $ANTHROPIC_API_KEY for a run of Anthropic messages,
    else $OPENAI_API_KEY."""
    if given:
        return given
    if any(r.kind == "messages" for r in config.requests):
        key = os.environ.get("ANTHROPIC_API_KEY")
        if key:
            return key
    return os.environ.get("OPENAI_API_KEY")


@dataclass
class Overrides:
    """Changes to a preset; None leaves the preset's value."""

    preset: str | None = None
    url: str | None = None
    model: str | None = None
    users: int | None = None
    spawn_rate: float | None = None
    rate: float | None = None
    arrival: str | None = None
    max_in_flight: int | None = None
    think_time: tuple[float, float] | None = None
    duration: float | None = None
    time_scale: float | None = None
    workers: int | None = None
    stream: bool | None = None
    max_tokens: int | None = None
    prompt: str | None = None
    prompts: str | None = None
    """Prompt data file (JSONL)."""
    data: str | None = None
    """Batch input file (JSONL) or bundled set name."""
    direct_url: str | None = None
    """Overhead mode: the upstream for the direct requests."""

    @classmethod
    def from_namespace(cls, ns: argparse.Namespace) -> Overrides:
        return cls(**{f.name: getattr(ns, f.name, None) for f in fields(cls)})


def resolve_config(args: Overrides) -> RunConfig:
    """The preset with every given option applied and validated."""

    config = load_preset(args.preset or "smoke")
    load: dict[str, Any] = {}
    target: dict[str, Any] = {}
    url = args.url or os.environ.get("OPENAI_BASE_URL")
    if url:
        target["url"] = url
    if args.model:
        target["model"] = args.model
    if args.users is not None:
        if args.users < 1:
            raise ConfigError(f"--users must be at least 1, got {args.users}")
        load["users"] = args.users
        if config.load.mode in ("stages", "burst", "open"):
            load["mode"] = "closed"
            load.setdefault("duration", config.load.total_duration)
    if args.rate is not None:
        if args.rate <= 0:
            raise ConfigError(f"--rate must be greater than 0, got {args.rate:g}")
        load["rate"] = args.rate
        if config.load.mode != "open":
            load["mode"] = "open"
            load.setdefault("duration", config.load.total_duration)
    for opt, key in (
        ("spawn_rate", "spawn_rate"),
        ("arrival", "arrival"),
        ("max_in_flight", "max_in_flight"),
        ("think_time", "think_time"),
    ):
        value = getattr(args, opt)
        if value is not None:
            load[key] = value
    requests = None
    if args.stream is not None or args.max_tokens is not None or args.prompt is not None:
        requests = []
        for r in config.requests:
            d = r.model_dump()
            if r.kind in ("chat", "completion", "messages", "embedding"):
                if args.stream is not None and r.kind != "embedding":
                    d["stream"] = args.stream
                if args.max_tokens is not None:
                    d["max_tokens"] = args.max_tokens
                if args.prompt is not None:
                    d["prompt"] = args.prompt
            requests.append(d)
    changes: dict[str, Any] = {}
    if load:
        changes["load"] = load
    if target:
        changes["target"] = target
    if requests is not None:
        changes["requests"] = requests
    if args.prompts is not None:
        changes["prompts"] = {"file": args.prompts, "synthetic": None}
    elif args.prompt is not None:  # one fixed prompt replaces the preset's prompt data
        changes["prompts"] = {"file": None, "synthetic": None}
    if args.data is not None:
        changes["batch"] = {"data": args.data}
    if args.direct_url is not None:
        changes["overhead"] = {"enabled": True, "direct_url": args.direct_url}
    if args.workers is not None:
        if args.workers < 1:
            raise ConfigError(f"--workers must be at least 1, got {args.workers}")
        changes["workers"] = args.workers
    try:
        if changes:
            config = config.with_overrides(**changes)
        if args.duration is not None:
            if args.duration <= 0:
                raise ConfigError("--duration must be greater than 0")
            config = fit_duration(config, args.duration)
        if args.time_scale is not None:
            if args.time_scale <= 0:
                raise ConfigError(f"--time-scale must be greater than 0, got {args.time_scale:g}")
            config = scale_time(config, args.time_scale)
    except ValidationError as exc:
        raise ConfigError(validation_message(exc, "invalid option: ")) from None
    return config
