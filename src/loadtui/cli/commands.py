"""What each command does. Heavy imports happen inside the command that needs them."""

from __future__ import annotations

import argparse
import re
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from loadtui.cli.export import check_files, cmd_export, refuse_in_app, run_exports
from loadtui.errors import ConfigError, StartError, UsageError
from loadtui.model.durations import format_duration
from loadtui.run.exitcodes import ExitCode
from loadtui.run.options import (
    Overrides,
    add_thresholds,
    check_controls,
    check_credentials,
    default_api_key,
    resolve,
    resolve_config,
    split_userinfo,
)
from loadtui.runtime import timing
from loadtui.runtime.gcpause import collector_paused

if TYPE_CHECKING:
    from loadtui.headless.runner import Output
    from loadtui.model.plan import RunConfig
    from loadtui.run.metrics_server import MetricsServer
    from loadtui.tui.app import StartNow

__all__ = ["COMMANDS"]


def _report_needs_headless(args: argparse.Namespace) -> None:
    if args.report is not None and not args.headless:
        raise UsageError("--report needs --headless (the app has no report option yet)")


def _cmd_run(args: argparse.Namespace) -> int:
    from loadtui.storage.presets import load_control_file

    _report_needs_headless(args)
    if not args.headless:
        _check_output_needs_headless(args)
        return _cmd_app(args)
    timing.stamp("cli: run command imported")
    _check_metrics_options(args)
    from loadtui.run.target import discard_prespawned, prespawn, prespawn_first_worker

    # The first worker starts now, importing its modules while this process resolves and
    # checks the options (a refusal ends it); the mock and any further workers once the
    # options are good, while this process imports the console and the session
    if args.backend != "ray":  # Ray's actors are no worker processes
        prespawn_first_worker()  # not in a collector's pause: the child would inherit it
    try:  # those no session took end here: a refused option, an error
        with collector_paused():  # the first validation builds the models' validators
            resolved = resolve(Overrides.from_namespace(args))
        timing.stamp("cli: options resolved (preset loaded)")
        config = resolved.config
        exports = run_exports(args)
        check_files(args, exports)
        schedule = load_control_file(args.control_file) if args.control_file else []
        check_controls(config, schedule, args.control_file)
        api_key = default_api_key(config, args.api_key)
        check_credentials(config, api_key, resolved.userinfo)
        prespawn(config)
        with collector_paused():
            from loadtui.headless.runner import RunOptions, run_headless

        timing.stamp("cli: console and session imported")
        with _metrics_server(args) as metrics:
            options = RunOptions(
                api_key=api_key,
                out=args.out,
                record_requests=args.record_requests,
                schedule=schedule,
                live=args.live,
                userinfo=resolved.userinfo,
                target_source=resolved.source,
                report=args.report,
                exports=exports,
                metrics=metrics,
                output=_output(args),
            )
            code, _ = run_headless(config, options)
        return code
    finally:
        discard_prespawned()


@contextmanager
def _metrics_server(args: argparse.Namespace) -> Iterator[MetricsServer | None]:
    """``--metrics-port``'s server, listening before any load is sent (StartError: exit 3);
    it serves until the command ends (the app: until it closes)."""
    _check_metrics_options(args)
    if args.metrics_port is None:
        yield None
        return
    from loadtui.run.metrics_server import MetricsServer

    with MetricsServer(args.metrics_host or "127.0.0.1", args.metrics_port) as server:
        yield server


def _check_metrics_options(args: argparse.Namespace) -> None:
    if args.metrics_port is None and args.metrics_host is not None:
        raise UsageError("--metrics-host needs --metrics-port")


def _output(args: argparse.Namespace) -> Output:
    """``--json`` wins over ``--quiet``: a JSON document is already quiet."""
    return "json" if args.json else "quiet" if args.quiet else "human"


def _refuse_quiet(args: argparse.Namespace) -> None:
    """``--quiet`` is the top-level flag of a headless run or replay; before ``show``,
    ``compare`` or ``runs`` it would be silently ignored, so it is refused in one line."""
    if args.quiet:
        raise UsageError(
            f"--quiet goes with a headless run or replay, not with {args.command} "
            "(--json works with it)"
        )


def _check_output_needs_headless(args: argparse.Namespace) -> None:
    """``--quiet`` and ``--json`` say what stdout gets at a headless run's end; the app has no
    such end, so asking for them there is a mistake worth one line."""
    if args.json or args.quiet:
        flag = "--json" if args.json else "--quiet"
        raise UsageError(f"{flag} needs --headless: the interactive app prints no summary")


def _open_app(
    prefill: Overrides | None = None,
    api_key: str | None = None,
    start: StartNow | None = None,
    metrics: MetricsServer | None = None,
) -> int:
    """Run the Textual app (imported here only, so headless runs never load Textual)."""
    import sys

    if not sys.stdin.isatty():
        raise UsageError("the interactive app needs a terminal; add --headless to run without it")
    if not sys.stderr.isatty():  # Textual draws on stderr
        raise UsageError(
            "the interactive app draws on stderr, which is redirected here; "
            "do not redirect stderr (2>…), or add --headless to run without the app"
        )
    from loadtui.tui.app import LoadtuiApp

    app = LoadtuiApp(prefill=prefill, api_key=api_key, start=start, metrics=metrics)
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

    refuse_in_app(args)
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
        check_files(args)
        schedule = load_control_file(args.control_file) if args.control_file else []
        check_controls(config, schedule, args.control_file)
        start = StartNow(
            config, api_key, schedule, out=args.out, record_requests=args.record_requests
        )
    with _metrics_server(args) as metrics:
        return _open_app(prefill, args.api_key, start, metrics)


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
    if cfg.load.mode == "trace":  # until the trace is answered; the duration only caps it
        return f"≤{format_duration(cfg.load.total_duration)}"
    return format_duration(cfg.load.total_duration)


