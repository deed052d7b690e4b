"""The codebase's own rules, checked by the suite: types, lint, format, layers, function size.

CI runs only the README's test command, so the checks a reviewer would run by hand live here:
mypy (config in pyproject.toml: strict on model/, metrics/, engine/), ruff's lint (with C901 ≤ 15)
and format check, import-linter's layer contracts, and no function in src/ over 80 lines.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import REPO

BIN = Path(sys.executable).parent
MAX_FUNCTION_LINES = 80


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=600)


def test_mypy_reports_no_errors() -> None:
    proc = _run(sys.executable, "-m", "mypy")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


@pytest.mark.parametrize(
    "args",
    [("check", "src", "tests", "benchmarks"), ("format", "--check", "src", "tests", "benchmarks")],
    ids=["lint", "format"],
)
def test_ruff_is_clean(args: tuple[str, ...]) -> None:
    proc = _run(str(BIN / "ruff"), *args)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


def test_import_contracts_are_kept() -> None:
    proc = _run(str(BIN / "lint-imports"))
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout


def test_no_function_is_longer_than_80_lines() -> None:
    long = []
    for path in sorted((REPO / "src").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(REPO)}:{node.lineno} {node.name}: {lines}")
    assert not long, "functions over 80 lines:\n" + "\n".join(long)
