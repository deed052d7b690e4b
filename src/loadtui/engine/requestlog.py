"""``--record-requests FILE.jsonl``: one JSON line per request, streamed to disk.

Each worker writes its own part (``FILE.part<N>``): a line is formatted when its request is
booked and kept in a short list, written with one ``write()`` every ``FLUSH_LINES`` lines and at
every snapshot (4 times a second), so memory stays bounded whatever the run's length and the
request loop never waits on a file per request. When the run ends the coordinator joins the
parts into FILE, worker after worker (``join_parts``), and removes them: no line is held in
memory to sort them (``sort`` by ``sent_s`` afterwards if you need send order: docs/run-format.md).
A worker that dies loses at most the lines it had not written yet (under a quarter of a second).

A line holds no URL, header or body — only the label, timings, status and counts — so no key
or URL credential can reach the file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import IO, BinaryIO

from loadtui.model.outcomes import Outcome

__all__ = ["FIELDS", "FLUSH_LINES", "RequestLog", "join_parts", "part_path"]

FLUSH_LINES = 2048
"""Lines kept before one ``write()`` (besides the write at every snapshot)."""

FIELDS = (
    "label",
    "user",
    "intended_s",
    "sent_s",
    "status",
    "error",
    "latency_ms",
    "latency_actual_ms",
    "ttft_ms",
    "tpot_ms",
    "input_tokens",
    "output_tokens",
    "worker",
)
"""The keys of each line, in order (docs/run-format.md says what each one means)."""


def part_path(path: str | Path, worker: int) -> Path:
    """Where worker ``worker`` writes its part of ``path``."""
    return Path(f"{path}.part{worker}")


class RequestLog:
    """One worker's part of the per-request file; ``add`` on the hot path, ``flush`` often."""

    __slots__ = ("_file", "_labels", "lines", "t0", "worker")

    def __init__(self, path: str | Path, worker: int) -> None:
        self.worker = worker
        self.t0 = 0.0
        """The run's start (``perf_counter``): times in a line are seconds from it."""
        self.lines: list[str] = []
        self._labels: dict[str, str] = {}
        """Label → its JSON text (labels are few; escaping each once)."""
        self._file: IO[str] | None = open(  # noqa: SIM115 - open for the worker's whole run
            part_path(path, worker), "w", encoding="utf-8"
        )

    def add(self, out: Outcome, user: int | None) -> None:
        """One booked request as a line. The formulas are ``metrics.formulas``' (e2e, TTFT,
        TPOT), written out here: this runs once per request, and a call per field cost a
        quarter more (benchmarks/record_requests_bench.py)."""
        label = self._labels.get(out.label)
        if label is None:
            label = self._labels[out.label] = json.dumps(out.label or None)
        t0, sent, end, intended = self.t0, out.sent, out.end, out.intended
        error, status, tokens = out.error, out.status, out.tokens
        actual = (end - sent) * 1000.0  # formulas.e2e_ms from the actual send
        given, output = tokens.input, tokens.output
        if out.first is None or error is not None:
            ttft = tpot = "null"
        else:
            first_ms = (out.first - sent) * 1000.0  # formulas.ttft_ms
            ttft = f"{first_ms:.3f}"
            if output is None:
                output = out.chunks  # a stream without usage: its content events
            tpot = "null" if output < 2 else f"{(actual - first_ms) / (output - 1):.3f}"
        if intended is None:
            planned, latency = "null", actual
        else:
            planned, latency = f"{intended - t0:.6f}", (end - intended) * 1000.0
        err = "null" if error is None else '"' + error + '"'
        self.lines.append(
            f'{{"label":{label},"user":{"null" if user is None else user},'
            f'"intended_s":{planned},"sent_s":{sent - t0:.6f},'
            f'"status":{"null" if status is None else status},"error":{err},'
            f'"latency_ms":{latency:.3f},"latency_actual_ms":{actual:.3f},'
            f'"ttft_ms":{ttft},"tpot_ms":{tpot},'
            f'"input_tokens":{"null" if given is None else given},'
            f'"output_tokens":{"null" if output is None else output},"worker":{self.worker}}}\n'
        )
        if len(self.lines) >= FLUSH_LINES:
            self.flush()

    def flush(self) -> None:
        """Write the kept lines with one ``write()`` (and hand them to the OS)."""
        if self.lines and self._file is not None:
            self._file.write("".join(self.lines))
            self._file.flush()
        self.lines.clear()

    def close(self) -> None:
        self.flush()
        if self._file is not None:
            self._file.close()
            self._file = None


def join_parts(path: str | Path, workers: int) -> Path | None:
    """Join the workers' parts into ``path`` (worker 0's lines first) and remove them; None
    when no part was written (the workers never started)."""
    parts = [part_path(path, w) for w in range(workers)]
    parts = [p for p in parts if p.exists()]
    if not parts:
        return None
    target = Path(path)
    tmp = target.with_name(target.name + ".joining")
    with open(tmp, "wb") as dest:
        for part in parts:
            with open(part, "rb") as src:
                _copy_lines(src, dest)
    os.replace(tmp, target)
    for part in parts:
        part.unlink(missing_ok=True)
    return target


def _copy_lines(src: BinaryIO, dest: BinaryIO) -> None:
    """Copy ``src``'s whole lines: a worker killed in the middle of a write leaves a last line
    without its newline, which is dropped rather than glued to the next part's first."""
    end = src.seek(0, os.SEEK_END)
    while end > 0:
        src.seek(max(0, end - 4096))
        tail = src.read(end - max(0, end - 4096))
        cut = tail.rfind(b"\n")
        if cut >= 0:
            end = max(0, end - 4096) + cut + 1
            break
        end = max(0, end - 4096)
    src.seek(0)
    left = end
    while left > 0:
        chunk = src.read(min(left, 1 << 20))
        if not chunk:
            break
        dest.write(chunk)
        left -= len(chunk)
