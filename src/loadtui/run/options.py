"""From a preset and a user's options to one validated RunConfig.

The command line and the app's setup form both describe a run as "this preset, with these
changes"; both go through ``resolve_config`` so an option means the same thing wherever it is
typed, and a bad value gets the same one-line message. It reads argparse namespaces and
environment variables (API keys, base URLs), so it lives in the run service, not in storage.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import ValidationError

from loadtui.errors import ConfigError
from loadtui.model.controls import ControlChange, refusal
from loadtui.model.durations import MAX_DURATION, format_duration
from loadtui.model.plan import RunConfig, fit_duration, scale_time
from loadtui.model.servermetrics import MOCK, ServerMetricsSpec
from loadtui.model.slo import parse_slo
from loadtui.model.threshold_grammar import parse_cli_threshold
from loadtui.model.trace import TRACE_KINDS
from loadtui.run.searchopts import apply_search
from loadtui.run.shaping import apply_control, sets_authorization
from loadtui.storage.data import bundled_data
from loadtui.storage.presets import load_preset, validation_message

Changes = dict[str, Any]
"""Field values for ``RunConfig.model_validate`` / ``model_copy``: pydantic's untyped input,
validated the moment it is applied."""

__all__ = [
    "Overrides",
    "Resolved",
    "add_server_metrics",
    "add_slos",
    "add_thresholds",
    "check_controls",
    "check_credentials",
    "default_api_key",
    "redact_url",
    "resolve",
    "resolve_config",
    "split_userinfo",
    "with_userinfo",
]


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
    warmup: float | None = None
    """``--warmup``: the first seconds left out of the summary and the thresholds."""
    requests: int | None = None
    """``--requests``: stop after this many requests (docs/workflows.md)."""
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
    mock: bool | None = None
    """Use the embedded mock whatever the preset or the environment name (``--mock``)."""
    threshold: list[str] | None = None
    """``--threshold 'METRIC EXPRESSION'`` (repeatable): added to the preset's thresholds."""
    abort_on_fail: bool | None = None
    """``--abort-on-fail``: the ``--threshold`` ones stop the run as soon as they fail."""
    abort_delay: float | None = None
    """``--abort-delay``: seconds into the run before ``--abort-on-fail`` is checked."""
    search: str | None = None
    """``--search rate|users``: a capacity search (``searchopts.py``)."""
    attainment: float | None = None
    max_rate: float | None = None
    max_users: int | None = None
    search_start: float | None = None
    slo: list[str] | None = None
    """``--slo 'ttft<500ms'`` (repeatable): replaces the preset's SLO of the same name."""
    backend: str | None = None
    """``--backend process|ray``: where the workers run."""
    ray_address: str | None = None
    """``--ray-address``: the Ray cluster to join."""
    headers: list[tuple[str, str]] | None = None
    """``--header 'Name: value'`` (repeatable): on every request (``TargetSpec.headers``)."""
    body: list[str] | None = None
    """``--body KEY=JSON`` (repeatable): merged into every request body (``apply_control``)."""
    input_words: str | None = None
    """``--input-words N`` or ``MIN-MAX``: synthetic prompts of that many words."""
    insecure: bool | None = None
    """``--insecure``: no TLS certificate check."""
    ca_cert: str | None = None
    """``--ca-cert FILE``: the CA bundle the target's certificate is checked against."""
    server_metrics: str | None = None
    """``--server-metrics URL|mock``: the server's Prometheus endpoint, scraped each second."""
    server_metric: list[str] | None = None
    """``--server-metric NAME`` (repeatable): a series kept beside the known ones."""
    trace: str | None = None
    """``--trace FILE``: replay a trace (``[trace] file``)."""
    trace_speedup: float | None = None
    trace_block_words: int | None = None
    turns: str | None = None
    """``--turns N|MIN-MAX``: each user holds conversations of this many turns."""

    @classmethod
    def from_namespace(cls, ns: argparse.Namespace) -> Overrides:
        return cls(**{f.name: getattr(ns, f.name, None) for f in fields(cls)})


@dataclass(frozen=True)
class Resolved:
    """A resolved run: the config (no credentials in it) and what stays in memory beside it."""

    config: RunConfig
    userinfo: str | None = None
    """``user:password`` taken out of the URL: sent as Basic auth, never written or shown."""
    source: str | None = None
    """Where the target URL came from (``--url``, ``the preset``, ``$OPENAI_BASE_URL``,
    ``--mock``); None = the embedded mock because nothing named a URL."""


