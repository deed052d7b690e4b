"""Command line: parse arguments, build a RunConfig, hand it to the headless runner.

Every ``LoadtuiError`` becomes one line on stderr and its exit code; argparse errors too.
The Textual app (when it exists) is imported only inside the function that starts it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from pydantic import ValidationError

from loadtui import __version__
from loadtui.errors import ConfigError, LoadtuiError, StartError, UsageError
from loadtui.headless.exitcodes import ExitCode
from loadtui.model.durations import format_duration, parse_duration, parse_range
from loadtui.model.plan import FAULTS, RunConfig, fit_duration, parse_fault, scale_time

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(ExitCode.USAGE, f"loadtui: error: {message} (see loadtui --help)\n")


def _duration(text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _range(text: str) -> tuple[float, float]:
    try:
        return parse_range(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _fault(text: str) -> tuple[str, float]:
    try:
        return parse_fault(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _run_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("target")
    g.add_argument(
        "--url",
        help="base URL of an OpenAI-compatible API (default: $OPENAI_BASE_URL, else the embedded mock)",
    )
    g.add_argument("--api-key", help="API key (default: $OPENAI_API_KEY); never written to disk")
    g.add_argument("--model", help="model name sent in each request")
    g = p.add_argument_group("load")
    g.add_argument("--users", type=int, help="virtual users (closed loop)")
    g.add_argument("--spawn-rate", type=float, help="users started per second (0 = all at once)")
    g.add_argument("--rate", type=float, help="arrivals per second (switches to open loop)")
    g.add_argument("--arrival", choices=("constant", "poisson"), help="open-loop arrival spacing")
    g.add_argument("--max-in-flight", type=int, help="open-loop cap on requests in flight")
    g.add_argument(
        "--duration", type=_duration, help="run length, e.g. 30s or 5m (stages are fitted to it)"
    )
    g.add_argument(
        "--time-scale", type=float, help="multiply every duration of the shape, e.g. 0.1"
    )
    g.add_argument(
        "--think-time", type=_range, help="pause between a user's requests, e.g. 0.5-2s (0 = none)"
    )
    g.add_argument("--workers", type=int, help="worker processes (default: automatic)")
    g = p.add_argument_group("requests")
    g.add_argument(
        "--stream",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="stream chat answers (SSE)",
    )
    g.add_argument("--max-tokens", type=int, help="max_tokens in each chat request")
    g.add_argument("--prompt", help="the user message of each chat request")
    g = p.add_argument_group("run")
    g.add_argument(
        "--control-file", help="TOML file of timed control changes ([[control]] at/action/value)"
    )
    g.add_argument("--out", type=Path, help="where to write the run file (default: the data dir)")
    g.add_argument(
        "--live",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="redraw progress in place (default: when stdout is a terminal)",
    )


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="loadtui",
        description="Load tester for LLM APIs and gateways. Without a command: the interactive app "
        "(or a headless run with --headless).",
    )
    p.add_argument("--version", action="version", version=f"loadtui {__version__}")
    p.add_argument("--headless", action="store_true", help="run without the interactive app")
    p.add_argument("--preset", default=None, help="preset name or .toml path (default: smoke)")
    _run_options(p)
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.add_parser("presets", help="list presets")
    sub.add_parser("runs", help="list saved runs, newest first")
    r = sub.add_parser("replay", help="re-run the exact load shape of a run file")
    r.add_argument("run_file", help="a run file (path) or a run id")
    r.add_argument("--headless", action="store_true", help="run without the interactive app")
    r.add_argument("--url", help="send the replay to this URL instead of the recorded target")
    r.add_argument("--api-key", help="API key (default: $OPENAI_API_KEY)")
    r.add_argument("--out", type=Path, help="where to write the new run file")
    r.add_argument("--live", action=argparse.BooleanOptionalAction, default=None)
    m = sub.add_parser("mock", help="run the mock OpenAI-compatible upstream on its own")
    m.add_argument("--host", default="127.0.0.1")
    m.add_argument("--port", type=int, default=9999)
    m.add_argument(
        "--latency", type=_duration, default=0.0, help="delay before a non-streaming answer"
    )
    m.add_argument("--ttft", type=_duration, default=0.0, help="delay to the first streamed token")
    m.add_argument("--itl", type=_duration, default=0.0, help="delay between streamed tokens")
    m.add_argument("--tokens", type=int, default=16, help="tokens per answer")
    m.add_argument(
        "--fault",
        action="append",
        type=_fault,
        default=[],
        metavar="KIND[:RATE]",
        help="inject a fault into chat requests (repeatable): " + ", ".join(FAULTS),
    )
    return p


def resolve_config(args: argparse.Namespace) -> RunConfig:
    """The preset with every given option applied and validated."""
    from loadtui.storage.presets import load_preset, validation_message

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
            if r.kind == "chat":
                if args.stream is not None:
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


def _cmd_run(args: argparse.Namespace) -> int:
    from loadtui.headless.runner import RunOptions, run_headless
    from loadtui.storage.presets import load_control_file

    if not args.headless:
        return _cmd_app(args)
    config = resolve_config(args)
    schedule = load_control_file(args.control_file) if args.control_file else []
    api_key = args.api_key or os.environ.get("OPENAI_API_KEY")
    code, _ = run_headless(
        config, RunOptions(api_key=api_key, out=args.out, schedule=schedule, live=args.live)
    )
    return code


def _cmd_app(args: argparse.Namespace) -> int:
    raise UsageError(
        "the interactive app is not built yet; run with --headless (loadtui --headless --preset smoke)"
    )


def _cmd_presets(args: argparse.Namespace) -> int:
    from loadtui.storage.presets import find_presets, load_preset

    for name, info in find_presets().items():
        try:
            cfg = load_preset(str(info.path))
            line = f"{cfg.load.mode:7} {format_duration(cfg.load.total_duration):>6}  {cfg.description}"
        except ConfigError as exc:
            line = f"invalid: {exc}"
        print(f"{name:10} {'(user) ' if info.user else ''}{line}")
    return ExitCode.OK


def _cmd_runs(args: argparse.Namespace) -> int:
    from loadtui.locations import runs_dir
    from loadtui.storage.runfile import list_runs

    runs = list_runs()
    if not runs:
        print(f"no saved runs in {runs_dir()}")
        return ExitCode.OK
    for path, run in runs:
        s = run.get("summary", {})
        lat = s.get("metrics", {}).get("latency_ms", {})
        print(
            f"{run.get('started_at', '?')[:19]}  {run.get('preset') or 'custom':9} {run['status']:11} "
            f"req {s.get('requests', 0):>7}  err {s.get('errors_total', 0):>5}  "
            f"p95 {lat.get('p95', 0):>8.1f} ms  {path}"
        )
    return ExitCode.OK


def _cmd_replay(args: argparse.Namespace) -> int:
    from loadtui.headless.runner import RunOptions, run_headless
    from loadtui.locations import runs_dir
    from loadtui.storage.runfile import load_run, run_config, run_controls

    path = Path(args.run_file)
    if not path.exists() and not args.run_file.endswith(".json"):
        path = runs_dir() / f"{args.run_file}.json"
    run = load_run(path)
    config = run_config(run, path)
    schedule = run_controls(run, path)
    if args.url:
        try:
            config = config.with_overrides(target={"url": args.url})
        except ValidationError as exc:
            from loadtui.storage.presets import validation_message

            raise ConfigError(validation_message(exc, "invalid option: ")) from None
    if not args.headless:
        return _cmd_app(args)
    api_key = args.api_key or os.environ.get("OPENAI_API_KEY")
    code, _ = run_headless(
        config,
        RunOptions(
            api_key=api_key, out=args.out, schedule=schedule, replay_of=run["id"], live=args.live
        ),
    )
    return code


def _cmd_mock(args: argparse.Namespace) -> int:
    from loadtui.engine import aio
    from loadtui.engine.mock import MockSettings, serve

    if args.tokens < 1:
        raise ConfigError(f"--tokens must be at least 1, got {args.tokens}")
    if not 0 <= args.port <= 65535:
        raise ConfigError(f"--port must be 0-65535, got {args.port}")
    if sum(rate for _, rate in args.fault) > 1.0:
        raise ConfigError("--fault rates add up to more than 1")
    settings = MockSettings(
        latency=args.latency,
        ttft=args.ttft,
        itl=args.itl,
        tokens=args.tokens,
        faults=tuple(args.fault),
    )

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(sig, stop.set)

        def ready(port: int) -> None:
            host = f"[{args.host}]" if ":" in args.host else args.host
            print(f"mock upstream listening on http://{host}:{port} (Ctrl-C stops it)", flush=True)

        await serve(settings, args.host, args.port, on_ready=ready, stop=stop)

    try:
        aio.run(main())
    except OSError as exc:
        raise StartError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
    return ExitCode.OK


_COMMANDS = {
    None: _cmd_run,
    "presets": _cmd_presets,
    "runs": _cmd_runs,
    "replay": _cmd_replay,
    "mock": _cmd_mock,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(_COMMANDS[args.command](args))
    except UsageError as exc:
        print(f"loadtui: error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    except StartError as exc:
        print(f"loadtui: could not start: {exc}", file=sys.stderr)
        return ExitCode.NOT_STARTED
    except LoadtuiError as exc:
        print(f"loadtui: error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED
