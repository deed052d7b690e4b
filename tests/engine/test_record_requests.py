"""``--record-requests``: one JSON line per request, written by the workers, joined at the end.

Runs go to our mock over loopback. The first test uses worker processes (each writes its own
part, the parent joins them); the fault test runs threads, the signal test the real CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from helpers import drive
from loadtui.engine.inprocess import InProcessPool
from loadtui.engine.requestlog import FIELDS, RequestLog, join_parts, part_path
from loadtui.mock import MockProcess
from loadtui.model.outcomes import Outcome
from loadtui.model.plan import MockSpec, RunConfig

pytestmark = pytest.mark.integration  # every test here starts processes


def _lines(path: Path) -> list[dict[str, Any]]:
    text = path.read_text()
    assert text.endswith("\n")
    rows = [json.loads(line) for line in text.splitlines()]
    for row in rows:
        assert tuple(row) == FIELDS
    return rows


def test_closed_loop_two_worker_processes(mock: MockProcess, tmp_path: Path):
    out = tmp_path / "requests.jsonl"
    cfg = RunConfig(
        load={"mode": "closed", "users": 4, "duration": "1.5s"},
        requests=[{"kind": "chat", "stream": True}],
        workers=2,
    )
    coord = drive(cfg, mock.url, record_requests=str(out))
    summary = coord.result().summary
    rows = _lines(out)
    assert len(rows) == summary.requests > 0
    assert not part_path(out, 0).exists() and not part_path(out, 1).exists()
    assert {r["worker"] for r in rows} == {0, 1}
    assert {r["user"] for r in rows} == {0, 1, 2, 3}
    assert all(r["user"] % 2 == r["worker"] for r in rows)  # users uid % workers == index
    for r in rows:
        assert r["label"] is None  # one kind of request: no label
        assert r["intended_s"] is None  # closed loop: no intended time
        assert r["status"] == 200 and r["error"] is None
        assert r["latency_ms"] == r["latency_actual_ms"]
        # the mock's TTFT is 50 ms; its loop timer may wake up to 1 ms early (seen: 49.879)
        assert 49.0 <= r["ttft_ms"] <= r["latency_ms"]
        assert r["output_tokens"] == 8 and r["input_tokens"] is not None
        tpot = (r["latency_actual_ms"] - r["ttft_ms"]) / (r["output_tokens"] - 1)
        assert r["tpot_ms"] == pytest.approx(tpot, abs=0.002)  # TPOT's formula, 3 decimals
        # the loop's timers wake up to a millisecond early: the first sends can lead t0 by that
        assert -0.002 <= r["sent_s"] <= 1.5 + 1.0
    assert sum(r["output_tokens"] for r in rows) == summary.output_tokens


def test_open_loop_with_faults_matches_the_summary(tmp_path: Path):
    out = tmp_path / "open.jsonl"
    settings = MockSpec(latency=0.005, faults={"http_500": 0.3, "reset": 0.1})
    cfg = RunConfig(
        load={"mode": "open", "rate": 60, "duration": "1.5s", "graceful_stop": "2s"},
        requests=[
            {"kind": "chat", "name": "short", "stream": False},
            {"kind": "chat", "name": "long", "stream": False},
        ],
        workers=2,
    )
    with MockProcess(settings) as mock:
        coord = drive(cfg, mock.url, pool=InProcessPool(), record_requests=str(out))
    summary = coord.result().summary
    rows = _lines(out)
    assert len(rows) == summary.requests > 20
    errors = Counter(r["error"] for r in rows if r["error"] is not None)
    assert errors == Counter(summary.errors)
    assert errors["http_5xx"] > 0 and errors["reset"] > 0
    by_label = Counter(r["label"] for r in rows)
    assert by_label == Counter({k: v.requests for k, v in summary.by_label.items()})
    for r in rows:
        assert r["user"] is None  # open loop: arrivals, not users
        assert r["intended_s"] <= r["sent_s"]
        assert r["latency_ms"] >= r["latency_actual_ms"]
        if r["error"] == "http_5xx":
            assert r["status"] == 500
        elif r["error"] == "reset":
            assert r["status"] is None
        else:
            assert r["status"] == 200 and r["error"] is None


def test_the_file_is_written_when_the_run_is_terminated(private_dirs: Path):
    out, run_file = private_dirs / "term.jsonl", private_dirs / "term.json"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "loadtui",
            "--headless",
            "--preset",
            "smoke",
            "--duration",
            "60s",
            "--out",
            str(run_file),
            "--record-requests",
            str(out),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    deadline = time.monotonic() + 60
    part = part_path(out, 0)
    while time.monotonic() < deadline:  # wait until the worker has written lines
        if part.exists() and part.stat().st_size > 0:
            break
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    run = json.loads(run_file.read_text())
    assert run["status"] == "interrupted"
    rows = _lines(out)
    assert len(rows) == run["summary"]["requests"] > 0
    assert not part.exists()


def test_joining_drops_only_a_record_a_dead_worker_left_half_written(tmp_path: Path):
    out = tmp_path / "r.jsonl"
    for worker, label in ((0, "a"), (1, "b")):
        log = RequestLog(out, worker)
        log.t0 = 100.0
        for i in range(3):
            done = Outcome(label, sent=100.0 + i, intended=None, end=100.5 + i, status=200)
            log.add(done, user=worker)
        log.close()
    with open(part_path(out, 1), "ab") as part:
        part.write(b"\x01\x02\x03")  # a worker killed in the middle of a write
    assert join_parts(out, 3) == out  # worker 2 never started: no part
    rows = _lines(out)
    assert [(r["label"], r["worker"], r["sent_s"]) for r in rows] == [
        ("a", 0, 0.0),
        ("a", 0, 1.0),
        ("a", 0, 2.0),
        ("b", 1, 0.0),
        ("b", 1, 1.0),
        ("b", 1, 2.0),
    ]
    assert all(r["latency_ms"] == 500.0 and r["status"] == 200 for r in rows)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.jsonl"]  # parts removed
    assert join_parts(tmp_path / "none.jsonl", 2) is None