def split_userinfo(url: str) -> tuple[str, str | None]:
    """``http://u:p@host/x`` → (``http://host/x``, ``u:p``); a URL without userinfo is unchanged.
    ConfigError for a URL that cannot be parsed (``http://[::1``)."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise ConfigError(
            f"url must be http(s)://host[:port][/path], got {url!r} ({exc})"
        ) from None
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at:
        return url, None
    return urlunsplit(parts._replace(netloc=host)), userinfo


def with_userinfo(url: str, userinfo: str | None) -> str:
    """The URL the engine sends to (in memory only): the credentials put back."""
    if not userinfo:
        return url
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{parts.netloc}"))


def redact_url(url: str, secrets: list[str] | tuple[str, ...] = ()) -> str:
    """A URL fit to show: userinfo and every known key replaced by ``***``."""
    clean, userinfo = split_userinfo(url)
    if userinfo:
        parts = urlsplit(clean)
        clean = urlunsplit(parts._replace(netloc=f"***@{parts.netloc}"))
    for secret in secrets:
        if len(secret) >= 4:  # as the run file's scrubbing: a short one would mangle the URL
            clean = clean.replace(secret, "***")
    return clean


def _env_url(config: RunConfig) -> tuple[str | None, str | None]:
    """($ANTHROPIC_BASE_URL for a run of Anthropic messages, else $OPENAI_BASE_URL, its name)."""
    var = (
        "ANTHROPIC_BASE_URL"
        if any(r.kind == "messages" for r in config.requests)
        else "OPENAI_BASE_URL"
    )
    url = os.environ.get(var)
    return (url, f"${var}") if url else (None, None)


def _target_url(args: Overrides, config: RunConfig) -> tuple[str | None, str | None]:
    """(URL, where it came from). Order: --mock, --url, the preset, the environment, the mock.

    The environment names an API, not a proxy, so overhead mode (which needs the proxy as its
    URL) never takes it.
    """
    if args.mock:
        if args.url:
            raise ConfigError("--mock and --url contradict each other; give one")
        return None, "--mock"
    if args.url:
        return args.url, "--url"
    if config.target.url:
        return config.target.url, "the preset"
    if config.overhead.enabled or args.direct_url is not None:
        return None, None
    return _env_url(config)


def check_credentials(config: RunConfig, api_key: str | None, userinfo: str | None) -> None:
    """Refuse a run whose requests could not authenticate as the user meant (exit 2)."""
    paths = [config.target.url or ""] + [r.path or "" for r in config.requests]
    if not api_key and any("{key}" in p for p in paths):
        raise ConfigError(
            "the URL has {key} but there is no API key: give one (--api-key, or the app's "
            "API key field), or set $ANTHROPIC_API_KEY (messages) or $OPENAI_API_KEY"
        )
    if userinfo and api_key and _uses_authorization(config):
        raise ConfigError(
            "the URL holds user:password (Basic auth) and an API key is sent as Bearer: both "
            "use the Authorization header; drop one (the key may come from $OPENAI_API_KEY)"
        )
    if userinfo and sets_authorization(config):
        raise ConfigError(
            "the URL holds user:password (Basic auth) and a header sets Authorization "
            "(--header or headers = ...): both use the Authorization header; drop one"
        )


def check_controls(config: RunConfig, schedule: list[ControlChange], where: str | None) -> None:
    """Refuse a scheduled change the run would accept and ignore (exit 2, before any load)."""
    end = config.load.total_duration
    for change in schedule:
        at = change.at or 0.0
        what = f"{where}: the {change.action!r} control at {format_duration(at)}"
        if at >= end:
            raise ConfigError(
                f"{what} comes at or after the end of the run ({format_duration(end)}): "
                "it would never apply"
            )
        if (why := refusal(config.load, change.action)) is not None:
            raise ConfigError(f"{what} {why}")


def _uses_authorization(config: RunConfig) -> bool:
    """Whether any request sends its key in ``Authorization`` (Bearer), not ``x-api-key``."""
    auth = config.target.auth
    return any(
        auth == "bearer" if r.kind == "messages" else auth != "x-api-key" for r in config.requests
    )


def resolve_config(args: Overrides) -> RunConfig:
    """The preset with every given option applied and validated; credentials in the URL are
    refused here (callers that can keep them in memory use ``resolve``)."""
    resolved = resolve(args)
    if resolved.userinfo:
        raise ConfigError(
            "user:password in the URL is sent as Basic auth by headless runs only (--headless)"
        )
    return resolved.config


def resolve(args: Overrides) -> Resolved:
    """The preset with every given option applied and validated, userinfo kept apart."""
    config = load_preset(args.preset or "smoke")
    url, source = _target_url(args, config)
    userinfo = None
    if url:
        url, userinfo = split_userinfo(url)
    changes = _changes(args, config, url)
    try:
        if changes:
            config = config.with_overrides(**changes)
        config = apply_control(config, args)
        config = _fit_time(config, args)
        config = add_slos(config, args)  # first: an SLO threshold needs the SLOs
        config = add_thresholds(config, args)
        config = apply_search(config, args)
        config = add_server_metrics(config, args)
        config = absolute_files(config)
    except ValidationError as exc:
        raise ConfigError(validation_message(exc, "invalid option: ")) from None
    direct = config.overhead.direct_url
    if direct and split_userinfo(direct)[1] is not None:  # it would be written to the run file
        raise ConfigError(
            "the overhead upstream (--direct-url / [overhead] direct_url) must not hold "
            "user:password; give the upstream's URL without credentials"
        )
    return Resolved(config, userinfo, source)


def absolute_files(config: RunConfig) -> RunConfig:
    """The data files a run reads (``[trace]``, ``[conversation]``, ``[prompts]``) as absolute
    paths, so its run file replays from any directory; a bundled file's name stays a name."""
    bundled = bundled_data()
    changes: Changes = {}
    for key in ("trace", "conversation", "prompts"):
        file = getattr(getattr(config, key), "file", None)
        if file is not None and file not in bundled:
            path = os.path.abspath(os.path.expanduser(file))
            if path != file:
                changes[key] = {"file": path}
    return config.with_overrides(**changes) if changes else config


