"""The dataclass code cache (runtime/codecache.py): classes defined through it behave exactly as
without it, the second process compiles nothing, and a cache file that is not the user's alone
or not a table of code is ignored. Each case runs in a fresh interpreter, as the CLI does: the
cache replaces ``dataclasses``' ``exec`` for the whole process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from helpers import run_cli

_CLASSES = r"""
import dataclasses, json, sys
from dataclasses import InitVar, dataclass, field
from pathlib import Path

if sys.argv[1] == "cached":
    from loadtui.runtime import codecache
    codecache.install(Path(sys.argv[2]))

@dataclass(frozen=True, slots=True, order=True)
class Point:
    x: int
    y: int = 2
    tags: tuple[str, ...] = ()

@dataclass(kw_only=True)
class Box:
    items: list[int] = field(default_factory=list)
    scale: InitVar[int] = 1
    total: int = 0
    def __post_init__(self, scale):
        self.total = sum(self.items) * scale

@dataclass(eq=False)
class Plain:
    name: str = "a"

p, q = Point(1), Point(1, 3, ("t",))
frozen = False
try:
    p.x = 5
except dataclasses.FrozenInstanceError:
    frozen = True
b = Box(items=[1, 2], scale=3)
out = {
    "repr": [repr(p), repr(q), repr(b), repr(Plain())],
    "eq": [p == Point(1), p == q, Plain() == Plain()],
    "order": [p < q, sorted([q, p]) == [p, q]],
    "hash": hash(p) == hash(Point(1)),
    "frozen": frozen,
    "total": b.total,
    "replace": repr(dataclasses.replace(p, y=9)),
    "slots": Point.__slots__,
    "init": str(__import__("inspect").signature(Box)),
}
if sys.argv[1] == "cached":
    out["compiled"] = codecache._state["new"]
    codecache.save()
print(json.dumps(out))
"""


def _define(tmp_path: Path, *args: str) -> dict[str, object]:
    script = tmp_path / "classes.py"
    script.write_text(_CLASSES)
    done = subprocess.run(
        [sys.executable, str(script), *args], capture_output=True, text=True, check=True, timeout=60
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def _cache_file(folder: Path) -> Path:
    (path,) = folder.glob("dataclasses-*.marshal")
    return path


def test_classes_are_the_same_with_the_cache_cold_and_warm(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    plain = _define(tmp_path, "plain")
    cold = _define(tmp_path, "cached", str(folder))
    warm = _define(tmp_path, "cached", str(folder))
    assert cold.pop("compiled") > 0  # type: ignore[operator]
    assert warm.pop("compiled") == 0  # everything came from the file
    assert cold == plain and warm == plain
    assert plain["frozen"] is True and plain["total"] == 9 and plain["order"] == [True, True]
    assert _cache_file(folder).stat().st_mode & 0o777 == 0o600


def test_a_cache_file_others_can_write_or_that_is_not_code_is_ignored(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    plain = _define(tmp_path, "plain")
    _define(tmp_path, "cached", str(folder))
    path = _cache_file(folder)
    path.chmod(0o666)  # anyone could have put code in it: not read
    shared = _define(tmp_path, "cached", str(folder))
    assert shared.pop("compiled") > 0 and shared == plain
    assert path.stat().st_mode & 0o777 == 0o600  # written anew, the user's alone
    path.write_bytes(b"not a marshal table")
    os.chmod(path, 0o600)
    broken = _define(tmp_path, "cached", str(folder))
    assert broken.pop("compiled") > 0 and broken == plain
    warm = _define(tmp_path, "cached", str(folder))
    assert warm.pop("compiled") == 0


def test_a_fifo_in_place_of_the_cache_file_is_not_waited_on(tmp_path: Path) -> None:
    from importlib.util import MAGIC_NUMBER

    folder = tmp_path / "cache"
    folder.mkdir()
    tag = sys.implementation.cache_tag or sys.implementation.name
    os.mkfifo(folder / f"dataclasses-{tag}-{MAGIC_NUMBER.hex()}.marshal")
    plain = _define(tmp_path, "plain")
    cached = _define(tmp_path, "cached", str(folder))  # opening a FIFO to read would block
    assert cached.pop("compiled") > 0 and cached == plain
    assert _cache_file(folder).is_file()  # replaced by a cache of its own


def test_the_cli_keeps_its_cache_where_loadtui_cache_dir_says(tmp_path: Path) -> None:
    folder = tmp_path / "cli-cache"
    done = run_cli("runs", env={"LOADTUI_CACHE_DIR": str(folder)})
    assert done.returncode == 0, done.stderr
    assert _cache_file(folder).stat().st_size > 0
    help_only = tmp_path / "help-cache"  # --help ends in argparse: nothing read or written
    assert run_cli("--help", env={"LOADTUI_CACHE_DIR": str(help_only)}).returncode == 0
    assert not help_only.exists()
