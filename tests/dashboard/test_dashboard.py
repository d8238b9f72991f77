"""The dashboard, served by ``redline dashboard`` for real and driven with headless Chromium.

The store and the case folder are filled by redline's own writers (tests/dashboard/data.py);
the browser goes where a user goes: runs -> one run -> one attempt's transcript; an audit ->
verify (pass, then fail on a tampered case); guarded traffic -> a blocked request.
"""

from __future__ import annotations

import base64
import html
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.conftest import require_system
from tests.dashboard.data import COMPLY, SECRET, Demo, build
from tests.dashboard.server import CHROMIUM, chromium_ready, running_dashboard

pytest.importorskip("fastapi")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return build(tmp_path_factory.mktemp("dashboard"))


@pytest.fixture(scope="module")
def base(demo: Demo) -> Iterator[str]:
    with running_dashboard(demo.db_url, demo.folder) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require_system(chromium_ready(), "Chromium (apt-get install chromium; pip install playwright)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    yield opened
    context.close()


def stored_report(demo: Demo) -> Any:
    """The run's report computed by the red team's own code, to hold the page against."""
    from redline.redteam.report import build_report
    from redline.redteam.runner import stored_records
    from redline.store import Store

    store = Store(demo.db_url)
    try:
        run = store.get_run(demo.run_id)
        assert run is not None
        records = list(stored_records(store, demo.run_id).values())
        return build_report(records, run_id=run.id, target=run.target, status=run.status,
                            config=run.config, success_scorer="test_complied",
                            redline_version=run.redline_version)
    finally:
        store.close()


def test_runs_to_a_run_to_one_attempts_transcript(page: Any, base: str, demo: Demo) -> None:
    report = stored_report(demo)
    page.goto(f"{base}/runs")
    # The stylesheet shared with the reports is served and applied (the header is dark).
    header = page.evaluate("getComputedStyle(document.querySelector('header.top')).backgroundColor")
    assert header == "rgb(17, 24, 39)", header
    page.click(f"#runs a[href='/runs/{demo.run_id}']")
    asr = page.inner_text("#asr")
    assert f"{report.asr.successes}/{report.asr.n}" in asr and f"{report.asr.value:.1%}" in asr
    assert 0 < report.asr.successes < report.asr.n  # base64 works, plain asks do not
    base64_rate = report.by_transform["base64"]
    assert f"{base64_rate.successes}/{base64_rate.n}" in page.inner_text("table.rates >> nth=2")

    page.select_option("select[name=outcome]", "success")
    page.select_option("select[name=transform]", "base64")
    page.click("#attempt-filters button")
    rows = page.locator("#attempts tbody tr")
    assert rows.count() == base64_rate.successes
    assert "failed" not in page.inner_text("#attempts")

    page.click("a.attempt-link >> nth=0")
    key = page.inner_text("#content-hash")
    assert key in {r.key for r in report.evidence} | {
        k for f in report.findings for k in f.evidence}
    transcript = page.inner_text("#transcript")
    assert "base64" in transcript and COMPLY in transcript
    judges = page.inner_text("#judges")
    assert "test_complied" in judges and "0.900" in judges and "test_refused" in judges


def tampered_copy(demo: Demo) -> Path:
    """A copy of the case whose payload says NO_GO, its signature left as it was."""
    folder = demo.folder / "tampered"
    if not folder.exists():
        shutil.copytree(demo.case_folder, folder)
        path = folder / "case.dsse.json"
        envelope = json.loads(path.read_text())
        statement = json.loads(base64.b64decode(envelope["payload"]))
        statement["predicate"]["verdict"]["decision"] = "NO_GO"
        envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
        path.write_text(json.dumps(envelope))
    return folder


def verify_in_browser(page: Any, base: str, folder: Path, key: Path) -> dict[str, str]:
    from redline.dashboard.artefacts import artefact_id

    page.goto(f"{base}/cases/{artefact_id(folder)}")
    page.fill("textarea[name=public_key]", key.read_text())
    page.click("#verify")
    rows = page.locator("#checks tr.check")
    checks = {}
    for i in range(rows.count()):
        name, result, _ = rows.nth(i).locator("td").all_inner_texts()
        checks[name] = result
    checks["banner"] = page.inner_text("#verification")
    return checks


def test_an_audit_verifies_then_fails_when_tampered(page: Any, base: str, demo: Demo) -> None:
    page.goto(f"{base}/runs?kind=audit")
    page.click("#runs a >> nth=0")
    assert "GO" in page.inner_text("#verdict")
    page.click("a.result-link")  # the threshold's evidence: the eval result and its samples
    assert "arithmetic_accuracy" in page.inner_text("#metrics")
    page.click("a.sample-link >> nth=0")
    assert "answer_check" in page.inner_text("#judges")

    good = verify_in_browser(page, base, demo.case_folder, demo.public_key)
    assert good.pop("banner").startswith("verified")
    assert set(good) >= {"signature", "statement", "subject", "policy", "results", "verdict"}
    assert set(good.values()) == {"pass"}

    wrong_key = verify_in_browser(page, base, demo.case_folder, demo.other_public_key)
    assert wrong_key["banner"].startswith("NOT verified") and wrong_key["signature"] == "FAIL"

    tampered = verify_in_browser(page, base, tampered_copy(demo), demo.public_key)
    assert tampered["banner"].startswith("NOT verified")
    assert tampered["signature"] == "FAIL" and tampered["verdict"] == "FAIL"


def test_case_downloads_are_the_files_and_nothing_else(base: str, demo: Demo) -> None:
    from redline.dashboard.artefacts import artefact_id

    case = f"{base}/cases/{artefact_id(demo.case_folder)}"
    got = httpx.get(f"{case}/files/case.dsse.json")
    assert got.status_code == 200
    assert got.content == (demo.case_folder / "case.dsse.json").read_bytes()
    assert "attachment" in got.headers["content-disposition"]
    for name in ("policy.yaml", "..%2Fredline.db", "redteam%2Freport.json"):
        assert httpx.get(f"{case}/files/{name}").status_code == 404


def test_a_blocked_request_hides_content_its_policy_did_not_store(
    page: Any, base: str, demo: Demo
) -> None:
    page.goto(f"{base}/traffic")
    assert page.inner_text("#requests").strip() == "42"
    assert "weapons" in page.inner_text("#blocks") and "cusum" in page.inner_text("#alerts")
    page.click(f"#blocks a[href='/traffic/events/{demo.blocked_hidden}']")
    assert page.locator("#content-hidden").is_visible()
    html = page.content()
    assert "pipe bomb" not in html and SECRET not in html
    assert "harmful_request" in page.inner_text("#layers")

    page.goto(f"{base}/traffic/events/{demo.blocked_shown}")
    content = page.inner_text("#content")
    assert "admin password" in content and SECRET not in page.content()  # stored, key hidden

    page.goto(f"{base}/traffic/events/{demo.alert}")
    assert "rate_after" in page.inner_text("body")


def test_no_page_renders_the_secret(base: str, demo: Demo) -> None:
    pages = ["/runs", f"/runs/{demo.run_id}", "/traffic", "/traffic/panel",
             *(f"/traffic/events/{i}" for i in range(1, 45))]
    for path in pages:
        response = httpx.get(f"{base}{path}")
        assert response.status_code in (200, 404) and SECRET not in response.text, path


def test_runs_list_an_eval_series_whose_page_shows_its_jump_and_trend(base: str,
                                                                    demo: Demo) -> None:
    series = json.loads(demo.series_file.read_text())
    [jump] = [f for f in series["flags"] if f["kind"] == "jump"]
    listed = httpx.get(f"{base}/runs", params={"kind": "series"}).text
    [href] = set(re.findall(r'href="(/series/[^"]+)"', listed))
    assert "1 jump(s)" in listed and "8 checkpoints" in listed
    page = httpx.get(base + href)
    assert page.status_code == 200
    flags = page.text.split('id="flags"')[1].split("</table>")[0]
    # The one flagged row names the checkpoint where accuracy leapt, with its message.
    assert flags.count("<tr><td>") == 1 and jump["checkpoint"] == "checkpoint-3200"
    assert f">{jump['checkpoint']}<" in flags and html.escape(jump["message"]) in flags
    assert page.text.count('<div class="plot">') == len(series["trends"]) == 1
    assert "t-arithmetic/accuracy" in page.text and "<svg" in page.text


@pytest.mark.parametrize(("path", "status"), [
    ("/runs/no-such-run", 404),
    ("/runs/{run}/attempts/" + "0" * 64, 404),
    ("/runs/{run}?size=100000", 400),
    ("/runs/{run}?size=-1", 400),
    ("/runs/{run}?outcome=maybe", 400),
    ("/runs/{run}?min_score=abc", 400),
    ("/runs/{run}?min_score=inf", 400),
    ("/runs/{run}?after=1e99", 400),
    ("/runs?kind=nonsense", 400),
    ("/runs?page=0", 400),
    ("/cases/0123456789abcdef", 404),
    ("/cases/0123456789abcdef/files/case.dsse.json", 404),
    ("/evals/x/samples/99", 404),
    ("/series/nothing", 404),
    ("/traffic?minutes=0", 400),
    ("/traffic/events/999999", 404),
    ("/traffic/events/abc", 400),
    ("/nowhere", 404),
])
def test_bad_input_gets_a_plain_4xx_page(base: str, demo: Demo, path: str, status: int) -> None:
    response = httpx.get(base + path.format(run=demo.run_id))
    assert response.status_code == status
    assert "Traceback" not in response.text and 'id="error-message"' in response.text


def test_read_only_and_loopback_only(base: str) -> None:
    assert httpx.post(f"{base}/runs").status_code == 405
    assert httpx.delete(f"{base}/runs").status_code == 405
    # A page elsewhere reaching 127.0.0.1 through DNS rebinding sends its own Host name.
    assert httpx.get(f"{base}/runs", headers={"Host": "evil.example:80"}).status_code == 403
    headers = httpx.get(f"{base}/runs").headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]


