"""Names a preset chose (request labels, check names) print as typed, never as rich markup."""

from __future__ import annotations

import io

from rich.console import Console

from loadtui.model.record import CheckSummary, LabelSummary, MetricSummary, RunSummary
from loadtui.render.sections import workflow_sections


def _hist(count: int) -> MetricSummary:
    return MetricSummary(count=count, p50=1.0, p95=2.0, p99=3.0)


def test_labels_and_check_names_with_brackets_print_as_typed():
    summary = RunSummary(
        by_label={
            "[/x]": LabelSummary(requests=3, errors=0, latency_ms=_hist(3), ttft_ms=_hist(0)),
            "[b]chat": LabelSummary(requests=2, errors=1, latency_ms=_hist(2), ttft_ms=_hist(2)),
        },
        checks={"[red]cache[/red]": CheckSummary(passed=4, failed=1, pass_rate=0.8)},
    )
    out = io.StringIO()
    console = Console(file=out, width=120, highlight=False)
    for section in workflow_sections(summary):
        console.print(section)
    text = out.getvalue()
    assert "[/x]" in text and "[b]chat" in text and "[red]cache[/red]" in text


def test_the_summary_counts_dropped_and_late_arrivals():
    from dataclasses import replace
    from pathlib import Path

    from loadtui.headless.console import summary_renderable
    from loadtui.storage.runfile import load_record

    run = load_record(Path(__file__).parents[1] / "data" / "run-a.json")
    run = replace(run, summary=replace(run.summary, dropped=1234, late=56))
    out = io.StringIO()
    Console(file=out, width=120).print(summary_renderable(run))
    assert "dropped 1,234 (never sent), late 56" in out.getvalue()


def test_a_run_file_with_odd_request_entries_is_refused_before_anything_draws(tmp_path):
    """Found by the run-file fuzzer: the console and the app read ``config.requests`` kinds to
    label their counts, so the run-file shape check refuses entries that are not tables."""
    import json
    from pathlib import Path

    import pytest

    from loadtui.errors import RunFileError
    from loadtui.storage.runfile import load_run

    run = json.loads((Path(__file__).parents[1] / "data" / "run-a.json").read_text())
    run["config"] = {**run["config"], "requests": [{"kind": "batch"}, None]}
    path = tmp_path / "odd.json"
    path.write_text(json.dumps(run))
    with pytest.raises(RunFileError, match=r"config\.requests\.1"):
        load_run(path)
