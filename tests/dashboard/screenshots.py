"""Take the screenshots in docs/dashboard.md with headless Chromium.

    python -m tests.dashboard.screenshots [OUT_DIR]

Builds the demo store and case (:mod:`tests.dashboard.data`) in a temporary folder,
starts ``redline dashboard`` on it, and walks the pages a user would: runs, a run, one
attempt, the safety case, its verification, guarded traffic and a blocked request.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from tests.dashboard.data import build
from tests.dashboard.server import CHROMIUM, running_dashboard

OUT = Path("docs/images/dashboard")


def main(out: Path) -> None:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        demo = build(Path(tmp) / "demo")
        with running_dashboard(demo.db_url, demo.folder) as base, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM)
            page = browser.new_page(viewport={"width": 1280, "height": 900})

            def shot(name: str, full: bool = True) -> None:
                page.screenshot(path=str(out / f"{name}.png"), full_page=full)

            page.goto(f"{base}/runs")
            shot("runs")
            page.click(f"a[href='/runs/{demo.run_id}']")
            shot("run")
            page.select_option("select[name=outcome]", "success")
            page.click("#attempt-filters button")
            page.click("a.attempt-link >> nth=0")
            shot("attempt")
            page.goto(f"{base}/runs?kind=audit")
            page.click("#runs a >> nth=0")
            shot("case")
            page.fill("textarea[name=public_key]", demo.public_key.read_text())
            page.click("#verify")
            shot("verify")
            page.goto(f"{base}/traffic")
            shot("traffic")
            page.goto(f"{base}/traffic/events/{demo.blocked_hidden}")
            shot("blocked")
            browser.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
