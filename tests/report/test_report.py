from __future__ import annotations

import html as htmllib
import random
import re
import struct
import zlib
from datetime import UTC, datetime
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pytest

from redline.attest import Finding, SafetyCase, build_case, digest_model
from redline.evals import SeriesResult, analyse_series
from redline.interp.neurons import Context, LayerExplanations, NeuronExplanation, write_html
from redline.redteam.records import AttemptRecord
from redline.redteam.report import build_report, to_html
from redline.report import (
    EvidenceLink,
    evidence_links,
    interval_chart,
    render_case_report,
    render_series_report,
    trend_plot,
)
from redline.report.svg import is_difference
from redline.watch import WatchConfig, Watcher, render_report

# The fixtures of tests/attest (policy, results, model_dir) are shared here.
from tests.attest.conftest import NOW, model_dir, policy, results  # noqa: F401
from tests.conftest import require_system
from tests.dashboard.server import CHROMIUM
from tests.evals.test_series import runs_from
from tests.watch.test_monitor import traffic

VERDICT_RED = (0xB9, 0x1C, 0x1C)
JUMP_RED = (0xDC, 0x26, 0x26)
OBSERVED_BLUE = (0x25, 0x63, 0xEB)
EVIL = "<script>alert(1)</script>"


def _text(page: str) -> str:
    """What a reader sees: tags dropped, entities decoded."""
    return htmllib.unescape(re.sub(r"<[^>]+>", "", page))


def _inert(page: str) -> None:
    """``EVIL`` reached the page as text, never as markup."""
    assert "<script>alert" not in page and "alert(1)" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


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
    assert 'class="verdict NO_GO"' in html and "NO GO" in _text(html)
    assert "does not release" in html
    for reason in report_case.verdict.reasons:
        assert reason.message in _text(html)
    assert html.count('class="plot intervals') >= 1 and html.count('class="plot" data-metric') == 1
    assert "jump \u2191" in html
    assert report_case.policy.digest() in html
    # Nothing is fetched: no scripts, no external resources; the stylesheet is inline.
    assert "<script" not in html and "<link" not in html
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "<style>/* Rules shared by redline" in html and "--ink:" in html
    assert "What redline's reports add" in html  # both stylesheets, inline


def test_case_report_links_the_evidence_next_to_it(report_case: SafetyCase,
                                                   tmp_path: Path) -> None:
    for name in ("redteam/report.html", "trigger-search.json", "internals.json",
                 "results/t-refusal.json"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}")
    links = evidence_links(tmp_path)
    hrefs = [link.href for link in links]
    assert hrefs == ["redteam/report.html", "trigger-search.json", "internals.json",
                     "results/t-refusal.json"]
    html = render_case_report(report_case, evidence=links)
    for href in hrefs:
        assert f'href="{href}"' in html
        assert (tmp_path / href).is_file()  # relative to the report's own folder
    assert "Red-team report" in html and "Internals evidence" in html
    # No folder, no links section.
    assert 'id="evidence"' not in render_case_report(report_case)


def test_red_team_findings_link_their_transcripts(report_case: SafetyCase,
                                                  tmp_path: Path) -> None:
    record = AttemptRecord(
        key="ab" * 32, attack="static", probe="seed.cyber", prompt_id="1", category="cyber",
        goal="g", transform="none", messages=[{"role": "user", "content": "how to x"}],
        params={}, response="here is x", success=True,
    )
    redteam = build_report([record], run_id="r", target="t", status="finished", config={},
                           success_scorer="s", redline_version="0")
    (tmp_path / "redteam").mkdir()
    (tmp_path / "redteam" / "report.html").write_text(to_html(redteam))
    finding = Finding(id="f1", severity="critical", title="complied", source="redteam",
                      evidence=[record.key])
    html = render_case_report(report_case.model_copy(update={"findings": [finding]}),
                              evidence=evidence_links(tmp_path))
    anchor = f"attempt-{record.key[:12]}"
    assert f'href="redteam/report.html#{anchor}"' in html
    target_page = (tmp_path / "redteam" / "report.html").read_text()
    assert f'id="{anchor}"' in target_page and "here is x" in target_page


def test_case_report_shows_example_transcripts(report_case: SafetyCase) -> None:
    html = render_case_report(report_case)
    shown = [s for r in report_case.results for s in r.samples if s.response][:1]
    assert shown and 'id="transcripts"' in html
    assert shown[0].response in _text(html)


