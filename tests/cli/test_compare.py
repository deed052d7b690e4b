"""``loadtui compare A B [C...]``: real runs against the mock over loopback, compared as a user
would — the configuration side by side, the not-alike warning, verdicts only beyond the noise,
``--json``, and one-line errors (exit 2) for a run that cannot be read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers import run_cli
from loadtui.metrics.runhist import merge_runs
from loadtui.mock.server import MockProcess
from loadtui.model.plan import MockSpec
from loadtui.model.record import METRICS
from loadtui.storage.runfile import load_record

FAST = MockSpec(latency=0.02, ttft=0.05, itl=0.01, tokens=8)
SLOW = MockSpec(latency=0.02, ttft=0.3, itl=0.01, tokens=8)


def _run(out: Path, url: str, users: int, env: dict[str, str]) -> Path:
    proc = run_cli(
        *("--headless", "--preset", "smoke", "--duration", "2s", "--think-time", "0s"),
        *("--users", str(users), "--url", url, "--out", str(out)),
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    return out


# one xdist worker makes the module's runs, once (pyproject: loadgroup)
pytestmark = pytest.mark.xdist_group("compare")


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Three short runs: 2 users and 4 users on a fast mock, 2 users on a slow one (TTFT 300 ms
    instead of 50)."""
    folder = tmp_path_factory.mktemp("compare")
    env = {"LOADTUI_DATA_DIR": str(folder / "data"), "LOADTUI_CONFIG_DIR": str(folder / "cfg")}
    with MockProcess(FAST) as fast, MockProcess(SLOW) as slow:
        yield {
            "env": env,
            "two": _run(folder / "two.json", fast.url, 2, env),
            "four": _run(folder / "four.json", fast.url, 4, env),
            "slow": _run(folder / "slow.json", slow.url, 2, env),
        }


def _compare(runs: dict[str, Any], *refs: str) -> dict[str, Any]:
    proc = run_cli("compare", *(str(runs[r]) for r in refs), "--json", env=runs["env"])
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def _rows(result: dict[str, Any], which: int = 0) -> dict[str, dict[str, Any]]:
    return {row["figure"]: row for row in result["comparisons"][which]["rows"]}


def test_a_run_compared_with_itself_is_the_same_everywhere(runs: dict[str, Any]) -> None:
    result = _compare(runs, "two", "two")
    assert result["alike"] is True and result["warning"] is None
    judged = [row for row in _rows(result).values() if row["lower_is_better"] is not None]
    assert judged and {row["verdict"] for row in judged} == {"same"}


def test_a_much_slower_first_token_is_worse_beyond_the_noise(runs: dict[str, Any]) -> None:
    rows = _rows(_compare(runs, "two", "slow"))
    ttft = rows["TTFT p50"]
    assert ttft["value"] > ttft["baseline"] + 200  # 300 ms against 50 ms
    assert ttft["verdict"] == "worse" and ttft["noise"]["method"] == "percentile-ci"
    low, high = ttft["noise"]["baseline_interval"]
    assert low <= ttft["baseline"] <= high < ttft["noise"]["interval"][0]  # intervals apart


def test_the_table_shows_configurations_and_says_what_is_not_alike(
    runs: dict[str, Any],
) -> None:
    proc = run_cli("compare", str(runs["two"]), str(runs["four"]), env=runs["env"])
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "configuration" in out and "2 users" in out and "4 users" in out
    assert "≠ load" in out
    assert "runs are not alike: different load" in out
    assert "B against A" in out and "TTFT p95" in out and "verdict" in out


def test_json_names_every_run_and_each_later_one_against_the_first(runs: dict[str, Any]) -> None:
    result = _compare(runs, "two", "four", "slow")
    ids = [json.loads(Path(runs[r]).read_text())["id"] for r in ("two", "four", "slow")]
    assert result["runs"] == ids and result["baseline"] == ids[0]
    assert [c["run"] for c in result["comparisons"]] == ids[1:]
    assert {c["baseline"] for c in result["comparisons"]} == {ids[0]}
    assert result["config"]["load"] == ["2 users", "4 users", "2 users"]
    assert "load" in result["differs"] and "target" in result["differs"]  # two mocks
    assert result["warning"].startswith("runs are not alike: different ")
    rows = _rows(result, 1)
    assert rows["requests"]["verdict"] is None  # a count: neither better nor worse


def test_last_and_run_ids_are_found_in_the_runs_folder(
    runs: dict[str, Any], tmp_path: Path
) -> None:
    env = {**runs["env"], "LOADTUI_DATA_DIR": str(tmp_path)}
    (tmp_path / "runs").mkdir()
    run_id = json.loads(Path(runs["two"]).read_text())["id"]
    (tmp_path / "runs" / f"{run_id}.json").write_text(Path(runs["two"]).read_text())
    proc = run_cli("compare", run_id, "last", "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["runs"] == [run_id, run_id]


@pytest.mark.parametrize(
    ("refs", "says"),
    [
        (["no-such-run-id", "no-such-run-id"], "no-such-run-id"),
        (["ONE", "last"], "no 'last' run"),  # an empty runs folder
        (["./missing.json", "./missing.json"], "missing.json"),
        (["BROKEN", "BROKEN"], "not valid JSON"),
        (["ONE"], "two runs or more"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    runs: dict[str, Any], tmp_path: Path, refs: list[str], says: str
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    swap = {"BROKEN": str(broken), "ONE": str(runs["two"])}
    env = {**runs["env"], "LOADTUI_DATA_DIR": str(tmp_path / "data")}
    proc = run_cli("compare", *(swap.get(r, r) for r in refs), env=env)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0] and "Traceback" not in proc.stderr


def test_no_figure_is_cut_at_60_columns(runs: dict[str, Any]) -> None:
    env = {**runs["env"], "COLUMNS": "60"}
    proc = run_cli("compare", str(runs["two"]), str(runs["slow"]), env=env)
    assert proc.returncode == 0, proc.stderr
    assert "TTFT p50" in proc.stdout and "worse" in proc.stdout
    assert "…" not in proc.stdout  # the absolute delta is left out instead
    assert max(len(line) for line in proc.stdout.splitlines()) <= 60


def test_two_real_runs_histograms_merge_into_their_combined_counts(runs: dict[str, Any]) -> None:
    a, b = load_record(runs["two"]), load_record(runs["four"])
    assert a.histograms is not None and b.histograms is not None
    merged = merge_runs([a.histograms, b.histograms])
    for name in METRICS:
        total = a.summary.metrics.get(name).count + b.summary.metrics.get(name).count
        assert merged.get(name).count == total, name
    both = merged.get("ttft_ms").summary()
    lo = min(a.summary.metrics.ttft_ms.min, b.summary.metrics.ttft_ms.min)
    hi = max(a.summary.metrics.ttft_ms.max, b.summary.metrics.ttft_ms.max)
    assert both.min == lo and both.max == hi  # exact: the extremes of both runs
