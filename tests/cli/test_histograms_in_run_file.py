"""A real run stores its exact histograms: read back from the file, their percentiles are the
run's summary figures exactly, whole run and per label (the run, over loopback, against the mock)."""

from __future__ import annotations

from pathlib import Path

from helpers import run_cli
from loadtui.metrics.runhist import decode_run
from loadtui.model.record import METRICS
from loadtui.storage.runfile import load_record


def test_a_runs_stored_histograms_give_its_summary_figures_exactly(
    private_dirs: Path, mock
) -> None:
    out = private_dirs / "run.json"
    proc = run_cli(
        "--headless", "--preset", "smoke", "--duration", "2s", "--url", mock.url, "--out", str(out)
    )
    assert proc.returncode == 0, proc.stderr
    run = load_record(out)
    assert run.histograms is not None and run.summary.requests > 0
    decoded = decode_run(run.histograms)
    compared = 0
    for name in METRICS:
        stored, summary = decoded.get(name), run.summary.metrics.get(name)
        assert stored.count == summary.count, name
        if summary.count:
            assert stored.summary() == summary, name  # p50 … p999, mean, min, max: all equal
            compared += 1
    assert compared >= 5  # latency, TTFT, ITL, TPOT, headers at least (streamed answers)
    for label, figures in run.summary.by_label.items():
        assert decoded.get("latency_ms", label).summary() == figures.latency_ms, label
        assert decoded.get("ttft_ms", label).summary() == figures.ttft_ms, label
