"""The HTML report in a real browser: headless Chromium opens the report of a real run against
the mock (with live control changes), with no network, and its DOM and screenshot show the
charts. Skipped where Chromium is not installed (Debian: ``apt-get install chromium``)."""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from helpers import run_cli
from loadtui.mock import MockProcess
from loadtui.storage.runfile import load_record

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")

_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
)


def _chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    profile = tmp / "chromium-profile"
    return subprocess.run(
        [CHROMIUM, *_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def _rows(png: bytes) -> tuple[int, int, int, bytes]:
    """Width, height, bytes a pixel and the inflated (still filtered) rows of an 8-bit,
    non-interlaced RGB(A) PNG, as Chromium writes it."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, head = 8, b"", b""
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, body = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            head = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, color = struct.unpack(">IIBB", head[:10])
    assert depth == 8 and color in (2, 6), (depth, color)
    return width, height, 3 if color == 2 else 4, zlib.decompress(idat)


def _unfilter(kind: int, line: bytearray, prev: bytes, bpp: int) -> None:
    for i in range(len(line)):
        a = line[i - bpp] if i >= bpp else 0
        b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
        if kind == 1:
            line[i] = (line[i] + a) & 255
        elif kind == 2:
            line[i] = (line[i] + b) & 255
        elif kind == 3:
            line[i] = (line[i] + (a + b) // 2) & 255
        elif kind == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255


def _colours(png: bytes, band: int = 3) -> set[bytes]:
    """The colours of a sample of the screenshot's pixels: a few rows from each row that
    does not depend on the one above it (PNG filter None or Sub) — decoding every row in pure
    Python would take half a minute."""
    width, height, bpp, raw = _rows(png)
    stride = width * bpp + 1
    colours: set[bytes] = set()
    for y in range(height):
        if raw[y * stride] not in (0, 1):
            continue
        prev = bytes(width * bpp)
        for row in range(y, min(y + band, height)):
            line = bytearray(raw[row * stride + 1 : (row + 1) * stride])
            _unfilter(raw[row * stride], line, prev, bpp)
            colours.update(bytes(line[i : i + 3]) for i in range(0, len(line), bpp))
            prev = bytes(line)
    return colours


def test_the_report_of_a_real_run_renders_in_chromium(tmp_path: Path, mock: MockProcess) -> None:
    controls = tmp_path / "controls.toml"
    controls.write_text(
        '[[control]]\nat = "1s"\naction = "users"\nvalue = 3\n'
        '[[control]]\nat = "2s"\naction = "rate"\nvalue = 5\n'
    )
    run_file, report = tmp_path / "run.json", tmp_path / "report.html"
    args = ("--headless", "--preset", "smoke", "--duration", "3s", "--url", mock.url)
    done = run_cli(*args, "--control-file", str(controls), "--out", str(run_file))
    assert done.returncode == 0, done.stderr
    made = run_cli("report", str(run_file), "-o", str(report))
    assert made.returncode == 0, made.stderr

    dom = _chromium(tmp_path, "--dump-dom", report.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    assert html.count("<svg") == 8  # parsed as SVG elements: the DOM serialises them back
    assert html.count('class="series"') >= 8 and html.count('class="marker"') == 7 * 2
    assert load_record(run_file).id in html

    shot = tmp_path / "report.png"
    taken = _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,4000", report.as_uri())
    assert shot.exists(), taken.stderr[-2000:]
    png = shot.read_bytes()
    assert struct.unpack(">II", png[16:24]) == (1280, 4000)
    assert len(png) > 100_000  # a blank page of that size is ~25 KB
    colours = _colours(png)
    assert len(colours) > 20, "the screenshot is (nearly) blank"

    def seen(rgb: tuple[int, int, int]) -> bool:
        return any(sum(abs(x - y) for x, y in zip(c, rgb, strict=True)) < 40 for c in colours)

    # the run's colour (its swatches, its p50 and load lines) was painted; the sample of rows
    # is too thin to promise a 1.6 px line of each colour
    assert seen((0x1F, 0x77, 0xB4))
