from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from redline.attest import SafetyCase, build_case, digest_model
from redline.evals import SeriesResult, analyse_series
from redline.report import render_case_report, render_series_report, trend_plot

# The fixtures of tests/attest (policy, results, model_dir) are shared here.
from tests.attest.conftest import NOW, model_dir, policy, results  # noqa: F401
from tests.conftest import require_system
from tests.evals.test_series import runs_from

VERDICT_RED = (0xB9, 0x1C, 0x1C)
JUMP_RED = (0xDC, 0x26, 0x26)
OBSERVED_BLUE = (0x25, 0x63, 0xEB)


@pytest.fixture()
def series() -> SeriesResult:
    return analyse_series(runs_from([0.0, 0.01, 0.01, 0.02, 0.03, 0.62, 0.9, 0.94]),
                          now=datetime(2026, 2, 1, tzinfo=UTC))


@pytest.fixture()
def report_case(policy, results, model_dir) -> SafetyCase:  # type: ignore[no-untyped-def]  # noqa: F811
    return build_case(policy, results, digest_model(model_dir), now=NOW, target="mock")


def test_case_report_is_self_contained_and_shows_the_verdict(
    report_case: SafetyCase, series: SeriesResult
) -> None:
    html = render_case_report(report_case, series=series)
    assert 'class="verdict NO_GO"' in html and "NO GO" in html
    assert "does not release" in html
    for reason in report_case.verdict.reasons:
        assert reason.message.replace("'", "&#x27;") in html
    assert html.count("<svg") == 2  # intervals + one trend
    assert "jump \u2191" in html
    assert report_case.policy.digest() in html
    # Nothing is fetched: no scripts, no external resources.
    assert "<script" not in html
    assert not re.search(r'(src|href)="(https?:)?//', html)


def test_text_is_escaped(report_case: SafetyCase) -> None:
    evil = report_case.model_copy(update={"target": "<script>alert(1)</script>"})
    html = render_case_report(evil)
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_trend_plot_marks_the_jump(series: SeriesResult) -> None:
    svg = trend_plot(series.trends[0])
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert svg.count('class="point jump"') == 1
    assert svg.count('class="band"') == 5  # forecasts from the 4th checkpoint on
    assert trend_plot(series.trends[0]) == svg  # deterministic bytes


def test_series_report_lists_values(series: SeriesResult) -> None:
    html = render_series_report(series)
    assert "Capability jump(s) flagged" in html and "checkpoint-3200" in html
    assert html.count("<tr>") == 1 + 8


def _png_pixels(path: Path) -> tuple[int, int, np.ndarray]:
    """Decode an 8-bit RGB/RGBA PNG with the standard library (no Pillow here)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, channels = 8, b"", 0, 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour in (2, 6)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytearray] = []
    prev = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, up_left = prev[i], prev[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else up_left
                line[i] = (line[i] + pred) & 0xFF
        rows.append(line)
        prev = line
    image = np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(height, width, channels)
    return width, height, image[:, :, :3]


def _count(pixels: np.ndarray, colour: tuple[int, int, int], tol: int = 12) -> int:
    close = np.abs(pixels.astype(int) - np.array(colour)) <= tol
    return int(close.all(axis=2).sum())


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.slow
def test_report_opens_in_headless_chromium(
    report_case: SafetyCase, series: SeriesResult, tmp_path: Path
) -> None:
    browser = _chromium()
    require_system(browser is not None, "chromium (apt-get install -y chromium)")
    assert browser is not None
    page = tmp_path / "report.html"
    page.write_text(render_case_report(report_case, series=series), encoding="utf-8")
    shot = tmp_path / "report.png"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run",
             "--hide-scrollbars", "--enable-logging=stderr", "--v=0"]
    run = subprocess.run(
        # Half scale keeps the PNG small enough to decode in pure Python quickly.
        [browser, *flags, f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}",
         "--window-size=1100,2600", "--force-device-scale-factor=0.5", page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    assert shot.is_file(), run.stderr[-2000:]
    assert "CONSOLE" not in run.stderr and "Failed to load resource" not in run.stderr, run.stderr
    dom = subprocess.run(
        [browser, *flags, f"--user-data-dir={tmp_path / 'profile2'}", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120,
    ).stdout
    assert 'id="verdict"' in dom and "NO GO" in dom
    assert dom.count("<li>") >= len(report_case.verdict.reasons)
    assert dom.count("<svg") == 2
    width, height, pixels = _png_pixels(shot)
    assert (width, height) == (550, 1300)
    # The verdict banner, the jump marker and the observed series are painted.
    assert _count(pixels, VERDICT_RED) > 8_000
    assert _count(pixels, JUMP_RED) > 20
    assert _count(pixels, OBSERVED_BLUE) > 15
