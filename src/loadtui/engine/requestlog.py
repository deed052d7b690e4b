"""``--record-requests FILE.jsonl``: one JSON line per request, streamed to disk.

Each worker writes its own part (``FILE.part<N>``) — not JSON but one fixed-size binary record
per request (``struct``: label and error as small indexes, times as floats, counts as ints),
kept in a short list and written with one ``write()`` every ``FLUSH_RECORDS`` records and at
every snapshot (4 times a second). Packing a record costs a fraction of formatting a JSON line
(four floats printed to µs were most of that), and the request loop is where the time counts;
memory stays bounded whatever the run's length. When the run ends the coordinator turns the
parts into FILE's lines, worker after worker (``join_parts``), and removes them: no line is held
in memory to sort them (sort by ``sent_s`` afterwards if you need send order:
docs/run-format.md). A worker that dies loses at most the records it had not written yet
(under a quarter of a second); a record cut in the middle is dropped.

A record holds no URL, header or body — only the label, timings, status and counts — so no key
or URL credential can reach the file.
"""

from __future__ import annotations

import json
import math
import os
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import IO, BinaryIO

from loadtui.model.outcomes import ErrorClass, Outcome

__all__ = ["FIELDS", "FLUSH_RECORDS", "RequestLog", "join_parts", "part_path"]

FLUSH_RECORDS = 2048
"""Records kept before one ``write()`` (besides the write at every snapshot)."""

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
    "itl_max_ms",
    "slo_ok",
    "input_tokens",
    "output_tokens",
    "worker",
)
"""The keys of each line, in order (docs/run-format.md says what each one means)."""

_RECORD = struct.Struct("<HqddddqBqqqdb")
"""label index, user (-1: none), intended, sent, end and first content (seconds from the
run's start; NaN: none), status (-1: none), error index (255: none), input and output tokens
(-1: unknown), content events, worst gap between content chunks (ms; NaN: none), SLOs met
(1, 0; -1: the run has none)."""
_ERRORS = tuple(ErrorClass)
_ERROR_INDEX = {error: i for i, error in enumerate(_ERRORS)}
_NONE = -1
_NO_ERROR = 255
_NAN = math.nan
_INT_MAX = 2**63 - 1
_SLO_OK = {-1: "null", 0: "false", 1: "true"}


def part_path(path: str | Path, worker: int) -> Path:
    """Where worker ``worker`` writes its part of ``path``."""
    return Path(f"{path}.part{worker}")


def _labels_path(part: Path) -> Path:
    return part.with_name(part.name + ".labels")


class RequestLog:
    """One worker's part of the per-request file; ``add`` on the hot path, ``flush`` often."""

    __slots__ = ("_file", "_labels", "_part", "records", "t0")

    def __init__(self, path: str | Path, worker: int) -> None:
        self.t0 = 0.0
        """The run's start (``perf_counter``): times in a record are seconds from it."""
        self.records: list[bytes] = []
        self._labels: dict[str, int] = {}
        self._part = part_path(path, worker)
        self._file: IO[bytes] | None = open(self._part, "wb")  # noqa: SIM115 - the whole run

    def add(self, out: Outcome, user: int | None) -> None:
        """One booked request as a record (formatted into a line only when the run ends)."""
        label = self._labels.get(out.label)
        if label is None:
            label = self._new_label(out.label)
        t0, intended, first, error = self.t0, out.intended, out.first, out.error
        status, tokens, itl_max, slo_ok = out.status, out.tokens, out.itl_max, out.slo_ok
        fields = (
            label,
            _NONE if user is None else user,
            _NAN if intended is None else intended - t0,
            out.sent - t0,
            out.end - t0,
            _NAN if first is None else first - t0,
            _NONE if status is None else status,
            _NO_ERROR if error is None else _ERROR_INDEX[error],
            _NONE if tokens.input is None else tokens.input,
            _NONE if tokens.output is None else tokens.output,
            out.chunks,
            _NAN if itl_max is None else itl_max,
            _NONE if slo_ok is None else int(slo_ok),
        )
        try:
            self.records.append(_RECORD.pack(*fields))
        except struct.error:  # a server's token count past 2**63: kept as unknown
            self.records.append(_RECORD.pack(*_clamped(fields)))
        if len(self.records) >= FLUSH_RECORDS:
            self.flush()

    def _new_label(self, label: str) -> int:
        """A label's index; the part's label list is rewritten (labels are few)."""
        index = self._labels[label] = len(self._labels)
        names = sorted(self._labels, key=self._labels.__getitem__)
        _labels_path(self._part).write_text(json.dumps(names), encoding="utf-8")
        return index

    def flush(self) -> None:
        """Write the kept records with one ``write()`` (and hand them to the OS)."""
        if self.records and self._file is not None:
            self._file.write(b"".join(self.records))
            self._file.flush()
        self.records.clear()

    def close(self) -> None:
        self.flush()
        if self._file is not None:
            self._file.close()
            self._file = None


