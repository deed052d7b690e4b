"""The argument parser: every option of every command, with one-line errors (exit 2)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import NoReturn

from loadtui import __version__
from loadtui.model.durations import format_duration, parse_duration, parse_range
from loadtui.model.plan import FAULTS, MockSpec
from loadtui.run.exitcodes import ExitCode

__all__ = ["build_parser"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(ExitCode.USAGE, f"loadtui: error: {message} (see loadtui --help)\n")


def _duration(text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _mock_ms(text: str) -> float:
    """A mock timing option in seconds: ``50ms``, ``0.05s``, or a bare number of milliseconds
    (mock timings are TTFT and ITL figures, which are quoted in ms)."""
    try:
        return float(text) / 1000.0
    except ValueError:
        return _duration(text)


def _mock_default(name: str) -> str:
    """A MockSpec default for ``--help``: one source for the embedded and the standalone mock."""
    return format_duration(MockSpec.model_fields[name].default)


def _range(text: str) -> tuple[float, float]:
    try:
        return parse_range(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _fault(text: str) -> tuple[str, float]:
    kind, _, rate = text.partition(":")
    try:
        return kind, float(rate) if rate else 1.0
    except ValueError:
        raise argparse.ArgumentTypeError(f"fault rate must be a number, got {rate!r}") from None


def _header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"a header is NAME:VALUE, got {text!r}")
    return name.strip(), value.strip()


def _run_options(p: argparse.ArgumentParser) -> None:
    """The options of a run (the app's and a headless one), in their ``--help`` groups."""
    _target_options(p)
    _load_options(p)
    _request_options(p)
    _recording_options(p)
    _record_requests_options(p)


def _target_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("target")
    g.add_argument(
        "--url",
        metavar="URL",
        help="base URL of an OpenAI-compatible or Anthropic API; may hold {key}, or user:password@ "
        "(sent as Basic auth, never written) (default: the preset's url, else $ANTHROPIC_BASE_URL "
        "for messages or $OPENAI_BASE_URL, else the embedded mock)",
    )
    g.add_argument(
        "--mock",
        action="store_true",
        default=None,
        help="run against the embedded mock, whatever the preset or the environment name",
    )
    g.add_argument(
        "--api-key",
        metavar="KEY",
        help="API key (default: $ANTHROPIC_API_KEY for messages, else $OPENAI_API_KEY); "
        "never written to disk",
    )
    g.add_argument("--model", metavar="NAME", help="model name sent in each request")


def _load_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("load")
    g.add_argument("--users", type=int, metavar="N", help="virtual users (closed loop)")
    g.add_argument(
        "--spawn-rate", type=float, metavar="R", help="users started per second (0 = all at once)"
    )
    g.add_argument(
        "--rate", type=float, metavar="R", help="arrivals per second (switches to open loop)"
    )
    g.add_argument("--arrival", choices=("constant", "poisson"), help="open-loop arrival spacing")
    g.add_argument(
        "--max-in-flight", type=int, metavar="N", help="open-loop cap on requests in flight"
    )
    g.add_argument(
        "--duration",
        type=_duration,
        metavar="DUR",
        help="run length, e.g. 30s or 5m (stages are fitted to it)",
    )
    g.add_argument(
        "--time-scale",
        type=float,
        metavar="F",
        help="speed up the shape's clock: durations and think time × F, spawn rate ÷ F (e.g. 0.1)",
    )
    g.add_argument(
        "--think-time",
        type=_range,
        metavar="RANGE",
        help="pause between a user's requests, e.g. 0.5-2s (0 = none)",
    )
    g.add_argument("--workers", type=int, metavar="N", help="worker processes (default: automatic)")


def _request_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("requests")
    g.add_argument(
        "--stream",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="stream chat, completion and messages answers (SSE)",
    )
    g.add_argument("--max-tokens", type=int, metavar="N", help="max_tokens in each request")
    g.add_argument(
        "--prompt", metavar="TEXT", help="one fixed prompt for every request (replaces prompt data)"
    )
    g.add_argument(
        "--prompts",
        metavar="FILE",
        help='prompt data: JSONL of {"prompt": ...} lines or Batch API lines',
    )
    g.add_argument(
        "--data",
        metavar="FILE",
        help="Batch API input JSONL for batch requests (bundled: batch-3, batch-10, batch-50)",
    )
    g.add_argument(
        "--direct-url",
        metavar="URL",
        help="overhead mode: the upstream behind --url (the proxy); each request goes both ways",
    )


def _recording_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("run")
    g.add_argument(
        "--control-file",
        metavar="FILE",
        help="TOML file of timed control changes ([[control]] at/action/value)",
    )
    g.add_argument(
        "--out",
        type=Path,
        metavar="FILE",
        help="where to write the run file (default: the data dir)",
    )
    g.add_argument(
        "--live",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="redraw progress in place (default: when stdout is a terminal)",
    )


def _record_requests_options(p: argparse.ArgumentParser) -> None:
    """``--record-requests``: a per-run output, like --out (never saved in a preset)."""
    p.add_argument(
        "--record-requests",
        type=Path,
        metavar="FILE",
        help="write one JSON line per request to FILE (.jsonl; fields in docs/run-format.md)",
    )


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="loadtui",
        description="Load tester for LLM APIs and gateways. Without a command: the interactive app "
        "(or a headless run with --headless).",
    )
    p.add_argument("--version", action="version", version=f"loadtui {__version__}")
    p.add_argument("--headless", action="store_true", help="run without the interactive app")
    p.add_argument(
        "--start",
        action="store_true",
        help="in the app: start the run at once instead of showing the setup form",
    )
    p.add_argument(
        "--preset", metavar="NAME", default=None, help="preset name or .toml path (default: smoke)"
    )
    _run_options(p)
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.add_parser("presets", help="list presets")
    sub.add_parser("runs", help="list saved runs, newest first")
    _replay_options(sub.add_parser("replay", help="re-run the exact load shape of a run file"))
    m = sub.add_parser(
        "mock",
        help="run the mock OpenAI-compatible upstream on its own",
        description="The mock upstream on its own, with the embedded mock's defaults. Its timing "
        "options take a unit (50ms, 0.05s); a bare number is milliseconds.",
    )
    _mock_timing_options(m)
    _mock_behaviour_options(m)
    _proxy_options(
        sub.add_parser("proxy", help="run the pass-through proxy (for overhead runs) on its own")
    )
    return p


