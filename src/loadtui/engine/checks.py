"""Checks on answers (k6's ``check``): evaluated after a request, counted per check, never raised.

A check looks at what the request already has — status, headers, the JSON body or the stream's
events — so it costs nothing on requests without checks and never delays a timestamp (it runs
after the last byte's time is taken).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from loadtui.model.requests import CheckSpec

__all__ = ["has_field", "judge"]


def has_field(obj: object, path: str) -> bool:
    """``choices`` or ``usage.total_tokens``: a dotted path into the JSON (lists: any item)."""
    head, _, rest = path.partition(".")
    if isinstance(obj, list):
        return any(has_field(item, path) for item in obj)
    if not isinstance(obj, dict) or head not in obj:
        return False
    return has_field(obj[head], rest) if rest else True


def _json_objects(payloads: Iterable[bytes]) -> Iterable[object]:
    for data in payloads:
        try:
            yield json.loads(data)
        except ValueError:
            continue


def judge(
    checks: tuple[CheckSpec, ...],
    status: int | None,
    headers: Mapping[str, str] | None,
    payloads: list[bytes],
    into: list[tuple[str, bool]],
) -> None:
    """Append each check's label and verdict to ``into``, in order (a check that raises leaves
    the verdicts before it). ``payloads`` is the body, or the stream's events."""
    objects: list[object] | None = None
    for check in checks:
        if check.status is not None:
            passed = status is not None and status in check.status
        elif check.header is not None:
            value = headers.get(check.header) if headers is not None else None
            passed = value is not None and (check.equals is None or value == check.equals)
        else:
            if objects is None:
                objects = list(_json_objects(payloads))
            passed = any(has_field(obj, check.json_field or "") for obj in objects)
        into.append((check.label, passed))