def test_a_token_guards_every_page(demo: Demo) -> None:
    token = "t0ken-for-the-dashboard-test"
    with running_dashboard(demo.db_url, demo.folder, "--token", token) as url:
        assert httpx.get(f"{url}/runs").status_code == 401
        assert httpx.get(f"{url}/runs", headers={"Authorization": "Bearer nope"}).status_code == 401
        bearer = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{url}/runs", headers=bearer).status_code == 200
        with httpx.Client(follow_redirects=True) as client:
            signed_in = client.get(f"{url}/runs?token={token}&kind=redteam")
            assert signed_in.status_code == 200 and token not in str(signed_in.url)
            assert client.get(f"{url}/traffic").status_code == 200  # the cookie now


@pytest.mark.parametrize(("args", "says", "lines"), [
    (["--host", "0.0.0.0"], "--token", 1),
    (["--host", "0.0.0.0", "--token", "short"], "16 characters", 1),
    (["--dir", "/no/such/folder"], "not a folder", 1),
    (["--host", "192.0.2.1", "--token", "a-long-enough-token-1234"], "Cannot listen", 1),
    (["--port", "70000"], "65535", 6),  # typer's own usage message
])
def test_cli_bad_input_is_short_and_nonzero(args: list[str], says: str, lines: int) -> None:
    done = subprocess.run([sys.executable, "-m", "redline", "dashboard", *args],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and says in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) <= lines


