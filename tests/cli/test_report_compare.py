"""The multi-run report's "Compared with the first run" section: two real runs against the mock
over loopback — a fast upstream and a slow one (TTFT 50 ms, then 300 ms) — reported together
through ``loadtui report``, with the not-alike warning and the noise-judged verdicts that
``loadtui compare`` gives (both come from ``run/compare.py``)."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import run_cli
from loadtui.mock.server import MockProcess
from loadtui.model.plan import MockSpec

# every test here starts processes; the group: one xdist worker makes the module's runs,
# once (pyproject: loadgroup)
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("report_compare")]

FAST = MockSpec(latency=0.02, ttft=0.05, itl=0.01, tokens=8)
SLOW = MockSpec(latency=0.02, ttft=0.3, itl=0.01, tokens=8)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    folder = tmp_path_factory.mktemp("report-compare")
    env = {"LOADTUI_DATA_DIR": str(folder / "data"), "LOADTUI_CONFIG_DIR": str(folder / "cfg")}
    paths = {}
    with MockProcess(FAST) as fast, MockProcess(SLOW) as slow:
        for name, mock in (("fast", fast), ("slow", slow)):
            paths[name] = folder / f"{name}.json"
            proc = run_cli(
                *("--headless", "--preset", "smoke", "--duration", "2s", "--think-time", "0s"),
                *("--users", "2", "--url", mock.url, "--out", str(paths[name])),
                env=env,
            )
            assert proc.returncode == 0, proc.stderr
    yield {"env": env, **paths}


def _report(runs: dict[str, object], out: Path, *names: str) -> str:
    env = runs["env"]
    assert isinstance(env, dict)
    proc = run_cli("report", *(str(runs[n]) for n in names), "-o", str(out), env=env)
    assert proc.returncode == 0, proc.stderr
    return out.read_text()


def _section(page: str) -> str:
    found = re.search(r'<section id="compare">(.*?)</section>', page, re.S)
    assert found is not None, "no comparison section"
    return html.unescape(found.group(1))


def _verdicts(section: str) -> dict[str, str]:
    """figure → verdict, from the comparison table's rows."""
    body = "".join(re.findall(r"<tbody>(.*?)</tbody>", section, re.S))
    rows = re.findall(r"<tr><th>([^<]+)</th>(.*?)</tr>", body, re.S)
    return {
        figure: re.sub(r"<[^>]+>", "", cells.rsplit("<td>", 1)[-1]).strip()
        for figure, cells in rows
    }


def test_two_unlike_runs_get_the_warning_and_judged_verdicts(
    runs: dict[str, object], tmp_path: Path
):
    page = _report(runs, tmp_path / "r.html", "fast", "slow")
    assert "<h2>Compared with the first run</h2>" in page
    section = _section(page)
    assert "! runs are not alike: different target" in section  # two mocks, two URLs
    assert "B: " in section and " against A: " in section
    verdicts = _verdicts(section)
    assert verdicts["TTFT p50"] == "worse"  # 300 ms against 50 ms: far beyond the noise
    assert verdicts["requests"] == ""  # a count: no better side
    # the same verdicts as loadtui compare --json
    env = runs["env"]
    assert isinstance(env, dict)
    proc = run_cli("compare", str(runs["fast"]), str(runs["slow"]), "--json", env=env)
    rows = {r["figure"]: r for r in json.loads(proc.stdout)["comparisons"][0]["rows"]}
    for figure, verdict in verdicts.items():
        assert (rows[figure]["verdict"] or "") in (verdict, ""), figure


def test_a_run_against_itself_is_alike_and_the_same(runs: dict[str, object], tmp_path: Path):
    section = _section(_report(runs, tmp_path / "r.html", "fast", "fast"))
    assert "not alike" not in section and "The runs are alike" in section
    verdicts = _verdicts(section)
    assert verdicts["TTFT p95"] == "same" and verdicts["req/s"] == "same"


def test_a_report_of_one_run_has_no_comparison(runs: dict[str, object], tmp_path: Path):
    page = _report(runs, tmp_path / "r.html", "fast")
    assert 'id="compare"' not in page and "Compared with the first run" not in page