def _clamped(fields: tuple[int | float, ...]) -> tuple[int | float, ...]:
    return tuple(
        _NONE if isinstance(v, int) and not -_INT_MAX <= v <= _INT_MAX else v for v in fields
    )


def _line(record: tuple[int | float, ...], labels: list[str], worker: int) -> str:
    """One record as its JSON line. The formulas are ``metrics.formulas``' (e2e, TTFT, TPOT),
    written out: an f-string with them inline formats a line in a fifth of what a dict through
    ``json.dumps`` took, and a long run has millions to format when it ends."""
    label, user, intended, sent, end, first, status, error, given, output, chunks, gap, ok = record
    # ``labels``: each label's JSON text by its index (null for the one of a one-kind run)
    actual = (end - sent) * 1000.0
    ttft = tpot = "null"
    if first == first and error == _NO_ERROR:  # not NaN: a stream's first content came
        first_ms = (first - sent) * 1000.0
        ttft = f"{first_ms:.3f}"
        if output == _NONE:
            output = chunks  # a stream without usage: its content events, as the summary
        if output >= 2:
            tpot = f"{(actual - first_ms) / (output - 1):.3f}"
    if intended == intended:
        planned, latency = f"{intended:.6f}", (end - intended) * 1000.0
    else:
        planned, latency = "null", actual
    text = labels[int(label)] if int(label) < len(labels) else "null"
    err = f'"{_ERRORS[int(error)].value}"' if int(error) < len(_ERRORS) else "null"
    return (
        f'{{"label":{text},"user":{"null" if user == _NONE else user},'
        f'"intended_s":{planned},"sent_s":{sent:.6f},'
        f'"status":{"null" if status == _NONE else status},"error":{err},'
        f'"latency_ms":{latency:.3f},"latency_actual_ms":{actual:.3f},'
        f'"ttft_ms":{ttft},"tpot_ms":{tpot},'
        f'"itl_max_ms":{"null" if gap != gap else f"{gap:.3f}"},'
        f'"slo_ok":{_SLO_OK[int(ok)]},'
        f'"input_tokens":{"null" if given == _NONE else given},'
        f'"output_tokens":{"null" if output == _NONE else output},"worker":{worker}}}\n'
    )


def _records(part: BinaryIO) -> Iterator[tuple[int | float, ...]]:
    """The whole records of a part (a last one cut by a worker killed mid-write is dropped)."""
    size = _RECORD.size
    while chunk := part.read(size * 4096):
        whole = len(chunk) - len(chunk) % size
        yield from _RECORD.iter_unpack(chunk[:whole])
        if whole < len(chunk):
            return


def join_parts(path: str | Path, workers: int) -> Path | None:
    """Turn the workers' parts into ``path``'s lines (worker 0's first) and remove them; None
    when no part was written (the workers never started)."""
    parts = [(w, part_path(path, w)) for w in range(workers)]
    parts = [(w, p) for w, p in parts if p.exists()]
    if not parts:
        return None
    target = Path(path)
    tmp = target.with_name(target.name + ".joining")
    with open(tmp, "w", encoding="utf-8") as dest:
        for worker, part in parts:
            names = _labels_path(part)
            found: list[str] = json.loads(names.read_text("utf-8")) if names.exists() else []
            labels = [json.dumps(name) if name else "null" for name in found]
            with open(part, "rb") as src:
                for record in _records(src):
                    dest.write(_line(record, labels, worker))
    os.replace(tmp, target)
    for _, part in parts:
        part.unlink(missing_ok=True)
        _labels_path(part).unlink(missing_ok=True)
    return target