def add_server_metrics(config: RunConfig, args: Overrides) -> RunConfig:
    """``config`` with ``--server-metrics`` (replacing the preset's URL) and each
    ``--server-metric`` added to its series; ``mock`` only where the embedded mock serves."""
    spec = config.server_metrics
    if args.server_metrics is None and not args.server_metric:
        if spec is not None and spec.url == MOCK and config.target.url is not None:
            spec = None  # a preset's ``mock`` means "when the mock serves": not against --url
            config = config.with_overrides(server_metrics=None)
        return config
    url = args.server_metrics or (spec.url if spec else None)
    if url is None:
        raise ConfigError("--server-metric NAME needs --server-metrics URL (or mock)")
    if url.strip() == MOCK and config.target.url is not None:
        raise ConfigError(
            "--server-metrics mock reads the embedded mock's metrics and this run has a URL; "
            "give that server's metrics URL instead (e.g. http://HOST:8000/metrics)"
        )
    series = (*(spec.series if spec else ()), *(args.server_metric or ()))
    try:
        new = ServerMetricsSpec(url=url, series=tuple(dict.fromkeys(series)))
    except ValidationError as exc:
        raise ConfigError(validation_message(exc, "--server-metrics: ")) from None
    return config.with_overrides(server_metrics=new)


def add_slos(config: RunConfig, args: Overrides) -> RunConfig:
    """``config`` with the ``--slo`` options over its ``[slo]`` table (one per name: the
    option wins); ConfigError naming a bad one."""
    if not args.slo:
        return config
    table = dict(config.slo)
    for text in args.slo:
        try:
            slo = parse_slo(text)
        except ValueError as exc:
            raise ConfigError(f"--slo: {exc}") from None
        table[slo.name] = slo.bound
    return config.with_overrides(slo=table)


