"""The argument parser: every option of every command, with one-line errors (exit 2)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from loadtui import __version__
from loadtui.model.durations import format_duration, parse_duration, parse_range
from loadtui.run.exitcodes import ExitCode

__all__ = ["build_parser"]


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.deferred: Callable[[argparse.ArgumentParser], None] | None = None
        """Adds this command's options when it is used (parsed, or its help shown)."""

    def error(self, message: str) -> NoReturn:
        self.exit(ExitCode.USAGE, f"loadtui: error: {message} (see loadtui --help)\n")

    def _fill(self) -> None:
        if self.deferred is not None:
            add, self.deferred = self.deferred, None
            add(self)

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        self._fill()
        return super().parse_known_args(args, namespace)

    def format_help(self) -> str:
        self._fill()
        return super().format_help()

    def format_usage(self) -> str:
        self._fill()
        return super().format_usage()


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
    from loadtui.model.plan import MockSpec

    return format_duration(MockSpec.model_fields[name].default)


def _mock_field(name: str) -> Any:
    from loadtui.model.plan import MockSpec

    return MockSpec.model_fields[name].default


def _faults() -> tuple[str, ...]:
    from loadtui.model.plan import FAULTS

    return FAULTS


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
    _request_control_options(p)
    _recording_options(p)
    _export_options(p)
    _metrics_options(p)
    _server_metrics_options(p)
    _threshold_options(p)
    _slo_options(p)
    _record_requests_options(p)
    _search_options(p)
    _backend_options(p)
    _trace_options(p)


def _trace_options(p: argparse.ArgumentParser) -> None:
    """Trace replay (docs/workflows.md, "Trace replay")."""
    g = p.add_argument_group("trace replay (docs/workflows.md)")
    g.add_argument(
        "--trace",
        metavar="FILE",
        help="replay a trace: JSONL, Mooncake (timestamp, input_length, output_length, "
        "hash_ids) or plain (timestamp, prompt|messages, max_tokens) lines; bundled: "
        "trace-example. Runs until the last arrival is answered (--duration cuts it)",
    )
    g.add_argument(
        "--trace-speedup",
        type=float,
        metavar="F",
        help="replay F times as fast (2 halves the gaps between arrivals)",
    )
    g.add_argument(
        "--trace-block-words",
        type=int,
        metavar="N",
        help="words per hash_ids block of a synthesised prompt (default 512; a word stands "
        "for a token)",
    )


