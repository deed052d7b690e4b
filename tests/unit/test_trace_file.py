"""Trace files and trace options, checked before any load: every bad line one error naming it,
the bundled trace's shape, the options that make (or unmake) a trace run, the schedule's
intended arrivals per second with a pause."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from loadtui.engine.coordinator import Coordinator
from loadtui.engine.inprocess import InProcessPool
from loadtui.engine.trace import TraceSchedule, synthesise
from loadtui.errors import ConfigError
from loadtui.model.controls import ControlChange
from loadtui.model.plan import RunConfig
from loadtui.model.trace import TraceEntry, TraceSpec
from loadtui.run.options import Overrides, absolute_files, check_controls, resolve
from loadtui.storage import trace_file
from loadtui.storage.trace_file import load_trace


def _load(tmp_path: Path, *rows: Any) -> tuple[TraceEntry, ...]:
    path = tmp_path / "t.jsonl"
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return load_trace(TraceSpec(file=str(path)))


GOOD = {"timestamp": 0, "input_length": 10, "output_length": 2, "hash_ids": [1]}


@pytest.mark.parametrize(
    ("row", "says"),
    [
        ("[1, 2]", "expected a JSON object"),
        ('{"timestamp": 5', "not valid JSON"),
        ({"input_length": 3, "output_length": 2}, "timestamp must be a number"),
        ({"timestamp": -1, "prompt": "x"}, "timestamp must be a number"),
        ({"timestamp": 9, "input_length": 0, "output_length": 2}, "input_length must be"),
        ({"timestamp": 9, "input_length": 2_000_000, "output_length": 2}, "input_length must"),
        ({"timestamp": 9, "input_length": 5, "output_length": 1.5}, "output_length must be"),
        ({"timestamp": 9, "input_length": 5, "output_length": 2, "hash_ids": [-1]}, "hash_ids"),
        ({"timestamp": 9, "input_length": 5, "output_length": 2, "hash_ids": "1"}, "hash_ids"),
        ({"timestamp": 9, "prompt": ""}, "prompt string or messages list"),
        ({"timestamp": 9, "messages": []}, "prompt string or messages list"),
        ({"timestamp": 9, "prompt": "x", "max_tokens": 0}, "max_tokens must be"),
        ({"timestamp": 2, "prompt": "x"}, "goes back in time"),
    ],
)
def test_a_bad_line_is_named(tmp_path: Path, row: Any, says: str) -> None:
    with pytest.raises(ConfigError, match=r"t\.jsonl:3: ") as caught:
        _load(tmp_path, GOOD, {**GOOD, "timestamp": 3}, row)
    assert says in str(caught.value)


def test_limits_keep_a_huge_trace_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(trace_file, "MAX_TRACE_LINES", 2)
    with pytest.raises(ConfigError, match=r":3: a trace holds at most 2 lines"):
        _load(tmp_path, GOOD, GOOD, GOOD)
    with pytest.raises(ConfigError, match="no lines"):
        _load(tmp_path, "")


def test_times_count_from_the_first_line_and_both_formats_mix(tmp_path: Path) -> None:
    epoch = 1_700_000_000_000
    lines = _load(
        tmp_path,
        {**GOOD, "timestamp": epoch},
        {"timestamp": epoch + 250, "messages": [{"role": "user", "content": "hi"}]},
        {"timestamp": epoch + 1000, "prompt": "x", "max_tokens": 7},
    )
    assert [e.at for e in lines] == [0.0, 0.25, 1.0]
    assert lines[0] == TraceEntry(0.0, 2, 10, (1,))
    assert lines[1].prompt == [{"role": "user", "content": "hi"}] and lines[1].max_tokens == 0
    assert lines[2].max_tokens == 7


def test_the_bundled_trace_has_shared_prefixes() -> None:
    lines = load_trace(TraceSpec(file="trace-example"))
    assert len(lines) == 300 and 20 < lines[-1].at < 30  # ~26 s at speed-up 1
    firsts = [e.hash_ids[0] for e in lines]
    assert max(firsts.count(h) for h in set(firsts)) > 30  # a common prefix block, many times
    for e in lines[:50]:  # Mooncake's rule: as many 512-word blocks as the length needs
        assert len(e.hash_ids) == -(-e.input_length // 512)
        assert len(synthesise(e, 512, 0).split()) == e.input_length


def test_trace_options(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps(GOOD) + "\n")
    config = resolve(Overrides(trace=str(path), trace_speedup=3)).config  # smoke's mix
    assert config.load.mode == "trace" and config.trace is not None
    assert config.trace.speedup == 3 and config.trace.file == str(path)
    assert [r.kind for r in config.requests] == ["chat"]  # smoke's chat, not health or models
    assert config.load.duration > 86400  # a cap only: the trace's end ends the run
    capped = resolve(Overrides(trace=str(path), duration=20)).config
    assert capped.load.duration == 20
    assert resolve(Overrides(preset="trace", users=3)).config.trace is None  # a users run now
    with pytest.raises(ConfigError, match="--trace sets when requests arrive"):
        resolve(Overrides(trace=str(path), rate=5))
    with pytest.raises(ConfigError, match="go with --trace"):
        resolve(Overrides(trace_speedup=2))
    with pytest.raises(ConfigError, match="greater than 0"):
        resolve(Overrides(trace=str(path), trace_speedup=0))
    with pytest.raises(ConfigError, match="speed it up with --trace-speedup"):
        resolve(Overrides(preset="trace", time_scale=0.5))
    with pytest.raises(ConfigError, match="capacity search sets its own load"):
        resolve(Overrides(trace=str(path), search="rate"))


def test_a_rate_change_is_refused_in_a_trace_run(tmp_path: Path) -> None:
    config = RunConfig.model_validate(
        {"load": {"mode": "trace"}, "trace": {"file": "trace-example"}, "workers": 1}
    )
    with pytest.raises(ConfigError, match="'rate' change cannot apply: a trace run's arrivals"):
        Coordinator(config, "http://127.0.0.1:9", pool=InProcessPool(), trace=()).apply(
            ControlChange("rate", 5.0)
        )
    with pytest.raises(ConfigError, match="arrivals follow the trace"):
        check_controls(config, [ControlChange("rate", 5.0, 1.0)], "plan.toml")
    with pytest.raises(ValueError, match="needs both load mode 'trace' and a \\[trace\\]"):
        RunConfig.model_validate({"load": {"mode": "trace"}})


def test_the_schedule_counts_intended_arrivals_per_second_and_holds_in_a_pause() -> None:
    lines = tuple(TraceEntry(at, 1) for at in (0.1, 0.5, 1.2, 2.4, 2.6, 3.9))
    schedule = TraceSchedule(lines, speedup=2.0)  # at 0.05, 0.25, 0.6, 1.2, 1.3, 1.95 s
    assert [schedule.intended(s) for s in range(3)] == [3, 3, 0]
    schedule.pause(0.7)  # paused at the trace's 0.7 s
    assert [schedule.intended(s) for s in range(3)] == [3, 0, 0]  # the rest is not due yet
    schedule.resume(1.7)  # held 1 s: what came after the pause moves 1 s later
    assert [schedule.intended(s) for s in range(4)] == [3, 0, 3, 0]
    assert schedule.end(2.0) == pytest.approx(2.95)
    schedule.pause(2.5)  # at the trace's 1.5 s: 1.95 s (run 2.95) waits
    assert schedule.end(2.8) == pytest.approx(3.25)  # a pause going on moves the end too
    schedule.resume(3.0)
    assert [schedule.intended(s) for s in range(5)] == [3, 0, 2, 1, 0]
    assert schedule.rates(5, 10.0) == (round(6 / 3.45, 3), round(5 / 3.45, 3))  # over 3.45 s
    # cut short at 0.5 s: over at least 1 s, and only the lines due by 0.5 s were intended
    assert schedule.rates(2, 0.5) == (2.0, 2.0)
    assert schedule.rates(5, 3.3) == (round(5 / 3.3, 3), round(5 / 3.3, 3))  # not 1.95 s's


def test_trace_settings_that_cannot_apply_are_refused_in_one_line(tmp_path: Path) -> None:
    """--think-time with a trace (the rule a think_time control meets); a conversation with a
    trace, worded for a trace; a preset with no request a trace can be sent as."""
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps(GOOD) + "\n")
    with pytest.raises(ConfigError, match=r"^--think-time cannot apply: a trace run's arrivals"):
        resolve(Overrides(trace=str(path), think_time=(1.0, 1.0)))
    with pytest.raises(ConfigError, match="this run is a trace replay: use --users"):
        resolve(Overrides(preset="trace", turns="2"))
    with pytest.raises(ConfigError, match="a trace replays chat, completion, messages or "
                       "responses requests; this preset sends embedding"):  # fmt: skip
        resolve(Overrides(preset="embeddings", trace=str(path)))


def test_a_trace_keeps_the_presets_request(tmp_path: Path) -> None:
    """The responses preset replays a trace as its own streamed Responses request, body and
    headers included — not a bare default chat."""
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps(GOOD) + "\n")
    preset = tmp_path / "mine.toml"
    preset.write_text(
        '[load]\nmode = "closed"\nusers = 2\n'
        '[[requests]]\nkind = "embedding"\n'
        '[[requests]]\nkind = "responses"\nstream = false\nmax_tokens = 9\n'
        '[requests.body]\ntemperature = 0.5\n[requests.headers]\nX-Tenant = "a"\n'
    )
    (req,) = resolve(Overrides(preset=str(preset), trace=str(path))).config.requests
    assert (req.kind, req.stream, req.max_tokens) == ("responses", False, 9)
    assert req.body == {"temperature": 0.5} and req.headers == {"X-Tenant": "a"}


def test_data_files_are_saved_as_absolute_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A trace (or conversations, or prompts) named by a relative path is stored absolute, so
    its run file replays from another directory; a bundled file's name stays a name."""
    (tmp_path / "my.jsonl").write_text(json.dumps(GOOD) + "\n")
    monkeypatch.chdir(tmp_path)
    config = resolve(Overrides(trace="my.jsonl")).config
    assert config.trace is not None and config.trace.file == str(tmp_path / "my.jsonl")
    bundled = resolve(Overrides(preset="trace")).config
    assert bundled.trace is not None and bundled.trace.file == "trace-example"
    talk = resolve(Overrides(preset="multiturn")).config.with_overrides(
        conversation={"file": "talks.jsonl"}, prompts={"file": "p.jsonl"}
    )
    moved = absolute_files(talk)
    assert moved.conversation is not None
    assert moved.conversation.file == str(tmp_path / "talks.jsonl")
    assert moved.prompts.file == str(tmp_path / "p.jsonl")
