"""Fuzzing every loader: preset TOML, control files, run files for ``replay``, prompt and Batch data.

Each test starts from a valid file and puts arbitrary values — lists, tables, null, huge
integers, inf/nan, deep nesting, long strings, invalid UTF-8 — at arbitrary keys. The only
allowed outcomes are a valid result or the loader's one-line error (``ConfigError`` /
``RunFileError``): never another exception. On the command line the same inputs give exit 2
and one line on stderr (the last tests).

Examples run in CI (derandomized, so every run tries the same inputs): 150 for each of the
five file loaders and 200 for each of the three value-level tests — 1,350 in all: 17 s of CPU,
32 s wall on the shared, loaded 2-core box. ``LOADTUI_FUZZ_EXAMPLES=N`` runs N per test (4/3 N
for the value-level ones); N = 1,500 (about 12,000 examples) ran clean before this was committed.
"""

from __future__ import annotations

import json
import math
import os
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from helpers import REPO, run_cli
from loadtui.errors import ConfigError, RunFileError
from loadtui.model.controls import parse_control
from loadtui.model.durations import MAX_DURATION, parse_duration, parse_range
from loadtui.model.plan import RunConfig
from loadtui.model.record import RunRecord
from loadtui.model.requests import PromptSpec
from loadtui.model.workflows import BatchSpec
from loadtui.storage.data import load_batch_input, load_prompts
from loadtui.storage.presets import load_control_file, load_preset
from loadtui.storage.runfile import (
    load_record,
    load_run,
    run_config,
    run_controls,
    scan_records,
    scan_runs,
)

EXAMPLES = int(os.environ.get("LOADTUI_FUZZ_EXAMPLES", "150"))
MORE = EXAMPLES * 4 // 3

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

HUGE = 10**5000  # more digits than int() converts by default: a ValueError if left uncaught


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


class Special:
    """A value built only when used: hypothesis cannot print a huge int or a 5,000-deep list."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name}>"

    def build(self) -> Any:
        return {
            "huge": HUGE,
            "-huge": -HUGE,
            "deep": _nested(5000),
            "nested": {"a": _nested(50)},
        }[self.name]


def real(value: Any, depth: int = 0) -> Any:
    """``value`` with each Special built (drawn values are shallow: deeper is a built one)."""
    if isinstance(value, Special):
        return value.build()
    if depth > 30:
        return value
    if isinstance(value, dict):
        return {k: real(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [real(v, depth + 1) for v in value]
    return value


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**15, max_value=10**40),
    st.sampled_from([2**63, -1, 0]),
    st.sampled_from(["huge", "-huge"]).map(Special),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.inf, -math.inf, math.nan, 1e308, -0.0]),
    st.text(max_size=30),
    st.sampled_from(["x" * 100_000, "30s", "1e309", "inf", "nan", "-5s", "99999999d", ""]),
)


values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=8,
) | st.sampled_from(["deep", "nested"]).map(Special)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path into ``value`` (tables and list items), the leaves and what holds them."""
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


def _fits(node: Any, key: Any) -> bool:
    if isinstance(node, dict):
        return True
    return isinstance(node, list) and isinstance(key, int) and key < len(node)


def _mutated(base: dict[str, Any], changes: list[tuple[tuple[Any, ...], Any]]) -> dict[str, Any]:
    """A copy of ``base`` with each (path, value) set (a path an earlier change cut is skipped)."""
    data = json.loads(json.dumps(base))
    for path, value in real(changes):
        node: Any = data
        for key in path[:-1]:
            node = (
                node[key] if _fits(node, key) and (isinstance(node, list) or key in node) else None
            )
        if _fits(node, path[-1]):
            node[path[-1]] = value
    return data


def _changes(base: dict[str, Any]) -> st.SearchStrategy[list[tuple[tuple[Any, ...], Any]]]:
    paths = st.sampled_from(_paths(base)) | st.tuples(st.text(min_size=1, max_size=12))
    return st.lists(st.tuples(paths, values), min_size=1, max_size=3)


# -- TOML (presets, control files) -------------------------------------------------------