def _backend_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("where the workers run (docs/ray.md)")
    g.add_argument(
        "--backend",
        choices=("process", "ray"),
        help="process: worker processes on this machine (default); ray: Ray actors on a "
        "cluster (pip install 'loadtui[ray]')",
    )
    g.add_argument(
        "--ray-address",
        metavar="ADDR",
        help="with --backend ray: the cluster to join (auto, HOST:6379, ray://HOST:10001; "
        "default: start a local Ray); --workers then means actors (default: the cluster's CPUs)",
    )


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a port is a number 0-65535, got {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is a number 0-65535, got {port}")
    return port


def _metrics_options(p: argparse.ArgumentParser) -> None:
    """``--metrics-port``: Prometheus metrics of the live run (a headless run, a replay, the
    app), served by the parent process (docs/prometheus.md)."""
    g = p.add_argument_group("metrics")
    g.add_argument(
        "--metrics-port",
        type=_port,
        metavar="PORT",
        help="serve the live run's Prometheus metrics at http://HOST:PORT/metrics "
        "(0 = any free port, printed)",
    )
    g.add_argument(
        "--metrics-host",
        metavar="HOST",
        help="address the metrics server listens on (default: 127.0.0.1, this machine only)",
    )


def _server_metrics_options(p: argparse.ArgumentParser) -> None:
    """``--server-metrics``: the server's own Prometheus series beside the client's
    (docs/server-metrics.md)."""
    g = p.add_argument_group("server metrics (docs/server-metrics.md)")
    g.add_argument(
        "--server-metrics",
        metavar="URL",
        help="scrape the server's Prometheus endpoint every second (vLLM, SGLang, TGI, "
        "LiteLLM: running, waiting, KV cache, server TTFT); 'mock' = the embedded mock's",
    )
    g.add_argument(
        "--server-metric",
        action="append",
        metavar="NAME",
        help='another series to keep (repeatable; NAME or NAME{label="value"}): a gauge\'s '
        "value, a counter's rate per second, a histogram's p50/p95 of each second",
    )


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


def _search_options(p: argparse.ArgumentParser) -> None:
    """A capacity search (docs/capacity.md)."""
    g = p.add_argument_group("capacity search")
    g.add_argument(
        "--search",
        choices=("rate", "users"),
        help="find the highest load meeting the SLOs: by arrival rate or by users",
    )
    g.add_argument(
        "--attainment",
        type=float,
        metavar="F",
        help="share of requests that must meet every SLO for a step to pass (default 0.9)",
    )
    g.add_argument("--max-rate", type=float, metavar="R", help="a rate search's ceiling")
    g.add_argument("--max-users", type=int, metavar="N", help="a users search's ceiling")
    g.add_argument(
        "--search-start", type=float, metavar="X", help="the first step's load (default 1)"
    )


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
    _add_run_shape(g)
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
    g.add_argument(
        "--turns",
        metavar="N|MIN-MAX",
        help="multi-turn conversations: each user's conversation has N turns (or MIN-MAX), "
        "each resending the history with the answers received (closed loop)",
    )


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


def _request_control_options(p: argparse.ArgumentParser) -> None:
    """The request under full control: headers, body fields, input length, TLS
    (docs/workflows.md)."""
    g = p.add_argument_group("request control (docs/workflows.md)")
    g.add_argument(
        "--header",
        dest="headers",
        action="append",
        type=_header,
        metavar="'NAME: VALUE'",
        help="a header on every request (repeatable); auth-like values are never written",
    )
    g.add_argument(
        "--body",
        action="append",
        metavar="KEY=JSON",
        help="a field merged into every request body (repeatable), e.g. temperature=0.2",
    )
    g.add_argument(
        "--input-words",
        metavar="N|MIN-MAX",
        help="synthetic prompts of N (or MIN to MAX) words; words stand in for tokens",
    )
    g.add_argument(
        "--insecure",
        action="store_true",
        default=None,
        help="do not check the target's TLS certificate",
    )
    g.add_argument(
        "--ca-cert", metavar="FILE", help="check the target's TLS certificate against this CA"
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


def _slo_options(p: argparse.ArgumentParser) -> None:
    """``--slo`` (repeatable): per-request objectives, goodput and attainment (docs/metrics.md)."""
    p.add_argument_group("SLOs").add_argument(
        "--slo",
        action="append",
        metavar="'NAME<BOUND'",
        help="a per-request SLO (repeatable; replaces the preset's of the same name, and "
        "the last of a name given twice wins): "
        "ttft, itl (worst gap), tpot or latency, < or <=, in ms or s, e.g. 'ttft<500ms'; "
        "the run reports goodput and attainment",
    )


def _threshold_options(p: argparse.ArgumentParser) -> None:
    """``--threshold`` (repeatable) and ``--abort-on-fail``: a run's and a replay's."""
    g = p.add_argument_group("thresholds")
    g.add_argument(
        "--threshold",
        action="append",
        metavar="'METRIC EXPR'",
        help="a k6-style threshold added to the preset's (repeatable), e.g. 'ttft p(95)<500', "
        "'error_rate rate<0.01', 'latency{label:chat} p(99)<800'; a failed one exits 1",
    )
    g.add_argument(
        "--abort-on-fail",
        action="store_true",
        default=None,
        help="stop the run as soon as a --threshold fails (checked once a second), save it, exit 1",
    )
    g.add_argument(
        "--abort-delay",
        type=_duration,
        metavar="DUR",
        help="with --abort-on-fail: start checking this far into the run, e.g. 10s (default: 0)",
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
    _report_file_option(p)
    _output_options(p)
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.add_parser("presets", help="list presets")
    _runs_options(
        sub.add_parser(
            "runs",
            help="list saved runs, newest first; rm, prune them",
            description="Saved runs, newest first (runs saved with --out too); without an "
            "ACTION, list them.",
        )
    )
    replay = sub.add_parser("replay", help="re-run the exact load shape of a run file")
    _replay_options(replay)
    _report_file_option(replay)
    _output_options(replay, argparse.SUPPRESS)
    _report_options(
        sub.add_parser(
            "report",
            help="write an HTML report (charts, tables) of one or more saved runs",
            description="One self-contained HTML file of one or more runs (several: overlaid), "
            "viewable offline (docs/report.md).",
        )
    )
    _export_command_options(
        sub.add_parser(
            "export",
            help="write a saved run as CSV, JUnit XML, summary JSON or an HTML report",
            description="Write a saved run (a path, a run id, or 'last') as files for CI, "
            "spreadsheets and scripts: one format with --format and -o, or several with the "
            "options a headless run takes. Columns and elements: docs/exports.md.",
        )
    )
    _show_options(sub.add_parser("show", help="print the summary of a saved run (or --json)"))
    _compare_options(
        sub.add_parser("compare", help="compare saved runs (the first is the baseline)")
    )
    m = sub.add_parser(
        "mock",
        help="run the mock OpenAI-compatible upstream on its own",
        description="The mock upstream on its own, with the embedded mock's defaults. Its timing "
        "options take a unit (50ms, 0.05s); a bare number is milliseconds.",
    )
    # its help quotes MockSpec's defaults, and MockSpec (pydantic, the plan's models) takes a
    # tenth of a second to import: only ``loadtui mock`` pays it, not --help nor a run
    m.deferred = _mock_options
    _proxy_options(
        sub.add_parser("proxy", help="run the pass-through proxy (for overhead runs) on its own")
    )
    return p


def _runs_keep(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text[:40]!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, got {n}")
    return n


def _runs_age(text: str) -> float:
    """An age such as 30d or 12h (the duration grammar, up to 100 years)."""
    try:
        return parse_duration(text, most=36500 * 86400.0)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an age like 30d, 12h or 90m, got {text!r}"
        ) from None


def _runs_options(p: argparse.ArgumentParser) -> None:
    """``loadtui runs [--json]``, ``runs rm RUN...``, ``runs prune`` (docs/workflows.md)."""
    p.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,  # keeps ``loadtui --json runs`` (the top-level flag)
        help="print the listing as a JSON array",
    )
    sub = p.add_subparsers(dest="runs_action", metavar="ACTION", parser_class=_Parser)
    files_help = (
        "also delete the files of runs saved outside the runs folder (--out); without it they "
        "are only forgotten (no longer listed)"
    )
    rm = sub.add_parser(
        "rm",
        help="remove saved runs (ids, paths or last)",
        description="Remove saved runs: a run in the runs folder is deleted; a run saved with "
        "--out is forgotten (its file kept) unless --files. Only loadtui run files are deleted.",
    )
    rm.add_argument("runs", nargs="+", metavar="RUN", help="a run id, a run file or last")
    rm.add_argument("--files", action="store_true", help=files_help)
    prune = sub.add_parser(
        "prune",
        help="remove all but the newest runs, or runs older than an age",
        description="Remove the runs beyond the newest N (--keep) and/or started more than AGE "
        "ago (--older-than); with both, a run goes only when both say so.",
    )
    prune.add_argument("--keep", type=_runs_keep, metavar="N", help="keep the newest N runs")
    prune.add_argument(
        "--older-than",
        type=_runs_age,
        metavar="AGE",
        help="remove runs started more than AGE ago (e.g. 30d)",
    )
    prune.add_argument("--dry-run", action="store_true", help="print what would go; remove nothing")
    prune.add_argument("--files", action="store_true", help=files_help)


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
    p.add_argument(
        "--header",
        dest="headers",
        action="append",
        type=_header,
        metavar="'NAME: VALUE'",
        help="a header on every request (repeatable): gives again the auth-like values a run "
        "file keeps as ***",
    )
    p.add_argument("--out", type=Path, metavar="FILE", help="where to write the new run file")
    p.add_argument("--live", action=argparse.BooleanOptionalAction, default=None)
    _export_options(p)
    _metrics_options(p)
    _threshold_options(p)
    _record_requests_options(p)


def _export_options(
    p: argparse.ArgumentParser, title: str = "exports (written when a headless run ends)"
) -> None:
    """Files written from the run when it ends (headless), even when a threshold failed."""
    g = p.add_argument_group(title)
    g.add_argument(
        "--csv",
        metavar="PREFIX",
        help="Locust-like CSV: PREFIX_stats.csv, PREFIX_stats_history.csv, PREFIX_failures.csv",
    )
    g.add_argument("--junit", metavar="FILE", help="JUnit XML for CI: one test case per threshold")
    g.add_argument(
        "--summary-json",
        metavar="FILE",
        help="the run's summary as JSON (as show --json prints it; k6's --summary-export)",
    )


def _export_command_options(p: argparse.ArgumentParser) -> None:
    """``loadtui export RUN``: one format to one path, or several with ``_export_options``."""
    p.add_argument("run_file", metavar="RUN", help="a run file (path), a run id, or 'last'")
    p.add_argument(
        "--format",
        metavar="FORMAT",
        help="csv, junit, summary-json or html",
    )
    p.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        help="where to write it: a file, or for csv a prefix of its three files (default: in "
        "the current folder, named for the run: ID_junit.xml, ID_summary.json, ID.html, ID_*.csv)",
    )
    _export_options(p, "several formats at once")
    _export_report_option(p)


def _export_report_option(p: argparse.ArgumentParser) -> None:
    """``export RUN --report FILE.html``: the HTML report with the other formats at once, as a
    headless run takes ``--report`` beside ``--csv``/``--junit``/``--summary-json``."""
    p.add_argument(
        "--report",
        metavar="FILE.html",
        help="the HTML report (as loadtui report and --format html write it)",
    )


def _report_file_option(p: argparse.ArgumentParser) -> None:
    """``--report FILE.html`` on a headless run or replay: the HTML report of the run just
    finished (the same page as ``loadtui report``)."""
    p.add_argument(
        "--report",
        type=Path,
        metavar="FILE.html",
        help="with --headless: also write the run's HTML report to FILE.html (docs/report.md)",
    )


def _report_options(p: argparse.ArgumentParser) -> None:
    """``loadtui report RUN [RUN...] -o report.html``."""
    p.add_argument(
        "runs",
        nargs="+",
        metavar="RUN",
        help="run file paths, run ids, or 'last' (several: compared)",
    )
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        default=Path("report.html"),
        metavar="FILE.html",
        help="where to write the report (default: report.html in the current folder)",
    )