def add_thresholds(config: RunConfig, args: Overrides) -> RunConfig:
    """``config`` with the ``--threshold`` options added to its own thresholds (k6 merges
    thresholds too): the preset's stay, a CLI one identical to one of them is not repeated.
    A bad one is a one-line ConfigError naming it, before any load."""
    if not args.threshold:
        if args.abort_on_fail or args.abort_delay is not None:
            flag = "--abort-on-fail" if args.abort_on_fail else "--abort-delay"
            raise ConfigError(
                f"{flag} applies to --threshold options and none was given (in a preset: "
                '[thresholds] latency = [{threshold = "p(95)<500", abort_on_fail = true}])'
            )
        return config
    if args.abort_delay is not None and not args.abort_on_fail:
        raise ConfigError("--abort-delay goes with --abort-on-fail")
    end = config.load.total_duration
    if args.abort_delay and args.abort_delay >= end and config.load.mode != "burst":
        raise ConfigError(
            f"--abort-delay {format_duration(args.abort_delay)} comes at or after the end of "
            f"the run ({format_duration(end)}): --abort-on-fail would never be checked"
        )
    merged: dict[str, list[Any]] = {
        metric: [spec.model_dump() for spec in specs] for metric, specs in config.thresholds.items()
    }
    for text in args.threshold:
        try:
            metric, expression = parse_cli_threshold(text)
        except ValueError as exc:
            raise ConfigError(f"--threshold {text!r}: {exc}") from None
        entry: Any = expression
        if args.abort_on_fail:
            entry = {
                "threshold": expression,
                "abort_on_fail": True,
                "delay_abort_eval": args.abort_delay or 0.0,
            }
        if entry not in merged.setdefault(metric, []):
            merged[metric].append(entry)
    return config.with_overrides(thresholds=merged)


def _changes(args: Overrides, config: RunConfig, url: str | None) -> Changes:
    """Every given option as nested changes to the preset (``with_overrides``' argument)."""
    target: Changes = {}
    if url != config.target.url:
        target["url"] = url
    if args.model:
        target["model"] = args.model
    changes: Changes = {}
    load = _load_changes(args, config)
    if load:
        changes["load"] = load
    if target:
        changes["target"] = target
    requests = _request_changes(args, config)
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
    engine = _engine_changes(args, config)
    if engine:
        changes["engine"] = engine
    _trace_changes(args, config, changes)
    if args.turns is not None:
        changes["conversation"] = _conversation_changes(args.turns, config)
    return changes


def _trace_changes(args: Overrides, config: RunConfig, changes: Changes) -> None:
    """``--trace`` and its settings into ``changes``: a trace run (load mode ``trace``) that
    lasts until its last arrival is answered unless ``--duration`` cuts it; ``--users`` or
    ``--rate`` on a trace preset make the run theirs instead."""
    given = args.trace_speedup is not None or args.trace_block_words is not None
    if args.trace is None:
        if config.trace is None:
            if given:
                raise ConfigError("--trace-speedup and --trace-block-words go with --trace")
            return
        if args.users is not None or args.rate is not None:
            changes["trace"] = None
            changes.setdefault("load", {})["mode"] = "closed" if args.users is not None else "open"
            return
    elif args.users is not None or args.rate is not None:
        raise ConfigError(
            "--trace sets when requests arrive; --users and --rate describe other runs: give one"
        )
    if args.time_scale is not None:
        raise ConfigError(
            "a trace replay keeps the trace's times: speed it up with --trace-speedup"
        )
    if args.think_time is not None:  # the rule a think_time control meets (model/controls.py)
        trace_load = config.load.model_copy(update={"mode": "trace"})
        raise ConfigError(f"--think-time {refusal(trace_load, 'think_time')}")
    trace = config.trace.model_dump() if config.trace is not None else {}
    if args.trace is not None:
        trace["file"] = args.trace
        changes["requests"] = _trace_request(changes.get("requests"), config)
        load = changes.setdefault("load", {})
        load["mode"] = "trace"
        if config.load.mode != "trace":
            load["duration"] = MAX_DURATION  # a cap only: the trace's end ends the run
    if args.trace_speedup is not None:
        if args.trace_speedup <= 0:
            raise ConfigError(f"--trace-speedup must be greater than 0, got {args.trace_speedup:g}")
        trace["speedup"] = args.trace_speedup
    if args.trace_block_words is not None:
        trace["block_words"] = args.trace_block_words
    changes["trace"] = trace


def _conversation_changes(turns: str, config: RunConfig) -> Changes:
    """``--turns``: the preset's ``[conversation]`` (or a plain one) with this many turns."""
    base = config.conversation.model_dump() if config.conversation is not None else {}
    return {**base, "turns": turns}


def _engine_changes(args: Overrides, config: RunConfig) -> Changes:
    """``[engine]`` changes: --backend, --ray-address (which only means something with Ray)."""
    engine: Changes = {}
    if args.backend is not None:
        engine["backend"] = args.backend
    if args.ray_address is not None:
        if (args.backend or config.engine.backend) != "ray":
            raise ConfigError("--ray-address goes with --backend ray")
        engine["ray_address"] = args.ray_address
    return engine


_LOAD_OPTIONS = ("spawn_rate", "arrival", "max_in_flight", "think_time")
"""Options copied into ``[load]`` as they are (the model validates them)."""


