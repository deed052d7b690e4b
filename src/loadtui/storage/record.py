"""The run record ↔ run-file JSON: the one place a ``RunRecord`` becomes JSON and back.

``record_to_json`` (record_out.py) writes the keys docs/run-format.md lists, in the order the
run file has always had them (``series`` last, so a listing reads the head only).
``record_from_json`` (record_in.py) reads a file that ``runfile._parse`` has already checked
(``schema_version``, ``RunShape``'s strict types): old files lack keys that were added later,
so every key missing takes the record's default, and a value of an unexpected type that the
shape check does not cover takes it too — a file that loads is safe to draw. Redaction stays
on the JSON side (runfile.py).
"""

from __future__ import annotations

from loadtui.storage.record_in import (
    config_from_json,
    controls_from_json,
    record_from_json,
    summary_from_json,
)
from loadtui.storage.record_out import (
    RunJson,
    control_to_json,
    generator_to_json,
    point_to_json,
    record_to_json,
    summary_to_json,
    threshold_to_json,
)

__all__ = [
    "RunJson",
    "config_from_json",
    "control_to_json",
    "controls_from_json",
    "generator_to_json",
    "point_to_json",
    "record_from_json",
    "record_to_json",
    "summary_from_json",
    "summary_to_json",
    "threshold_to_json",
]
