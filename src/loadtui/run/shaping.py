"""The options that put the request under full control: ``--header``, ``--body``,
``--input-words``, ``--insecure``, ``--ca-cert``, and the warnings a run prints about them.

``resolve`` (``options.py``) applies them after the preset's other changes; they live apart
because they shape each request rather than the load, and their checks (a header that would
break the request, a body typo, an unreadable CA bundle) are one-line errors before any load.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from loadtui.engine.tls import ca_context
from loadtui.errors import ConfigError
from loadtui.model.plan import RunConfig
from loadtui.model.shaping import HIDDEN, is_secret_header

if TYPE_CHECKING:
    from loadtui.run.options import Overrides

__all__ = ["apply_control", "replay_headers", "sets_authorization", "start_notices"]

Changes = dict[str, Any]

_BODY_KINDS = ("chat", "completion", "messages", "embedding", "responses")
"""Requests that have a JSON body ``--body`` can add to."""


def apply_control(config: RunConfig, args: Overrides) -> RunConfig:
    """``config`` with the options that shape each request and the TLS check applied."""
    changes: Changes = {}
    target = _tls_changes(config, args)
    if args.headers:
        target["headers"] = {**config.target.headers, **dict(args.headers)}
    if target:
        changes["target"] = target
    if args.body:
        fields = dict(_body_field(text) for text in args.body)
        changes["requests"] = [
            {**r.model_dump(), "body": {**r.body, **fields}}
            if r.kind in _BODY_KINDS
            else r.model_dump()
            for r in config.requests
        ]
    if args.input_words is not None:
        changes["prompts"] = _input_words(config, args)
    return config.with_overrides(**changes) if changes else config


def replay_headers(config: RunConfig, headers: list[tuple[str, str]]) -> RunConfig:
    """A replayed run's configuration with ``--header`` given again: the run file kept auth-like
    values as ``***``; each header given replaces the run's of that name, and a request's own
    header of that name that was hidden gives way to it."""
    if not headers:
        return config
    given = {name.lower() for name, _ in headers}
    kept = {k: v for k, v in config.target.headers.items() if k.lower() not in given}
    requests = [
        {
            **r.model_dump(),
            "headers": {
                k: v for k, v in r.headers.items() if not (k.lower() in given and v == HIDDEN)
            },
        }
        for r in config.requests
    ]
    return config.with_overrides(target={"headers": {**kept, **dict(headers)}}, requests=requests)


def _tls_changes(config: RunConfig, args: Overrides) -> Changes:
    """--insecure / --ca-cert (either replaces the preset's choice); the bundle is read now so a
    missing or unreadable one stops the run before it starts (exit 2)."""
    if args.insecure and args.ca_cert is not None:
        raise ConfigError(
            "--insecure (no certificate check) and --ca-cert (check against this CA) "
            "contradict each other; give one"
        )
    if args.ca_cert is not None:
        ca_context(args.ca_cert, "--ca-cert")
        return {"ca_cert": args.ca_cert, "insecure": False}
    if args.insecure:
        return {"insecure": True, "ca_cert": None}
    return {}


def _body_field(text: str) -> tuple[str, Any]:
    """``KEY=JSON`` → (key, value): JSON when it parses (``temperature=0.2``, ``stop=["\\n"]``),
    else the text itself (``user=alice``) — unless it starts like JSON (``{``, ``[``, ``"``)."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"--body is KEY=JSON (e.g. temperature=0.2), got {text[:80]!r}")
    try:
        return key, json.loads(raw)
    except ValueError as exc:
        if raw.lstrip()[:1] in ("{", "[", '"'):  # meant as JSON: a typo must not become text
            raise ConfigError(f"--body {key}: not valid JSON ({exc})") from None
        return key, raw


def _input_words(config: RunConfig, args: Overrides) -> Changes:
    """``--input-words N`` or ``MIN-MAX``: synthetic prompts (words are the token proxy),
    keeping the preset's count, distribution and seed when it has synthetic prompts."""
    if args.prompts is not None or args.prompt is not None:
        raise ConfigError("--input-words generates the prompts: give it or --prompt/--prompts")
    text = args.input_words or ""
    lo, sep, hi = text.partition("-")
    try:
        low, high = int(lo), int(hi if sep else lo)
    except ValueError:
        raise ConfigError(f"--input-words is N or MIN-MAX (words), got {text[:40]!r}") from None
    synthetic = config.prompts.synthetic
    base = synthetic.model_dump() if synthetic is not None else {}
    return {"file": None, "synthetic": {**base, "min_words": low, "max_words": high}}


def start_notices(config: RunConfig) -> list[str]:
    """Warning lines a run prints at start: certificates not checked, and auth-like header
    values a replayed run file no longer has (they were written as ``***``)."""
    notices = []
    if config.target.insecure:
        notices.append(
            "warning: TLS certificates are not checked (--insecure): anyone on the path can "
            "read and change this run's requests"
        )
    hidden = sorted(
        {
            name
            for headers in (config.target.headers, *(r.headers for r in config.requests))
            for name, value in headers.items()
            if is_secret_header(name) and value == HIDDEN
        }
    )
    if hidden:
        notices.append(
            f"warning: header(s) {', '.join(hidden)} are sent as *** (a run file never keeps "
            "their values): give them again with --header 'NAME: VALUE'"
        )
    return notices


def sets_authorization(config: RunConfig) -> bool:
    """Whether a ``--header`` or a request's ``headers`` sets ``Authorization`` (which Basic
    auth from ``user:password@`` in the URL would need too: aiohttp refuses both)."""
    names = [*config.target.headers, *(n for r in config.requests for n in r.headers)]
    return any(name.lower() == "authorization" for name in names)