def _replay_options(p: argparse.ArgumentParser) -> None:
    """``loadtui replay RUN``: where the replay goes, with which key, where it is saved."""
    p.add_argument("run_file", help="a run file (path) or a run id")
    p.add_argument("--headless", action="store_true", help="run without the interactive app")
    p.add_argument(
        "--url", metavar="URL", help="send the replay to this URL instead of the recorded target"
    )
    p.add_argument(
        "--trust-target",
        action="store_true",
        help="replay a run file from elsewhere against the hosts it names (your API key goes there)",
    )
    p.add_argument(
        "--api-key", metavar="KEY", help="API key (default: $ANTHROPIC_API_KEY or $OPENAI_API_KEY)"
    )
    p.add_argument("--out", type=Path, metavar="FILE", help="where to write the new run file")
    p.add_argument("--live", action=argparse.BooleanOptionalAction, default=None)
    _record_requests_options(p)


def _mock_timing_options(p: argparse.ArgumentParser) -> None:
    """``loadtui mock``: where it listens and how fast it answers (defaults: MockSpec's)."""
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=9999, help="port to listen on (default: 9999)")
    p.add_argument(
        "--latency",
        type=_mock_ms,
        metavar="MS",
        help=f"delay before a non-streaming answer (default: {_mock_default('latency')})",
    )
    p.add_argument(
        "--ttft",
        type=_mock_ms,
        metavar="MS",
        help=f"delay to the first streamed token (default: {_mock_default('ttft')})",
    )
    p.add_argument(
        "--itl",
        type=_mock_ms,
        metavar="MS",
        help=f"delay between streamed tokens (default: {_mock_default('itl')})",
    )
    p.add_argument(
        "--tokens",
        type=int,
        metavar="N",
        help=f"tokens per answer (default: {MockSpec.model_fields['tokens'].default})",
    )


def _mock_behaviour_options(p: argparse.ArgumentParser) -> None:
    """``loadtui mock``: faults, extra headers and how Batch jobs go."""
    p.add_argument(
        "--fault",
        action="append",
        type=_fault,
        default=[],
        metavar="KIND[:RATE]",
        help="inject a fault into chat, completion and messages requests (repeatable): "
        + ", ".join(FAULTS),
    )
    p.add_argument(
        "--header",
        action="append",
        type=_header,
        default=[],
        metavar="NAME:VALUE",
        help="add a response header to every answer (repeatable), e.g. X-Cache:HIT",
    )
    p.add_argument(
        "--batch-phase",
        type=_mock_ms,
        metavar="MS",
        help="time a batch spends in validating, in_progress and finalizing each "
        f"(default: {_mock_default('batch_phase')})",
    )
    p.add_argument(
        "--batch-line-errors",
        type=float,
        metavar="RATE",
        help="share of batch lines that fail, they go to the error file (default: "
        f"{MockSpec.model_fields['batch_line_errors'].default:g})",
    )


def _proxy_options(p: argparse.ArgumentParser) -> None:
    """``loadtui proxy``: the upstream it forwards to and where it listens."""
    p.add_argument("--upstream", required=True, metavar="URL", help="where to forward requests")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=9998)