def _trace_request(requests: list[Changes] | None, config: RunConfig) -> list[Changes]:
    """The one request kind a trace is sent as: the preset's first chat, completion, messages
    or responses request, with all its settings (stream, body, headers, …); smoke's mix of
    health, models and chat replays as its chat. A preset with none of them is refused."""
    given = requests if requests is not None else [r.model_dump() for r in config.requests]
    kinds = [r for r in given if r.get("kind", "chat") in TRACE_KINDS]
    if not kinds:
        sent = sorted({str(r.get("kind", "chat")) for r in given})
        raise ConfigError(
            f"a trace replays {', '.join(TRACE_KINDS[:-1])} or {TRACE_KINDS[-1]} requests; "
            f"this preset sends {', '.join(sent)} (a chat preset: --preset trace)"
        )
    return kinds[:1]


def _load_changes(args: Overrides, config: RunConfig) -> Changes:
    """``[load]`` changes: --users makes a closed-loop run, --rate an open-loop one, each
    keeping the preset's length when it changes the mode."""
    load: Changes = {}
    if args.users is not None:
        if args.users < 1:
            raise ConfigError(f"--users must be at least 1, got {args.users}")
        load["users"] = args.users
        if config.load.mode in ("stages", "burst", "open"):
            load["mode"] = "closed"
            load.setdefault("duration", config.load.total_duration)
    if args.rate is not None:
        if args.users is not None:
            raise ConfigError(
                "--users (virtual users, closed loop) and --rate (arrivals per second, open "
                "loop) describe different runs; give one (a cap on users' pace: a 'rate' control)"
            )
        if args.rate <= 0:
            raise ConfigError(f"--rate must be greater than 0, got {args.rate:g}")
        load["rate"] = args.rate
        if config.load.mode != "open":
            load["mode"] = "open"
            load.setdefault("duration", config.load.total_duration)
    for opt in _LOAD_OPTIONS:
        value = getattr(args, opt)
        if value is not None:
            load[opt] = value
    load.update(_shape_changes(args, config, load))
    return load


def _shape_changes(args: Overrides, config: RunConfig, load: Changes) -> Changes:
    """``--warmup`` and ``--requests``; a budget without ``--duration`` runs until it is spent
    (closed or open loop: stages keep their length, whichever comes first)."""
    changes: Changes = {}
    if args.warmup is not None:
        changes["warmup"] = args.warmup
    if args.requests is not None:
        if args.requests < 1:
            raise ConfigError(f"--requests must be at least 1, got {args.requests}")
        changes["requests"] = args.requests
        if args.duration is None and load.get("mode", config.load.mode) in ("closed", "open"):
            changes["duration"] = MAX_DURATION
    return changes


def _request_changes(args: Overrides, config: RunConfig) -> list[Changes] | None:
    """Every request with --stream, --max-tokens and --prompt applied where they mean
    something (an embedding is never streamed); None when none of them was given."""
    if args.stream is None and args.max_tokens is None and args.prompt is None:
        return None
    requests = []
    for r in config.requests:
        d = r.model_dump()
        if r.kind in ("chat", "completion", "messages", "embedding", "responses"):
            if args.stream is not None and r.kind != "embedding":
                d["stream"] = args.stream
            if args.max_tokens is not None:
                d["max_tokens"] = args.max_tokens
            if args.prompt is not None:
                d["prompt"] = args.prompt
        requests.append(d)
    return requests


def _fit_time(config: RunConfig, args: Overrides) -> RunConfig:
    """--duration fits the shape to a length; --time-scale speeds the whole plan up."""
    if args.duration is not None:
        if args.duration <= 0:
            raise ConfigError("--duration must be greater than 0")
        config = fit_duration(config, args.duration)
    if args.time_scale is not None:
        if args.time_scale <= 0:
            raise ConfigError(f"--time-scale must be greater than 0, got {args.time_scale:g}")
        config = _scale_think_time(scale_time(config, args.time_scale), args.time_scale)
    return config


def _scale_think_time(config: RunConfig, factor: float) -> RunConfig:
    """``--time-scale`` speeds up the whole plan: a user's pauses too, or a scaled run would be
    mostly think time (``--duration`` alone leaves them: it only fits the shape's length)."""
    lo, hi = config.load.think_time
    if not hi:
        return config
    return config.with_overrides(load={"think_time": (lo * factor, hi * factor)})
