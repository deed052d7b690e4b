"""What each command does. Heavy imports happen inside the command that needs them."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from loadtui.errors import ConfigError, StartError, UsageError
from loadtui.model.durations import format_duration
from loadtui.run.exitcodes import ExitCode
from loadtui.run.options import (
    Overrides,
    check_controls,
    check_credentials,
    default_api_key,
    resolve,
    resolve_config,
    split_userinfo,
)

if TYPE_CHECKING:
    from loadtui.model.plan import RunConfig
    from loadtui.tui.app import StartNow

__all__ = ["COMMANDS"]


def _check_out(out: Path | None) -> None:
    """Refuse an --out the run could not be written to, before any load is sent."""
    if out is None:
        return
    if out.is_dir():
        raise ConfigError(f"--out {out} is a folder; give a file name such as {out / 'run.json'}")
    if not out.parent.is_dir():
        raise ConfigError(f"--out {out}: the folder {out.parent} does not exist")
    if not os.access(out.parent, os.W_OK):
        raise ConfigError(f"--out {out}: the folder {out.parent} is not writable")


def _check_record_requests(path: Path | None) -> None:
    """Refuse a --record-requests file that could not be written, before any load is sent."""
    if path is None:
        return
    if path.exists() and not path.is_file():
        raise ConfigError(f"--record-requests {path} is not a regular file (a folder or device)")
    if not path.parent.is_dir():
        raise ConfigError(f"--record-requests {path}: the folder {path.parent} does not exist")
    if not os.access(path.parent, os.W_OK):
        raise ConfigError(f"--record-requests {path}: the folder {path.parent} is not writable")


def _cmd_run(args: argparse.Namespace) -> int:
    from loadtui.headless.runner import RunOptions, run_headless
    from loadtui.storage.presets import load_control_file

    if not args.headless:
        return _cmd_app(args)
    resolved = resolve(Overrides.from_namespace(args))
    config = resolved.config
    _check_out(args.out)
    _check_record_requests(args.record_requests)
    schedule = load_control_file(args.control_file) if args.control_file else []
    check_controls(config, schedule, args.control_file)
    api_key = default_api_key(config, args.api_key)
    check_credentials(config, api_key, resolved.userinfo)
    options = RunOptions(
        api_key=api_key,
        out=args.out,
        record_requests=args.record_requests,
        schedule=schedule,
        live=args.live,
        userinfo=resolved.userinfo,
        target_source=resolved.source,
    )
    code, _ = run_headless(config, options)
    return code


def _open_app(
    prefill: Overrides | None = None, api_key: str | None = None, start: StartNow | None = None
) -> int:
    """Run the Textual app (imported here only, so headless runs never load Textual)."""
    import sys

    if not (sys.stdin.isatty() and sys.stderr.isatty()):  # Textual draws on stderr
        raise UsageError("the interactive app needs a terminal; add --headless to run without it")
    from loadtui.tui.app import LoadtuiApp

    app = LoadtuiApp(prefill=prefill, api_key=api_key, start=start)
    saved = app.run() or []
    try:
        for path in saved:
            print(f"run saved: {path}", flush=True)
    except OSError:  # the terminal closed with the app (SIGHUP): the runs are saved all the same
        pass
    if app.interrupted_by and app.interrupted_by != "quit":
        return ExitCode.INTERRUPTED
    return ExitCode.OK


def _cmd_app(args: argparse.Namespace) -> int:
    from loadtui.storage.presets import load_control_file
    from loadtui.tui.app import StartNow

    prefill = Overrides.from_namespace(args)
    config = resolve_config(prefill)  # bad options fail before the app opens
    prefill.preset = config.preset
    api_key = default_api_key(config, args.api_key)
    check_credentials(config, api_key, None)
    outputs = {"--out": args.out, "--control-file": args.control_file}
    outputs["--record-requests"] = args.record_requests
    given = [flag for flag, value in outputs.items() if value]
    if not args.start and given:
        flag = given[0]
        raise UsageError(f"{flag} needs --start (or --headless): the setup form has no such field")
    start = None
    if args.start:
        _check_out(args.out)
        _check_record_requests(args.record_requests)
        schedule = load_control_file(args.control_file) if args.control_file else []
        check_controls(config, schedule, args.control_file)
        start = StartNow(
            config, api_key, schedule, out=args.out, record_requests=args.record_requests
        )
    return _open_app(prefill, args.api_key, start)


def _cmd_presets(args: argparse.Namespace) -> int:
    from loadtui.storage.presets import find_presets, load_preset

    for name, info in find_presets().items():
        mine = " (user)" if info.user else ""  # at the end, so the columns stay aligned
        try:
            cfg = load_preset(str(info.path))
            print(f"{name:12} {cfg.load.mode:7} {_length(cfg):>9}  {cfg.description}{mine}")
        except ConfigError as exc:
            print(f"{name:12} invalid: {exc}{mine}")
    return ExitCode.OK


def _length(cfg: RunConfig) -> str:
    """How long a preset runs; a burst ends when its requests have answered, whatever its
    duration says, so it shows how many it fires."""
    if cfg.load.mode == "burst":
        return f"{cfg.load.burst_requests} req"
    return format_duration(cfg.load.total_duration)


def _cmd_runs(args: argparse.Namespace) -> int:
    import sys

    from loadtui.locations import runs_dir
    from loadtui.storage.runfile import scan_records

    runs, skipped = scan_records()
    for reason in skipped:  # named, so a broken file is not silently missing from the list
        print(f"loadtui: skipped {reason}", file=sys.stderr)
    if not runs:
        print(f"no saved runs in {runs_dir()}")
        return ExitCode.OK
    for entry in runs:
        run, s = entry.record, entry.record.summary
        print(
            f"{run.started_at[:19] or '?'}  {run.preset or 'custom':9} {run.status:11} "
            f"req {s.requests:>7}  err {s.errors_total:>5}  "
            f"p95 {s.metrics.latency_ms.p95:>8.1f} ms  {entry.path}"
        )
    return ExitCode.OK


def _check_trust(
    config: RunConfig, path: Path, written_here: bool, args: argparse.Namespace, url: str | None
) -> None:
    """Refuse to send the user's key to hosts named by a run file this machine did not write
    (``url``, from --url with any ``user:pw@`` taken out as the config holds it, is the user's
    own choice)."""
    from loadtui.storage.trust import key_destinations

    hosts = [u for u in key_destinations(config) if u != url]
    if written_here or args.trust_target or not hosts:
        return
    raise UsageError(
        f"{path} was not written by this machine and would send your API key to "
        f"{', '.join(hosts)}; give --url with your own target, or --trust-target if you trust it"
    )


def _cmd_replay(args: argparse.Namespace) -> int:
    from loadtui.headless.runner import RunOptions, run_headless
    from loadtui.storage.runfile import find_run, load_record_checked, run_config, run_controls

    path = find_run(args.run_file)
    run, written_here = load_record_checked(path)
    config = run_config(run, path)
    _check_out(args.out)
    _check_record_requests(args.record_requests)
    schedule = run_controls(run, path)
    url, userinfo = split_userinfo(args.url) if args.url else (None, None)
    if url:
        try:
            config = config.with_overrides(target={"url": url})
        except ValidationError as exc:
            from loadtui.storage.presets import validation_message

            raise ConfigError(validation_message(exc, "invalid option: ")) from None
    _check_trust(config, path, written_here, args, url)
    api_key = default_api_key(config, args.api_key)
    check_credentials(config, api_key, userinfo)
    if not args.headless:
        if userinfo:
            raise ConfigError("user:password in --url is sent as Basic auth by --headless only")
        from loadtui.tui.app import StartNow

        start = StartNow(config, api_key, schedule, run.id, args.out, args.record_requests)
        return _open_app(None, None, start)
    code, _ = run_headless(
        config,
        RunOptions(
            api_key=api_key,
            out=args.out,
            schedule=schedule,
            replay_of=run.id,
            record_requests=args.record_requests,
            live=args.live,
            userinfo=userinfo,
            target_source="--url" if url else None,
        ),
    )
    return code


def _serve_until_signal(serve: Any, host: str, port: int, what: str) -> int:
    """Run ``serve(host, port, on_ready, stop)`` in the foreground until Ctrl-C or SIGTERM."""
    from loadtui.runtime import aio

    if not 0 <= port <= 65535:
        raise ConfigError(f"--port must be 0-65535, got {port}")

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(sig, stop.set)

        def ready(bound: int) -> None:
            shown = f"[{host}]" if ":" in host else host
            print(f"{what} listening on http://{shown}:{bound} (Ctrl-C stops it)", flush=True)

        await serve(host, port, ready, stop)

    try:
        aio.run(main())
    except OSError as exc:
        raise StartError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    return ExitCode.OK


def _cmd_mock(args: argparse.Namespace) -> int:
    from loadtui.mock import serve
    from loadtui.model.plan import MockSpec
    from loadtui.storage.presets import validation_message

    given = {
        "latency": args.latency,
        "ttft": args.ttft,
        "itl": args.itl,
        "tokens": args.tokens,
        "batch_phase": args.batch_phase,
        "batch_line_errors": args.batch_line_errors,
    }
    try:  # MockSpec's defaults are the embedded mock's: the same mock either way
        spec = MockSpec(
            faults=dict(args.fault),
            headers=dict(args.header),
            **{k: v for k, v in given.items() if v is not None},
        )
    except ValidationError as exc:
        raise ConfigError(validation_message(exc, "invalid option: ")) from None
    return _serve_until_signal(
        lambda host, port, ready, stop: serve(spec, host, port, ready, stop),
        args.host,
        args.port,
        "mock upstream",
    )


def _cmd_proxy(args: argparse.Namespace) -> int:
    from loadtui.mock.proxy import build_proxy
    from loadtui.mock.servers import serve_app
    from loadtui.model.plan import TargetSpec

    try:
        TargetSpec(url=args.upstream)
    except ValidationError:
        raise ConfigError(
            f"--upstream must be http(s)://host[:port], got {args.upstream!r}"
        ) from None
    return _serve_until_signal(
        lambda host, port, ready, stop: serve_app(
            build_proxy(args.upstream), host, port, ready, stop
        ),
        args.host,
        args.port,
        f"pass-through proxy to {args.upstream}",
    )


COMMANDS = {
    None: _cmd_run,
    "presets": _cmd_presets,
    "runs": _cmd_runs,
    "replay": _cmd_replay,
    "mock": _cmd_mock,
    "proxy": _cmd_proxy,
}