def _toml_value(value: Any, depth: int = 0) -> str:
    if depth > 100:  # deeper nesting is written as text below (tomllib itself recurses)
        return "1"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return "1" * 5000 if abs(value) == HUGE else str(value)
    if isinstance(value, float):
        return (
            "nan"
            if value != value
            else ("inf" if value > 0 else "-inf")
            if math.isinf(value)
            else repr(value)
        )
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v, depth + 1) for v in value if v is not None) + "]"
    items = (
        f"{json.dumps(str(k))} = {_toml_value(v, depth + 1)}"
        for k, v in value.items()
        if v is not None
    )
    return "{ " + ", ".join(items) + " }"


def _toml(data: dict[str, Any]) -> str:
    """``data`` as TOML (inline tables, so any nesting is one line; TOML has no null: dropped)."""
    return "".join(
        f"{json.dumps(str(k))} = {_toml_value(v)}\n" for k, v in data.items() if v is not None
    )


RAW_TOML = st.sampled_from(
    [
        b"\xff\xfe not utf-8",
        b'description = "caf\xe9"\n',
        b"a = " + b"[" * 5000 + b"]" * 5000,
        b"users = " + b"9" * 5000,
        b"[load]\nduration = []\n",
        b"[load]\nduration = {}\n",
        b"[load]\nusers = 100000000\n",
        b"[load]\nduration = inf\n",
        b"[load]\nduration = 1e309\n",
        b"[[requests]]\nweight = 1000000000\n",
        b"[prompts.synthetic]\ncount = 100000000\n",
        b'[load]\nmode = "burst"\nburst_requests = 100000000\n',
        b"\x00\x00\x00",
        b"",
    ]
)

BASE_PRESET = RunConfig.model_validate(
    {
        **tomllib.loads((REPO / "presets" / "mix.toml").read_text()),
        "load": {
            "mode": "stages",
            "stages": [{"duration": "1s", "users": 2}],
            "think_time": "0.1-0.2s",
        },
        "prompts": {"synthetic": {"count": 5}},
        "batch": {"admin_url": "{base}/admin/keys"},
        "mock": {"faults": {"reset": 0.1}, "headers": {"X-Cache": "HIT"}},
        "overhead": {"direct_url": "http://127.0.0.1:1"},
    }
).model_dump(mode="json")


@FUZZ
@given(changes=_changes(BASE_PRESET), raw=st.none() | RAW_TOML)
def test_fuzzed_presets_load_or_fail_with_one_config_error(tmp_path: Path, changes, raw):
    path = tmp_path / "fuzz.toml"
    path.write_bytes(raw if raw is not None else _toml(_mutated(BASE_PRESET, changes)).encode())
    try:
        assert isinstance(load_preset(str(path)), RunConfig)
    except ConfigError as exc:
        assert str(path) in str(exc) and len(str(exc)) < 2000


BASE_CONTROLS = {
    "control": [
        {"at": "1s", "action": "users", "value": 3},
        {"at": 2, "action": "rate", "value": 2.5},
        {"at": "3s", "action": "think_time", "value": "0.1-0.5s"},
        {"at": "4s", "action": "pause"},
        {"at": "5s", "action": "stop"},
    ]
}


@FUZZ
@given(changes=_changes(BASE_CONTROLS), raw=st.none() | RAW_TOML)
def test_fuzzed_control_files_load_or_fail_with_one_config_error(tmp_path: Path, changes, raw):
    path = tmp_path / "controls.toml"
    path.write_bytes(raw if raw is not None else _toml(_mutated(BASE_CONTROLS, changes)).encode())
    try:
        schedule = load_control_file(str(path))
        assert all(c.source == "control-file" and (c.at or 0) >= 0 for c in schedule)
    except ConfigError as exc:
        assert len(str(exc)) < 2000


@settings(FUZZ, max_examples=MORE)
@given(value=values)
def test_durations_and_ranges_accept_or_raise_value_error(value):
    value = real(value)
    for parse in (parse_duration, parse_range):
        try:
            parse(value)
        except ValueError as exc:
            assert len(str(exc)) < 300


@settings(FUZZ, max_examples=MORE)
@given(
    raw=st.dictionaries(st.sampled_from(["at", "action", "value", "source", "x"]), values) | values
)
def test_control_entries_accept_or_raise_value_error(raw):
    try:
        parse_control(real(raw), source="replay")
    except ValueError as exc:
        assert len(str(exc)) < 300


@settings(FUZZ, max_examples=MORE)
@given(changes=_changes(BASE_PRESET))
def test_configs_as_plain_data_validate_or_raise_a_validation_error(changes):
    """Run files and the app hand RunConfig plain data (null included, which TOML cannot say)."""
    try:
        config = RunConfig.model_validate(_mutated(BASE_PRESET, changes))
    except ValidationError:
        return
    assert 0 < config.load.total_duration <= MAX_DURATION  # a valid config ends, within bounds