def test_without_a_store_the_case_files_still_show_and_no_store_is_made(
    demo: Demo, tmp_path: Path
) -> None:
    missing = tmp_path / "no-store-here" / "redline.db"
    with running_dashboard(f"sqlite:///{missing}", demo.folder) as url:
        listed = httpx.get(f"{url}/runs").text
        assert "mock:refuser" in listed and "/cases/" in listed
    assert not missing.exists() and not missing.parent.exists()

PARAMS = ("kind", "q", "status", "page", "size", "outcome", "category", "attack", "transform",
          "scorer", "min_score", "max_score", "after", "minutes", "token")


def test_fuzzed_query_parameters_never_give_a_500(base: str, demo: Demo) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from redline.dashboard.artefacts import artefact_id

    case = artefact_id(demo.case_folder)
    paths = st.sampled_from([
        "/runs", f"/runs/{demo.run_id}", "/traffic", "/traffic/panel",
        f"/cases/{case}/results/0", f"/cases/{case}/results/0/samples/3", "/runs/{text}",
        f"/runs/{demo.run_id}/attempts/{{text}}", "/cases/{text}", "/traffic/events/{text}",
        f"/cases/{case}/files/{{text}}", "/series/{text}", "/evals/{text}/samples/{text}",
    ])
    values = st.one_of(
        st.text(max_size=40), st.integers(-2**70, 2**70).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(str),
        st.sampled_from(["", "0", "-1", "200", "201", "1e308", "success", "base64", "redteam",
                         "audit", "%", "_", "'", "\x00", "../../etc/passwd"]),
    )
    client = httpx.Client(base_url=base, timeout=30)

    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(paths, st.dictionaries(st.sampled_from(PARAMS), values, max_size=5),
           st.text(min_size=1, max_size=30))
    def check(path: str, params: dict[str, str], segment: str) -> None:
        response = client.get(path.replace("{text}", quote(segment, safe="")), params=params)
        assert response.status_code < 500, (path, params, segment, response.text[:300])
        assert "Traceback" not in response.text

    try:
        check()
    finally:
        client.close()


def test_the_same_pages_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    demo = build(tmp_path / "pg", db_url=pg_url)
    report = stored_report(demo)
    with running_dashboard(demo.db_url, demo.folder) as url:
        run = httpx.get(f"{url}/runs/{demo.run_id}?outcome=success&transform=base64")
        assert run.status_code == 200
        assert f"{report.asr.successes}/{report.asr.n}" in run.text
        shown = run.text.count('class="mono attempt-link"')
        assert shown == report.by_transform["base64"].successes
        traffic = httpx.get(f"{url}/traffic")
        assert traffic.status_code == 200 and 'id="requests">42<' in traffic.text
        blocked = httpx.get(f"{url}/traffic/events/{demo.blocked_hidden}").text
        assert 'id="content-hidden"' in blocked and SECRET not in blocked
        assert httpx.get(f"{url}/runs/{demo.run_id}?min_score=0.5&max_score=1").status_code == 200