def _output_options(p: argparse.ArgumentParser, default: object = False) -> None:
    """What a headless run or replay prints on stdout: for people (default) or for machines.
    A subcommand's copy takes ``default=argparse.SUPPRESS``, so ``loadtui --quiet replay …``
    keeps the flag given before the command instead of resetting it to False."""
    g = p.add_argument_group("output (with --headless)")
    g.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=default,
        help="print only the verdict line (PASSED/FAILED/INTERRUPTED, with the figures) and the "
        "'run saved: PATH' line; no progress, no notices; warnings still go to stderr",
    )
    g.add_argument(
        "--json",
        action="store_true",
        default=default,
        help="print only the run's summary as one JSON document on stdout (its 'path' is the "
        "run file); with --quiet, --json wins. The exit code is the same as without it",
    )


def _show_options(p: argparse.ArgumentParser) -> None:
    """``loadtui show RUN``: a saved run's end-of-run summary, for people or machines."""
    p.description = (
        "Print a saved run's end-of-run summary (what a headless run prints at its end) with its "
        "configuration. It shows, it does not gate: the exit code is 0 even when the run's "
        "thresholds failed (2 when the run cannot be found or read)."
    )
    p.add_argument("run_file", metavar="RUN", help="a run file (path), a run id, or 'last'")
    p.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,  # keeps ``loadtui --json show RUN`` (the top-level flag)
        help="print the run's summary as one JSON document (the same as --headless --json)",
    )


