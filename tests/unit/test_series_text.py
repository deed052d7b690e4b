"""Checkpoints encode each series point once (storage/seriestext.py): the file they write is
byte for byte the one a whole encoding gives, as the series grows, for every kind of point,
with and without a secret, and when a different series comes (it starts over)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from loadtui.model.record import Percentiles, RunRecord, SeriesPoint
from loadtui.run.checkpoint import Checkpoints
from loadtui.storage.runfile import load_record, save_run
from loadtui.storage.seriestext import SeriesText

DATA = Path(__file__).resolve().parents[1] / "data"


SECRET = "placeholder-secret-0123456789"
"""Redacted from every save (not shaped like a real key: a scanner must not flag it)."""


def points(n: int, start: int = 0) -> tuple[SeriesPoint, ...]:
    """Every kind of point: plain, streamed (ITL, TPOT), with SLO counts, an odd float."""
    out = []
    for t in range(start, start + n):
        p = SeriesPoint(
            t=t,
            users=t % 7,
            target_users=None if t % 2 else 8,
            target_rate=None if t % 3 else 12.5,
            in_flight=t % 5,
            rps=100 + t,
            latency_ms=Percentiles(p50=1.0 + t / 3, p95=2.5, p99=1e-7 * t),
            ttft_ms=Percentiles(),
        )
        if t % 4 == 1:
            p = replace(p, itl_ms=Percentiles(p50=0.1, p95=0.2, p99=0.3), tpot_ms=Percentiles())
        if t % 4 == 2:
            p = replace(p, slo_ok=t, slo_judged=t + 1)
        out.append(p)
    return tuple(out)


@pytest.fixture(scope="module")
def records() -> list[RunRecord]:
    return [load_record(DATA / name) for name in ("run-a.json", "run-mix.json")]


def both(run: RunRecord, tmp: Path, text: SeriesText, secret: str | None = None) -> None:
    whole, reused = tmp / "whole.json", tmp / "reused.json"
    save_run(run, whole, secret, remember=False)
    save_run(run, reused, secret, remember=False, series_text=text)
    assert reused.read_bytes() == whole.read_bytes()


@pytest.mark.parametrize("secret", [None, SECRET])
def test_a_growing_series_is_written_byte_for_byte_as_a_whole_encoding(
    records: list[RunRecord], tmp_path: Path, secret: str | None
) -> None:
    for record in records:
        text = SeriesText()
        series = points(12)
        for n in (0, 0, 1, 3, 3, 7, 12):  # as checkpoints see it: empty, then growing
            both(replace(record, series=series[:n], peak_users=None), tmp_path, text, secret)
        both(replace(record, series=series, peak_users=5), tmp_path, text, secret)


def test_another_series_is_encoded_afresh(records: list[RunRecord], tmp_path: Path) -> None:
    text = SeriesText()
    both(replace(records[0], series=points(6)), tmp_path, text)
    both(replace(records[0], series=points(4, start=50)), tmp_path, text)  # shorter
    both(replace(records[0], series=points(9, start=90)), tmp_path, text)  # same length and more
    both(replace(records[0], series=records[0].series), tmp_path, text)


def test_checkpoints_write_what_the_final_save_writes(
    records: list[RunRecord], tmp_path: Path
) -> None:
    warned: list[str] = []
    path, whole = tmp_path / "run.json", tmp_path / "whole.json"
    ckpt = Checkpoints(path, [SECRET], warned.append, first=0.0)
    series = points(20)
    for n in (2, 9, 20):
        run = replace(records[1], series=series[:n])
        ckpt.write(run)
        ckpt.close()  # waits for the writer
        save_run(run, whole, [SECRET], remember=False)
        assert path.read_bytes() == whole.read_bytes()
        ckpt._next = 0.0  # the next one is due at once
    assert not warned
    assert load_record(path).series == series
    # the final save reuses the checkpoints' text (RunSession.save, once they are closed)
    final = replace(records[1], series=series, status="completed")
    save_run(final, path, [SECRET], series_text=ckpt.series_text)
    save_run(final, whole, [SECRET])
    assert path.read_bytes() == whole.read_bytes()