def _cmd_runs(args: argparse.Namespace) -> int:
    from loadtui.cli.runs import runs_command

    _refuse_quiet(args)
    return runs_command(args)


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
    from loadtui.run.shaping import replay_headers
    from loadtui.storage.runfile import find_run, load_record_checked, run_config, run_controls

    _report_needs_headless(args)
    path = find_run(args.run_file)
    run, written_here = load_record_checked(path)
    config = run_config(run, path)
    exports = run_exports(args) if args.headless else ()
    check_files(args, exports, keep=[path])  # the run replayed is not written over
    schedule = run_controls(run, path)
    url, userinfo = split_userinfo(args.url) if args.url else (None, None)
    if url:
        try:
            config = config.with_overrides(target={"url": url})
        except ValidationError as exc:
            from loadtui.storage.presets import validation_message

            raise ConfigError(validation_message(exc, "invalid option: ")) from None
    _check_trust(config, path, written_here, args, url)
    config = add_thresholds(config, Overrides.from_namespace(args))
    config = replay_headers(config, args.headers or [])  # auth-like values, given again
    api_key = default_api_key(config, args.api_key)
    check_credentials(config, api_key, userinfo)
    if not args.headless:
        refuse_in_app(args)
        _check_output_needs_headless(args)
        if userinfo:
            raise ConfigError("user:password in --url is sent as Basic auth by --headless only")
        from loadtui.tui.app import StartNow

        start = StartNow(config, api_key, schedule, run.id, args.out, args.record_requests)
        with _metrics_server(args) as metrics:
            return _open_app(None, None, start, metrics)
    with _metrics_server(args) as metrics:
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
                report=args.report,
                exports=exports,
                metrics=metrics,
                output=_output(args),
            ),
        )
    return code


def _cmd_report(args: argparse.Namespace) -> int:
    """``loadtui report RUN [RUN...] -o FILE.html``: one HTML page of the runs (several
    overlaid), from their run files."""
    from loadtui.outputs.destination import check_outputs
    from loadtui.outputs.report import write_report
    from loadtui.storage.runfile import find_run, load_record

    paths = [find_run(ref) for ref in args.runs]
    check_outputs([("-o", args.output)], keep=paths)  # never over a run it reads
    runs = [load_record(path) for path in paths]
    write_report(runs, args.output)
    print(f"report saved: {args.output}", flush=True)
    return ExitCode.OK


def _cmd_show(args: argparse.Namespace) -> int:
    """A saved run's summary: shown, never judged (exit 0 whatever its thresholds said)."""
    import sys

    from loadtui.storage.runfile import find_run, load_record_head

    _refuse_quiet(args)
    path = find_run(args.run_file)
    run = load_record_head(path)  # the series is not shown: not read
    if args.json:
        from loadtui.storage.record_out import summary_json

        print(summary_json(run, str(path)))
        return ExitCode.OK
    from loadtui.headless.console import make_console
    from loadtui.headless.show import show_renderable

    make_console(sys.stdout).print(show_renderable(run, path))
    return ExitCode.OK


def _serve_until_signal(serve: Any, host: str, port: int, what: str) -> int:
    """Run ``serve(host, port, on_ready, stop)`` in the foreground until Ctrl-C or SIGTERM."""
    import asyncio  # here only: a run's parent has no event loop (start-up time)

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


def _mock_capacity_given(args: argparse.Namespace) -> dict[str, object]:
    """``loadtui mock``'s capacity options, named as MockSpec's fields (docs/mock.md)."""
    names = ("slots", "prefill_tps", "decode_tps", "shared_decode_tps", "max_queue")
    given = {name: getattr(args, name) for name in names}
    given["queue_full_status"] = args.queue_full_status
    return given


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
        "record": args.record,
        **_mock_capacity_given(args),
    }
    try:  # MockSpec's defaults are the embedded mock's: the same mock either way
        spec = MockSpec(
            faults=dict(args.fault),
            headers=dict(args.header),
            **{k: v for k, v in given.items() if v is not None},
        )
    except ValidationError as exc:  # named as typed: --slots, not the field's slots
        message = validation_message(exc, "invalid option: ")
        for name in given:
            message = re.sub(rf"\b{name}\b", "--" + name.replace("_", "-"), message)
        raise ConfigError(message) from None
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


def _cmd_compare(args: argparse.Namespace) -> int:
    """Print runs compared (a report, not a gate: exit 0 whatever the verdicts)."""
    from rich.console import Console

    from loadtui.render.comparison import comparison_renderable
    from loadtui.run.compare import compare
    from loadtui.storage.comparison_out import comparison_text
    from loadtui.storage.runfile import find_run, load_record

    _refuse_quiet(args)
    if len(args.runs) < 2:
        raise UsageError("compare needs two runs or more: loadtui compare A B [C...]")
    paths = [find_run(ref) for ref in args.runs]
    loaded = {path: load_record(path) for path in dict.fromkeys(paths)}  # each file read once
    runs = [loaded[path] for path in paths]
    comparison = compare(runs)
    if args.json:
        print(comparison_text(comparison))
    else:
        console = Console(highlight=False)
        statuses = tuple(r.status for r in runs)
        console.print(comparison_renderable(comparison, statuses, console.width))
    return ExitCode.OK


COMMANDS = {
    None: _cmd_run,
    "presets": _cmd_presets,
    "runs": _cmd_runs,
    "replay": _cmd_replay,
    "report": _cmd_report,
    "export": cmd_export,
    "show": _cmd_show,
    "compare": _cmd_compare,
    "mock": _cmd_mock,
    "proxy": _cmd_proxy,
}