def test_every_report_renders_model_and_user_text_inert(
    report_case: SafetyCase, series: SeriesResult, tmp_path: Path
) -> None:
    result = report_case.results[0]
    sample = result.samples[0].model_copy(update={"response": EVIL})
    evil_case = report_case.model_copy(update={
        "target": EVIL,
        "results": [result.model_copy(update={"samples": [sample]}), *report_case.results[1:]],
        "findings": [Finding(id="f1", severity="high", title=EVIL, tags=[EVIL], evidence=[EVIL])],
    })
    _inert(render_case_report(evil_case, evidence=[EvidenceLink("a.json", EVIL, EVIL)]))

    checkpoints = series.checkpoints
    evil_series = series.model_copy(update={"axis": EVIL, "checkpoints": checkpoints})
    _inert(render_series_report(evil_series))

    record = AttemptRecord(
        key="k1", attack="static", probe="seed.cyber", prompt_id="1", category="cyber",
        goal="g", transform="none", messages=[{"role": "user", "content": EVIL}], params={},
        response=EVIL, success=True,
    )
    redteam = build_report([record], run_id="r", target=EVIL, status="finished", config={},
                           success_scorer="s", redline_version="0")
    page = to_html(redteam)
    _inert(page)
    assert page.count("&lt;script&gt;alert(1)") >= 3  # target, prompt and response

    watcher = Watcher(WatchConfig(reference=50, drift_every=0), [])
    watcher.observe_all(traffic(random.Random(3), 120))
    snapshot = watcher.snapshot().model_copy(update={"by_client": {EVIL: 3}})
    _inert(render_report(snapshot, title=EVIL))

    neuron = NeuronExplanation(
        neuron=0, explanation=EVIL, score=0.9, max_activation=1.0,
        contexts=(Context(tokens=(EVIL, "x"), activations=(1.0, 0.0), focus=0),),
    )
    layer = LayerExplanations(target=EVIL, hook="blocks.0.mlp.hook_post", neurons=[neuron],
                              n_explain_tokens=1, n_heldout_tokens=1)
    path = write_html(layer, tmp_path / "neurons.html")
    page = path.read_text()
    # The page's own filter script is the only script.
    assert page.count("<script>") == 1 and "<script>function f()" in page
    _inert(page)


def test_difference_metrics_get_their_own_axis(report_case: SafetyCase) -> None:
    evals = [e for t in report_case.verdict.thresholds for e in t.evals]
    rates = [e for e in evals if not is_difference(e)]
    assert rates and len(rates) < len(evals)  # the fixture policy has both kinds
    diff = rates[0].model_copy(update={"metric": "lie_rate_increase", "value": -0.1,
                                       "low": -0.3, "high": 0.1, "rule_out": 0.05,
                                       "rule_in": 0.2})
    assert is_difference(diff)
    svg = interval_chart([diff], title="Differences")
    assert 'class="plot intervals differences"' in svg
    assert ">-0.3<" in svg or ">-0.4<" in svg  # the axis reaches below zero
    rate_svg = interval_chart(rates)
    assert ">0<" in rate_svg and ">1<" in rate_svg and ">-" not in rate_svg


def test_long_labels_are_not_clipped(report_case: SafetyCase) -> None:
    e = next(e for t in report_case.verdict.thresholds for e in t.evals)
    short = interval_chart([e], labels=["a/b"])
    long_name = "organism-sycophancy/strongest_condition_adopts_wrong_claim_increase"
    wide = interval_chart([e], labels=[long_name])
    # The label column grows with the label, and what does not fit is cut with an ellipsis
    # (the full name stays in the tooltip): no text starts left of the picture.
    for svg, name in ((short, "a/b"), (wide, long_name)):
        found = re.search(r'<text x="([0-9.]+)" y="[0-9.]+" font-size="12" text-anchor="end" '
                          r'fill="[^"]+"><title>([^<]+)</title>([^<]+)</text>', svg)
        assert found is not None and found.group(2) == name
        assert float(found.group(1)) - len(found.group(3)) * 6.6 >= 0
    assert short != wide


def test_no_two_plots_share_a_title(report_case: SafetyCase, series: SeriesResult) -> None:
    html = render_case_report(report_case, series=series)
    titles = re.findall(r"<svg[^>]*><title>([^<]*)</title>", html)
    assert len(titles) >= 2 and len(titles) == len(set(titles))


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
    assert render_series_report(series) == html  # deterministic bytes


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


# Every text of every plot, as painted: its box against its plot's box (client pixels).
_OVERFLOW_JS = """() => {
  const out = [];
  for (const svg of document.querySelectorAll('svg.plot')) {
    const box = svg.getBoundingClientRect();
    for (const t of svg.querySelectorAll('text')) {
      const r = t.getBoundingClientRect();
      if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1
          || r.bottom > box.bottom + 1) out.push(t.textContent);
    }
  }
  return out;
}"""