# -- run files ---------------------------------------------------------------------------


def _base_run() -> dict[str, Any]:
    return {
        "schema_version": 1,
        "id": "20260101-000000-mix-abcd",
        "status": "interrupted",
        "error": None,
        "started_at": "2026-01-01T00:00:00+00:00",
        "preset": "mix",
        "replay_of": None,
        "config": BASE_PRESET,
        "target": {"url": "http://127.0.0.1:9", "embedded_mock": True, "model": "mock-model"},
        "load_ended_s": 1.5,
        "controls": [{"action": "users", "value": 2, "at": 0.5, "source": "live"}],
        "series": [
            {
                "t": 1,
                "users": 2,
                "rps": 3.0,
                "errors": 0,
                "latency_ms": {"p50": 1.0, "p95": 2.0},
                "ttft_ms": {"p50": None, "p95": None},
            }
        ],
        "summary": {
            "requests": 3,
            "ok": 3,
            "errors_total": 0,
            "rps": 2.0,
            "error_rate": 0.0,
            "duration_s": 1.5,
            "status_codes": {"200": 3},
            "errors": {},
            "metrics": {"latency_ms": {"p95": 2.0, "count": 3}},
        },
        "generator": {"workers": 1, "cpu_percent_max": 5.0, "warnings": []},
        "thresholds": [{"metric": "ttft", "expression": "p(95)<500", "passed": True, "actual": 1}],
    }


BASE_RUN = _base_run()

RAW_JSON = st.sampled_from(
    [
        b"\xff\xfe",
        b"[" * 100_000 + b"]" * 100_000,
        json.dumps(BASE_RUN)
        .replace('"load_ended_s": 1.5', '"load_ended_s": ' + "7" * 5000)
        .encode(),
        json.dumps(BASE_RUN).replace('"load_ended_s": 1.5', '"load_ended_s": NaN').encode(),
        json.dumps(BASE_RUN).replace('"load_ended_s": 1.5', '"load_ended_s": Infinity').encode(),
        json.dumps(BASE_RUN).encode()[:-10],
        b"null",
        b"",
    ]
)


def _json_bytes(data: Any) -> bytes:
    """``data`` as JSON, written as-is where json.dumps cannot: a huge integer as its digits,
    nesting deeper than 200 as 5,000 brackets."""

    def swap(value: Any, depth: int = 0) -> Any:
        if depth > 200:
            return "__DEEP__"
        if isinstance(value, int) and abs(value) == HUGE:
            return "__HUGE__"
        if isinstance(value, dict):
            return {k: swap(v, depth + 1) for k, v in value.items()}
        if isinstance(value, list):
            return [swap(v, depth + 1) for v in value]
        return value

    text = json.dumps(swap(real(data)))
    text = text.replace('"__DEEP__"', "[" * 5000 + "]" * 5000)
    return text.replace('"__HUGE__"', "9" * 5000).encode()


@FUZZ
@given(changes=_changes(BASE_RUN), raw=st.none() | RAW_JSON)
def test_fuzzed_run_files_replay_or_fail_with_one_run_file_error(tmp_path: Path, changes, raw):
    path = tmp_path / "run.json"
    path.write_bytes(raw if raw is not None else _json_bytes(_mutated(BASE_RUN, changes)))
    runs, skipped = scan_runs(tmp_path)  # the listing of the same folder never raises
    assert len(runs) + len(skipped) == 1
    try:
        run = load_run(path)
    except RunFileError as exc:
        assert len(str(exc)) < 2000
        return
    # a file the loader accepts is safe to list and to show: as a record, never an error
    record = load_record(path)
    _draw(record)
    _print(record)
    try:
        run_config(run, path)
        run_controls(run, path)
        assert run_config(record, path) == run_config(run, path)
        assert run_controls(record, path) == run_controls(run, path)
    except RunFileError as exc:
        assert len(str(exc)) < 2000
        with pytest.raises(RunFileError):  # a replay refuses the record just the same
            run_config(record, path)
            run_controls(record, path)
    records, skipped = scan_records(tmp_path)  # and listed, as before the record was typed
    assert len(records) == 1 and not skipped, skipped