def _compare_options(p: argparse.ArgumentParser) -> None:
    """``loadtui compare A B [C...]``: each later run against the first."""
    p.description = (
        "Compare saved runs: their configuration side by side, a warning when they are not "
        "alike, and each later run's figures against the first (the baseline) with a verdict "
        "only where the difference is larger than the noise (docs/metrics.md)."
    )
    p.add_argument("runs", nargs="+", metavar="RUN", help="a run file (path), a run id, or last")
    p.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,  # keeps ``loadtui --json compare A B`` (the top-level flag)
        help="print the comparison as JSON",
    )


def _mock_options(p: argparse.ArgumentParser) -> None:
    """``loadtui mock``'s options, added when the command is used."""
    _mock_timing_options(p)
    _mock_behaviour_options(p)
    _mock_capacity_options(p)


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
        help=f"tokens per answer (default: {_mock_field('tokens')})",
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
        + ", ".join(_faults()),
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
        f"{_mock_field('batch_line_errors'):g})",
    )
    p.add_argument(
        "--record",
        type=int,
        metavar="N",
        help="keep the last N requests received, served at GET /mock/received (default: off)",
    )


def _mock_capacity_options(p: argparse.ArgumentParser) -> None:
    """``loadtui mock``: the capacity model (docs/mock.md); unset, every request is served at
    once."""
    g = p.add_argument_group("capacity (a server with finite slots; docs/mock.md)")
    g.add_argument(
        "--slots",
        type=int,
        metavar="N",
        help="sequences served at once; more requests wait in a FIFO queue (default: unlimited)",
    )
    g.add_argument(
        "--prefill-tps",
        type=float,
        metavar="TPS",
        help="prompt tokens per second per slot, added to TTFT (default: no prefill time)",
    )
    g.add_argument(
        "--decode-tps",
        type=float,
        metavar="TPS",
        help="output tokens per second per slot; replaces --itl (default: 1/--itl)",
    )
    g.add_argument(
        "--shared-decode-tps",
        type=float,
        metavar="TPS",
        help="output tokens per second shared by all running streams, like continuous "
        "batching (default: none)",
    )
    g.add_argument(
        "--max-queue",
        type=int,
        metavar="N",
        help="requests waiting beyond this are refused at once (needs --slots; default: no limit)",
    )
    g.add_argument(
        "--queue-full-status",
        type=int,
        metavar="429|503",
        help="status of a refusal when the queue is full (default: 429)",
    )


def _proxy_options(p: argparse.ArgumentParser) -> None:
    """``loadtui proxy``: the upstream it forwards to and where it listens."""
    p.add_argument("--upstream", required=True, metavar="URL", help="where to forward requests")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=9998)


def _add_run_shape(g: argparse._ArgumentGroup) -> None:
    """``--warmup`` and ``--requests`` (docs/workflows.md, "Warm-up and a request budget")."""
    g.add_argument(
        "--warmup",
        type=_duration,
        metavar="DUR",
        help="leave the first DUR out of the summary and thresholds (kept, marked, in the series)",
    )
    g.add_argument(
        "--requests",
        type=int,
        metavar="N",
        help="stop after N requests across all workers (without --duration: run until done)",
    )