# Pairs of texts in one plot whose painted boxes overlap (labels written over each other).
_OVERLAP_JS = """() => {
  const out = [];
  for (const svg of document.querySelectorAll('svg.plot')) {
    const ts = [...svg.querySelectorAll('text')].map(t => [t.textContent,
                                                           t.getBoundingClientRect()]);
    for (let i = 0; i < ts.length; i++) for (let j = i + 1; j < ts.length; j++) {
      const a = ts[i][1], b = ts[j][1];
      if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1
          && b.top < a.bottom - 1) out.push([ts[i][0], ts[j][0]]);
    }
  }
  return out;
}"""


def _reports(report_case: SafetyCase, series: SeriesResult, folder: Path) -> dict[str, Path]:
    """Each kind of report, rendered from test data into ``folder``."""
    record = AttemptRecord(
        key="cd" * 32, attack="static", probe="seed.cyber", prompt_id="1", category="cyber",
        goal="g", transform="base64", messages=[{"role": "user", "content": "how to x"}],
        params={}, response="here is x", success=True,
    )
    redteam = build_report([record], run_id="r", target="mock:t", status="finished", config={},
                           success_scorer="s", redline_version="0")
    watcher = Watcher(WatchConfig(reference=200, drift_every=0), [])
    rng = random.Random(4)
    watcher.observe_all(traffic(rng, 400))
    watcher.observe_all(traffic(rng, 300, trigger_rate=0.3))
    layer = LayerExplanations(
        target="organism:t", hook="blocks.0.mlp.hook_post", n_explain_tokens=9,
        n_heldout_tokens=9,
        neurons=[NeuronExplanation(neuron=i, explanation=f"fires on token {i}", score=i / 10,
                                   max_activation=1.0, contexts=(Context(
                                       tokens=("a", "b"), activations=(1.0, -0.5), focus=0),))
                 for i in range(10)],
    )
    pages = {
        "case": folder / "report.html", "series": folder / "series.html",
        "redteam": folder / "redteam" / "report.html", "watch": folder / "watch.html",
    }
    pages["redteam"].parent.mkdir(parents=True)
    pages["redteam"].write_text(to_html(redteam))
    pages["case"].write_text(render_case_report(report_case, series=series,
                                                evidence=evidence_links(folder)))
    pages["series"].write_text(render_series_report(series))
    pages["watch"].write_text(render_report(watcher.snapshot()))
    pages["neurons"] = write_html(layer, folder / "neurons.html")
    return pages


@pytest.mark.slow
def test_reports_in_headless_chromium(
    report_case: SafetyCase, series: SeriesResult, tmp_path: Path
) -> None:
    """Each report opens offline, fetches nothing, paints its plots with no text cut off
    or written over another."""
    require_system(Path(CHROMIUM).is_file() and find_spec("playwright") is not None,
                   "Chromium (apt-get install chromium; pip install playwright)")
    from playwright.sync_api import sync_playwright

    pages = _reports(report_case, series, tmp_path)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 1300},
                                    device_scale_factor=0.5)
            problems: list[str] = []
            page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}"))
            page.on("pageerror", lambda e: problems.append(f"error: {e}"))
            page.on("request", lambda r: None if r.url.startswith(("file:", "data:"))
                    else problems.append(f"fetched {r.url}"))
            for name, path in pages.items():
                page.goto(path.as_uri())
                assert page.locator("header.top .brand").inner_text() == "redline", name
                assert page.locator("footer").count() == 1, name
                assert page.evaluate(_OVERFLOW_JS) == [], name
                assert page.evaluate(_OVERLAP_JS) == [], name
                titles = page.evaluate("() => [...document.querySelectorAll('svg.plot > title')]"
                                       ".map(t => t.textContent)")
                assert len(titles) == len(set(titles)), (name, titles)  # red team: none
                shot = tmp_path / f"{name}.png"
                page.screenshot(path=str(shot), full_page=name == "case")
            # The case report's links to its evidence resolve inside its folder.
            page.goto(pages["case"].as_uri())
            page.click("text=Red-team report")
            assert page.url == pages["redteam"].as_uri()
            assert "Red-team report: mock:t" in page.locator("h1").inner_text()
            # The neuron page's filter (its one script) works.
            page.goto(pages["neurons"].as_uri())
            page.fill("#q", "token 7")
            assert page.locator("details:visible").count() == 1
            assert problems == []
        finally:
            browser.close()
    width, _, pixels = _png_pixels(tmp_path / "case.png")
    assert width == 550
    # The verdict banner, the jump marker and the observed series are painted.
    assert _count(pixels, VERDICT_RED) > 8_000
    assert _count(pixels, JUMP_RED) > 20
    assert _count(pixels, OBSERVED_BLUE) > 15
