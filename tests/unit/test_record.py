"""The typed run record and its JSON: every fixture run file loads into a ``RunRecord``, and the
record writes the same JSON back (storage/record.py is the only converter)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from loadtui.errors import RunFileError
from loadtui.metrics.stats import Aggregate, Recorder
from loadtui.model.record import RunRecord
from loadtui.storage.record import record_from_json, record_to_json
from loadtui.storage.runfile import (
    load_listed_record,
    load_record,
    load_run,
    run_config,
    run_controls,
    save_run,
    scan_records,
)

DATA = Path(__file__).parents[1] / "data"
FIXTURES = sorted(DATA.glob("*.json"))


def _contains(whole: Any, part: Any, where: str = "") -> list[str]:
    """Where ``part`` (a file's JSON) is not found unchanged inside ``whole`` (the record's)."""
    if isinstance(part, dict):
        if not isinstance(whole, dict):
            return [where]
        missing = [f"{where}.{k}" for k in part if k not in whole]
        return missing + [
            bad for k in part if k in whole for bad in _contains(whole[k], part[k], f"{where}.{k}")
        ]
    if isinstance(part, list):
        if not isinstance(whole, list) or len(whole) != len(part):
            return [where]
        return [
            bad
            for i, (w, p) in enumerate(zip(whole, part, strict=True))
            for bad in _contains(w, p, f"{where}[{i}]")
        ]
    return [] if whole == part and type(whole) is type(part) else [f"{where}: {part!r} → {whole!r}"]


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_every_fixture_run_file_loads_and_writes_back_what_it_held(path: Path):
    raw = load_run(path)
    record = load_record(path)
    assert isinstance(record, RunRecord) and record.id == raw["id"]
    assert len(record.series) == len(raw["series"]) > 0
    assert record.summary.requests == raw["summary"]["requests"]
    # everything the file held comes back unchanged; keys added since it was written (here
    # ``load_ended_s``, newer config options) come back with their documented defaults
    assert _contains(record_to_json(record), raw) == []


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_a_file_written_from_a_record_round_trips_exactly(path: Path, tmp_path: Path):
    record = load_record(path)
    written = save_run(record, tmp_path / "again.json")
    text = json.loads(written.read_text())
    peak = max(p.users for p in record.series)  # the save adds it for listings
    assert load_record(written) == replace(record, peak_users=peak)
    assert record_to_json(load_record(written)) == text
    assert list(text)[-1] == "series" and text["peak_users"] == peak


def test_a_summary_from_the_aggregate_survives_the_run_file(tmp_path: Path):
    rec = Recorder()
    rec.requests, rec.ok, rec.output_tokens = 3, 2, 40
    rec.error("timeout")
    rec.reason("timeout", TimeoutError("slow"))
    rec.status(200)
    rec.status(503)
    rec.check("json ok", True)
    rec.label("direct").record(10.0, True, 5.0)
    rec.label("proxied").record(14.0, True, 6.0)
    for ms in (10.0, 20.0, 30.0):
        rec.hist["latency_ms"].record_ms(ms)
    agg = Aggregate()
    agg.add_snapshot(rec.drain(0, 1.0))
    summary = agg.summary(1.0)
    assert summary.overhead is not None and summary.overhead.latency_ms is not None
    record = replace(load_record(FIXTURES[0]), summary=summary)
    again = load_record(save_run(record, tmp_path / "r.json"))
    assert again.summary == summary
    assert again.summary.status_codes == {200: 1, 503: 1}


def test_a_listing_gives_records_without_the_series_and_the_whole_run_on_demand(
    private_dirs: Path,
):
    folder = private_dirs / "runs"
    record = load_record(FIXTURES[0])
    save_run(record, folder / "a.json")
    (entry,), skipped = scan_records(folder)
    assert skipped == []
    assert entry.record.summary == record.summary and entry.record.peak_users is not None
    whole = load_listed_record(entry)
    assert whole.series == record.series


def test_replay_reads_config_and_controls_from_a_record_as_from_the_json():
    raw = load_run(FIXTURES[0])
    record = record_from_json(raw)
    assert run_config(record) == run_config(raw)
    assert run_controls(record) == run_controls(raw)


def test_a_config_this_loadtui_cannot_run_is_shown_but_not_replayed():
    raw = load_run(FIXTURES[0])
    raw["config"] = {**raw["config"], "workers": -3, "newer_option": True}
    record = record_from_json(raw, "x.json")  # listed, shown, compared as before
    assert record.config.workers == 0 and record.summary.requests == raw["summary"]["requests"]
    assert record.config_error is not None and "x.json: config." in record.config_error
    with pytest.raises(RunFileError, match=r"x\.json: config\."):
        run_config(record)  # a replay refuses it, with the one line naming the key


def test_every_recorder_counter_reaches_the_snapshot_and_starts_again_at_zero():
    from loadtui.metrics.stats import COUNTERS

    rec = Recorder()
    for n, name in enumerate(COUNTERS, start=1):
        setattr(rec, name, getattr(rec, name) + n)  # the test, not the recorder, loops by name
    snap = rec.drain(0, 1.0)
    assert snap.counters == {name: n for n, name in enumerate(COUNTERS, start=1)}
    assert rec.counters() == dict.fromkeys(COUNTERS, 0)
