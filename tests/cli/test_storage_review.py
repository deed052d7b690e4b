"""Review fixes in loaders, trust and validation: a run file cannot steer the key to another
host through ``path``, ``--url`` with ``user:pw@`` counts as the user's own target, the mix and
the body caps are bounded, and there is one ``MAX_USERS``."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from helpers import run_cli
from loadtui.engine import coordinator
from loadtui.engine.mix import weighted_order
from loadtui.errors import RunFileError
from loadtui.locations import written_runs_index
from loadtui.mock import MockProcess
from loadtui.model import plan
from loadtui.model.plan import RunConfig
from loadtui.model.requests import MAX_KINDS, MAX_TOTAL_WEIGHT, RequestSpec
from loadtui.run.checkpoint import Checkpoints
from loadtui.storage import trust
from loadtui.storage.files import MB
from loadtui.storage.runfile import (
    HEAD_LIMIT,
    LIST_LIMIT,
    LISTED_HEAD_ONLY,
    load_listed,
    load_run,
    load_run_checked,
    save_run,
    scan_runs,
)

KEY = "fake-local-secret-0123456789"


def _foreign(tmp: Path, url: str, **config: Any) -> Path:
    """A run file this machine did not write (not through save_run)."""
    cfg = RunConfig.model_validate(
        {"target": {"url": url}, "load": {"users": 1, "duration": "1s"}, **config}
    ).model_dump(mode="json")
    run = {
        "schema_version": 1,
        "id": "20260101-000000-custom-abcd",
        "status": "completed",
        "started_at": "2026-01-01T00:00:00+00:00",
        "config": cfg,
        "controls": [],
        "summary": {"requests": 1},
    }
    path = tmp / "downloaded.json"
    path.write_text(json.dumps(run))
    return path


@pytest.mark.parametrize(
    "path",
    [
        "@evil.example/v1/chat/completions",
        ".evil.example/v1",
        "v1/chat",
        "/v1\\x",
        "/v1 x",
        "/v1\nHost: x",
        "/v1\x00",
        "",
    ],
)
def test_a_request_path_must_be_an_absolute_path(path: str):
    with pytest.raises(ValidationError, match="path must start with /"):
        RequestSpec(path=path)
    assert RequestSpec(path="/ak/{key}/v1/messages").path == "/ak/{key}/v1/messages"


@pytest.mark.integration
def test_a_foreign_file_whose_path_changes_the_host_is_refused_even_with_url(
    private_dirs: Path, mock: MockProcess
):
    path = _foreign(private_dirs, mock.url, requests=[{"kind": "chat"}])
    run = json.loads(path.read_text())
    run["config"]["requests"][0]["path"] = "@evil.example/v1/chat/completions"
    path.write_text(json.dumps(run))
    proc = run_cli(
        "replay", str(path), "--headless", "--url", mock.url, env={"OPENAI_API_KEY": KEY}
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "path must start with /" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr


@pytest.mark.integration
def test_url_with_user_and_password_lets_a_foreign_file_replay(
    private_dirs: Path, mock: MockProcess
):
    path = _foreign(private_dirs, "http://127.0.0.1:9")  # a host the user never chose
    url = mock.url.replace("http://", "http://u:pw@")
    proc = run_cli("replay", str(path), "--headless", "--url", url)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "pw" not in proc.stdout + proc.stderr


def test_the_mix_is_bounded_and_the_worst_allowed_mix_builds_fast():
    with pytest.raises(ValidationError, match="at most"):
        RunConfig(requests=[{"kind": "health"}] * (MAX_KINDS + 1))
    with pytest.raises(ValidationError, match="weights of requests add up to"):
        RunConfig(requests=[{"kind": "health", "weight": 1000}] * 11)
    worst = RunConfig(
        requests=[{"kind": "health", "weight": MAX_TOTAL_WEIGHT // MAX_KINDS}] * MAX_KINDS
    )
    started = time.perf_counter()
    order = weighted_order([r.weight for r in worst.requests])
    assert time.perf_counter() - started < 1.0
    assert len(order) == MAX_TOTAL_WEIGHT


def test_the_body_caps_cannot_be_switched_off():
    for key in ("max_body_bytes", "max_event_bytes"):
        with pytest.raises(ValidationError, match=key):
            RunConfig(target={key: 2**40})
        assert RunConfig(target={key: 1024**3}).target.model_dump()[key] == 1024**3


def test_one_max_users():
    assert coordinator.MAX_USERS == plan.MAX_USERS


def _index_lines() -> int:
    path = written_runs_index()
    return len(path.read_bytes().split()) if path.exists() else 0


def _small_run(n: int) -> dict[str, Any]:
    return {
        "id": f"20260101-000000-custom-{n:04x}",
        "status": "completed",
        "config": {},
        "controls": [],
        "summary": {"requests": n},
    }


def test_checkpoints_do_not_fill_the_trust_index(private_dirs: Path):
    path = private_dirs / "run.json"
    checkpoints = Checkpoints(path, [], warn=lambda text: None, first=0.0)
    checkpoints.write({**_small_run(0), "status": "running"})
    checkpoints.close()
    assert checkpoints.written
    assert _index_lines() == 0
    final = save_run(_small_run(9), path)
    assert _index_lines() == 1
    assert load_run_checked(final)[1] is True


def test_the_trust_index_is_pruned_to_the_newest_digests(
    private_dirs: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(trust, "KEEP", 5)
    paths = [save_run(_small_run(n), private_dirs / f"r{n}.json") for n in range(23)]
    assert _index_lines() <= 10
    assert load_run_checked(paths[-1])[1] is True  # the newest stay trusted
    assert load_run_checked(paths[0])[1] is False
    assert written_runs_index().stat().st_mode & 0o777 == 0o600


def test_an_index_grown_past_the_cap_still_knows_the_newest_files(private_dirs: Path):
    path = save_run(_small_run(1), private_dirs / "r.json")
    index = written_runs_index()
    mine = index.read_bytes()
    # another program (or an old loadtui) appended far more than the index keeps
    index.write_bytes(b"0" * 64 * 1024 * 1024 + b"\n" + mine)
    assert load_run_checked(path)[1] is True


def _long_run(points: int, pad: int = 0) -> dict[str, Any]:
    run = _small_run(7)
    run["started_at"] = "2026-01-01T00:00:00+00:00"
    pcts = {"p50": 50.0, "p95": None, "p99": None, "count": 1}
    run["series"] = [
        {"t": t, "users": 3, "rps": 1.0, "errors": 0, "ttft_ms": pcts} for t in range(points)
    ]
    if pad:
        run["series"][0]["note"] = "x" * pad
    run["generator"] = {"workers": 1}  # the engine puts keys after the series: save moves it
    return run


def test_a_listing_reads_only_the_head_of_a_run_larger_than_the_old_cap(private_dirs: Path):
    folder = private_dirs / "runs"
    path = save_run(_long_run(10, pad=LIST_LIMIT + MB), folder / "long.json")
    assert list(json.loads(path.read_text()))[-1] == "series"
    ((listed_path, entry),) = scan_runs(folder)[0]
    assert listed_path == path
    assert entry["summary"] == {"requests": 7} and entry["generator"] == {"workers": 1}
    assert entry["series"] == [] and entry[LISTED_HEAD_ONLY] is True
    whole = load_listed(path, entry)
    assert len(whole["series"]) == 10 and LISTED_HEAD_ONLY not in whole


def test_an_old_file_with_the_series_in_the_middle_is_still_listed_whole(private_dirs: Path):
    folder = private_dirs / "runs"
    folder.mkdir()
    run = {"schema_version": 1, **_long_run(20_000)}
    old = {k: v for k, v in run.items() if k not in ("summary", "controls")}
    old.update(controls=[], summary=run["summary"])  # after the series, as issue 9 wrote them
    path = folder / "old.json"
    path.write_text(json.dumps(old, indent=2))
    assert path.stat().st_size > HEAD_LIMIT
    ((_, entry),) = scan_runs(folder)[0]
    assert len(entry["series"]) == 20_000 and LISTED_HEAD_ONLY not in entry
    assert load_listed(path, entry) is entry


@pytest.mark.parametrize(
    ("where", "value"),
    [
        (("summary", "rps"), "x"),
        (("summary", "error_rate"), "0.1"),
        (("summary", "duration_s"), [1]),
        (("summary", "ok"), True),
        (("summary", "status_codes"), {"200": "3"}),
        (("series", 0, "users"), "9"),
        (("series", 0, "t"), None),
        (("series", 0, "rps"), {}),
        (("series", 0, "errors"), "0"),
        (("controls", 0, "at"), "x"),
        (("controls", 0, "action"), 3),
        (("controls", 0, "value"), "fast"),
        (("controls", 0, "source"), ["live"]),
    ],
)
def test_odd_types_the_history_and_detail_screens_read_are_refused(
    private_dirs: Path, where: tuple[Any, ...], value: Any
):
    run = {"schema_version": 1, **_long_run(2)}
    run["controls"] = [{"action": "rate", "value": 5, "at": 1.0, "source": "live"}]
    run["summary"] = {"requests": 1, "rps": 1.0, "status_codes": {"200": 1}}
    node: Any = run
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = value
    path = private_dirs / "odd.json"
    path.write_text(json.dumps(run))
    with pytest.raises(RunFileError, match=r"\.".join(str(k) for k in where)):
        load_run(path)
    runs, skipped = scan_runs(private_dirs)
    assert runs == [] and len(skipped) == 1


def test_a_head_only_listing_still_knows_the_peak_users(private_dirs: Path):
    folder = private_dirs / "runs"
    run = _long_run(5, pad=2 * HEAD_LIMIT)
    run["series"][3]["users"] = 42
    save_run(run, folder / "long.json")
    ((_, entry),) = scan_runs(folder)[0]
    assert entry[LISTED_HEAD_ONLY] and entry["peak_users"] == 42
