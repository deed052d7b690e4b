"""Trace replay over loopback: arrivals at the trace's times (and the speed-up), prompts made of
hash_id blocks, max_tokens from the trace, late arrivals counted, a pause holding the clock.

What the mock received (``MockSpec(record=…)``: each request's arrival on the mock's clock and
its body) is the truth; the trace's lines name themselves in their prompts or max_tokens.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from helpers import drive
from loadtui.engine.coordinator import Coordinator
from loadtui.engine.inprocess import InProcessPool
from loadtui.engine.trace import line_tokens
from loadtui.mock import MockProcess
from loadtui.model.controls import ControlChange
from loadtui.model.plan import MockSpec, RunConfig
from loadtui.model.shaping import OutputLength
from loadtui.storage.trace_file import load_trace

pytestmark = pytest.mark.integration  # every test here starts processes

GAPS_MS = [40, 90, 20, 60, 120, 30, 80, 50, 70, 40, 100, 60]
"""Uneven gaps, so an arrival at a rate would not match them."""


@pytest.fixture(scope="module")
def recorder() -> Iterator[MockProcess]:
    with MockProcess(MockSpec(record=1000, ttft=0.01, itl=0.002, tokens=3)) as mock:
        yield mock


@pytest.fixture()
def upstream(recorder: MockProcess) -> MockProcess:
    httpx.post(recorder.url + "/mock/reset", timeout=5.0)
    return recorder


def _write(path: Path, rows: list[dict[str, Any]]) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def _replay(
    file: str,
    url: str,
    workers: int = 2,
    load: dict[str, Any] | None = None,
    schedule: list[ControlChange] | None = None,
    requests: list[dict[str, Any]] | None = None,
    **trace: Any,
) -> Coordinator:
    config = RunConfig.model_validate(
        {
            "load": {"mode": "trace", "duration": 60, **(load or {})},
            "trace": {"file": file, **trace},
            "workers": workers,
            "requests": requests or [{"kind": "chat"}],
        }
    )
    assert config.trace is not None
    lines = load_trace(config.trace)
    return drive(config, url, schedule, pool=InProcessPool(), trace=lines)


def _plain(tmp_path: Path) -> str:
    t, rows = 1000, []  # a trace need not start at 0: times count from its first line
    for k, gap in enumerate([0, *GAPS_MS]):
        t += gap
        rows.append({"timestamp": t, "prompt": f"line {k}", "max_tokens": 2})
    return _write(tmp_path / "plain.jsonl", rows)


def _gap_errors(received: list[dict[str, Any]], speedup: float) -> list[float]:
    """|observed − intended| of each gap between consecutive lines, in ms."""
    by_line = {int(r["body"]["messages"][-1]["content"].split()[1]): r["t"] for r in received}
    assert sorted(by_line) == list(range(len(GAPS_MS) + 1))  # every line, once
    return [
        abs((by_line[k + 1] - by_line[k]) * 1000.0 - gap / speedup) for k, gap in enumerate(GAPS_MS)
    ]


@pytest.mark.parametrize("speedup", [1.0, 2.0])
def test_arrivals_follow_the_trace_times_and_the_speedup(
    upstream: MockProcess, tmp_path: Path, speedup: float
) -> None:
    """Two workers share the lines (i mod 2); the gaps the mock saw match the file's, divided by
    the speed-up, at p50 within 5 ms; the run ends once the last line is answered."""
    coord = _replay(_plain(tmp_path), upstream.url, speedup=speedup)
    errors = _gap_errors(upstream.received(), speedup)
    assert statistics.median(errors) < 5.0, errors
    assert coord.totals.requests == len(GAPS_MS) + 1
    assert coord.elapsed < 20  # not the 60 s cap: the trace's end ended it
    # intended vs achieved: every line intended once in the series, and sent once
    assert sum(p.target_rate or 0 for p in coord.series.points) == len(GAPS_MS) + 1
    assert sum(p.arrivals for p in coord.series.points) == len(GAPS_MS) + 1


def test_hash_id_blocks_make_the_prompt_and_output_length_the_max_tokens(
    upstream: MockProcess, tmp_path: Path
) -> None:
    """Equal hash_ids give equal text, different ones different text, the last block cut to
    what is left of input_length; max_tokens is output_length."""
    rows = [
        {"timestamp": 0, "input_length": 40, "output_length": 5, "hash_ids": [7, 8, 9]},
        {"timestamp": 10, "input_length": 36, "output_length": 6, "hash_ids": [7, 8, 10]},
        {"timestamp": 20, "input_length": 20, "output_length": 7, "hash_ids": [11, 9]},
        {"timestamp": 30, "input_length": 30, "output_length": 8, "hash_ids": [7]},
    ]
    _replay(_write(tmp_path / "mc.jsonl", rows), upstream.url, block_words=16)
    got = {
        r["body"]["max_tokens"]: r["body"]["messages"][-1]["content"].split()
        for r in upstream.received()
    }
    assert sorted(got) == [5, 6, 7, 8]  # output_length → max_tokens
    a, b, c, d = got[5], got[6], got[7], got[8]
    assert [len(a), len(b), len(c), len(d)] == [40, 36, 20, 30]
    assert a[:32] == b[:32]  # blocks 7 and 8 shared: the same prefix on the wire
    assert a[32:] != b[32:36]  # blocks 9 and 10 differ
    assert a[32:36] == c[16:20]  # block 9, cut to 4 words in c, is the start of a's block 9
    assert c[:16] != a[:16]  # block 11 is not block 7
    assert d[:16] == a[:16] and d[16:] != a[16:30]  # one block, then words of its own


def test_arrivals_not_sent_on_time_are_counted_late(upstream: MockProcess, tmp_path: Path) -> None:
    """Twenty lines at one instant under one request in flight: each waits for those before it
    (≥ 10 ms each, the mock's TTFT), so lines 11 to 19 wait past LATE_MS (100 ms) at least and
    are counted late — in the summary and in the series alike."""
    rows = [{"timestamp": 0, "prompt": f"line {k}", "max_tokens": 1} for k in range(20)]
    path = _write(tmp_path / "same.jsonl", rows)
    coord = _replay(path, upstream.url, workers=1, load={"max_in_flight": 1})
    late = coord.totals.counters["late"]
    assert late >= 9
    assert sum(p.late for p in coord.series.points) == late
    assert coord.result().summary.late == late


def test_a_pause_holds_the_trace_clock(upstream: MockProcess, tmp_path: Path) -> None:
    """Paused 0.6 s between two lines 0.5 s apart: the second arrives ~1.1 s after the first."""
    rows = [{"timestamp": 0, "prompt": "line 0"}, {"timestamp": 500, "prompt": "line 1"}]
    path = _write(tmp_path / "two.jsonl", rows)
    schedule = [ControlChange("pause", None, 0.2), ControlChange("resume", None, 0.8)]
    _replay(path, upstream.url, workers=1, schedule=schedule)
    first, second = (r["t"] for r in upstream.received())
    assert second - first > 1.0  # 0.5 s of trace + 0.6 s held (less a tick either way)


def test_stop_and_the_duration_cut_a_replay_short(upstream: MockProcess, tmp_path: Path) -> None:
    """A 3 s trace stopped at 0.4 s, and one capped by a 0.4 s duration: the lines after that
    are never sent, and neither run waits for the trace's end."""
    rows = [{"timestamp": 100 * k, "prompt": f"line {k}", "max_tokens": 1} for k in range(31)]
    path = _write(tmp_path / "long.jsonl", rows)
    stop = [ControlChange("stop", None, 0.4)]
    for coord in (
        _replay(path, upstream.url, workers=1, schedule=stop),
        _replay(path, upstream.url, workers=1, load={"duration": 0.4}),
    ):
        assert coord.elapsed < 2.5
        assert 0 < coord.totals.requests < 20


def _line_of(r: dict[str, Any]) -> int:
    body = r["body"]
    text = body["input"] if "input" in body else body["messages"][-1]["content"]
    return int(text.split()[1])


def test_a_request_budget_sends_the_traces_first_n_lines(
    upstream: MockProcess, tmp_path: Path
) -> None:
    """--requests 5 on a 3 s trace over two workers: exactly lines 0 to 4 are sent, the
    run ends once they are answered (not at the trace's end), and those five are what the
    run intended: in the series and in the mean rates (over at least 1 s)."""
    rows = [{"timestamp": 100 * k, "prompt": f"line {k}", "max_tokens": 1} for k in range(31)]
    coord = _replay(_write(tmp_path / "long.jsonl", rows), upstream.url, load={"requests": 5})
    assert sorted(_line_of(r) for r in upstream.received()) == [0, 1, 2, 3, 4]
    assert coord.budget_answered and coord.totals.requests == 5
    assert coord.elapsed < 2.5
    assert sum(p.target_rate or 0 for p in coord.series.points) == 5
    generator = coord.result().generator
    assert (generator.target_rate_mean, generator.achieved_rate) == (5.0, 5.0)


def test_a_warmup_is_counted_in_the_traces_end(upstream: MockProcess, tmp_path: Path) -> None:
    """Lines sent in the warm-up count apart; the replay still ends when its last line is
    answered, not at the request timeout past it."""
    rows = [{"timestamp": 50 * k, "prompt": f"line {k}", "max_tokens": 1} for k in range(12)]
    path = _write(tmp_path / "warm.jsonl", rows)
    coord = _replay(path, upstream.url, load={"warmup": 0.3})
    assert len(upstream.received()) == 12
    assert coord.warm.counters["arrivals"] > 0 and coord.totals.counters["arrivals"] > 0
    assert coord.elapsed < 10  # not the 60 s request timeout + 1 s


def test_a_trace_replays_as_responses_with_a_drawn_output_length_per_line(
    upstream: MockProcess, tmp_path: Path
) -> None:
    """A Responses request replays the trace: each line's prompt as ``input`` on
    /v1/responses, streamed; a max_tokens distribution is drawn per line (plain lines without
    max_tokens), seeded by the line, so a replay sends the same lengths."""
    rows = [{"timestamp": 20 * k, "prompt": f"line {k}"} for k in range(10)]
    length = {"distribution": "uniform", "min": 1, "max": 1000, "seed": 3}
    requests = [{"kind": "responses", "stream": True, "max_tokens": length}]
    coord = _replay(_write(tmp_path / "r.jsonl", rows), upstream.url, requests=requests)
    received = upstream.received()
    assert {r["path"] for r in received} == {"/v1/responses"}
    drawn = {_line_of(r): r["body"]["max_output_tokens"] for r in received}
    dist = OutputLength.model_validate(length)
    assert drawn == {k: line_tokens(dist, k) for k in range(10)}
    assert len(set(drawn.values())) > 5  # not one draw for every line
    assert all(r["body"]["stream"] is True for r in received)
    assert coord.totals.requests == 10 and coord.totals.counters["ok"] == 10