def _print(record: RunRecord) -> None:
    """What the console's end-of-run summary and ``loadtui runs`` print of a record."""
    import io

    from rich.console import Console

    from loadtui.headless.console import summary_renderable

    Console(file=io.StringIO(), width=120).print(summary_renderable(record))


def _draw(run: RunRecord) -> None:
    """What the history row, the detail screen's frame and the timeline compute from a run."""
    from loadtui.run.frame import frame_from_record
    from loadtui.tui.format import clock
    from loadtui.tui.screens.history import headless_command, history_row
    from loadtui.tui.widgets.timeline import describe

    assert len(history_row(run)) > 0
    headless_command(run)
    frame = frame_from_record(run)
    for change in frame.controls:
        describe(change)
        clock(change.at or 0.0)


# -- prompt and Batch data ---------------------------------------------------------------

lines = st.lists(
    st.one_of(
        values.map(_json_bytes),
        st.binary(max_size=20),
        st.just(b'{"prompt": "ok"}'),
        st.just(b'{"body": {"messages": [{"role": "user", "content": "hi"}]}}'),
        st.just(b'{"body": [1], "messages": null}'),
    ),
    max_size=5,
)


@FUZZ
@given(rows=lines)
def test_fuzzed_prompt_files_load_or_fail_with_one_config_error(tmp_path: Path, rows):
    path = tmp_path / "prompts.jsonl"
    path.write_bytes(b"\n".join(rows))
    try:
        prompts = load_prompts(PromptSpec(file=str(path)))
        assert prompts and all(isinstance(p, str | list) for p in prompts)
    except ConfigError as exc:
        assert str(path) in str(exc) and len(str(exc)) < 2000


GOOD_BATCH = {
    "custom_id": "a",
    "method": "POST",
    "url": "/v1/chat/completions",
    "body": {"model": "m", "messages": []},
}


@FUZZ
@given(changes=st.lists(_changes(GOOD_BATCH), max_size=3), junk=lines)
def test_fuzzed_batch_files_load_or_fail_with_one_config_error(tmp_path: Path, changes, junk):
    path = tmp_path / "batch.jsonl"
    rows = [
        _json_bytes({**_mutated(GOOD_BATCH, c), "custom_id": f"id{i}"})
        for i, c in enumerate(changes)
    ]
    path.write_bytes(b"\n".join(rows + junk))
    try:
        batch = load_batch_input(BatchSpec(data=str(path)))
        assert len(batch.custom_ids) >= 1
    except ConfigError as exc:
        assert str(path) in str(exc) and len(str(exc)) < 2000


# -- the same on the command line: exit 2, one line --------------------------------------


def _one_line_usage_error(proc) -> None:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


@pytest.mark.integration
@pytest.mark.parametrize(
    "content",
    [
        b"\xff\xfe not utf-8",
        b"a = " + b"[" * 5000 + b"]" * 5000,
        b"[load]\nduration = []\n",
        b"[load]\nusers = 100000000\n",
        b'"bad\\nkey" = 1\n',
    ],
    ids=["invalid-utf8", "deep-nesting", "duration-list", "huge-users", "newline-in-key"],
)
def test_bad_presets_on_the_command_line(private_dirs: Path, content: bytes):
    path = private_dirs / "bad.toml"
    path.write_bytes(content)
    _one_line_usage_error(run_cli("--headless", "--preset", str(path)))


@pytest.mark.integration
def test_bad_control_file_and_run_file_on_the_command_line(private_dirs: Path):
    controls = private_dirs / "c.toml"
    controls.write_text('[[control]]\nat = {}\naction = "users"\nvalue = 1\n')
    _one_line_usage_error(run_cli("--headless", "--control-file", str(controls)))
    run = private_dirs / "r.json"
    run.write_bytes(_json_bytes({**BASE_RUN, "load_ended_s": HUGE}))
    _one_line_usage_error(run_cli("replay", str(run), "--headless"))


@pytest.mark.integration
def test_bad_prompt_and_batch_data_on_the_command_line(private_dirs: Path):
    _one_line_usage_error(run_cli("--headless", "--prompts", "/dev/zero"))
    data = private_dirs / "batch.jsonl"
    data.write_bytes(_json_bytes(GOOD_BATCH) + b"\n" + b'{"custom_id": "\xff"}\n')
    _one_line_usage_error(run_cli("--headless", "--preset", "batch", "--data", str(data)))
