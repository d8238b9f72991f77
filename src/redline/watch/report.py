"""The watch report: one self-contained HTML file (``watch.html``) with inline SVG plots.

No plotting library and no network: the page opens anywhere, offline, and can be mailed.
"""

from __future__ import annotations

from pathlib import Path

from redline.report.svg import line_chart
from redline.watch.monitor import WatchSnapshot


def render_report(snapshot: WatchSnapshot, *, title: str = "redline watch report") -> str:
    """The report page for a snapshot."""
    from redline.report.templating import render, svg

    xs = [float(p["at_request"]) for p in snapshot.series]
    names = sorted({k for p in snapshot.series for k in p["rates"]})
    rate_lines = {n: [float(p["rates"].get(n, 0.0)) for p in snapshot.series] for n in names}
    marks = [float(a.at_request) for a in snapshot.alerts]
    latency = {q: [float(p["latency"].get(q, 0.0)) for p in snapshot.series]
               for q in ("p50", "p95", "p99")}
    plots = [
        (line_chart("Rates per metric", xs, rate_lines, marks=marks, y_label="rate"),
         "The rate of each watched metric in each bucket of requests."),
        (line_chart("Guard latency", xs, latency, y_label="ms"),
         "Guard latency percentiles per bucket of requests, in milliseconds."),
    ]
    if snapshot.drift:
        dx = [d["at_request"] for d in snapshot.drift]
        plots.append((line_chart("Prompt drift", dx, {"MMD^2": [d["mmd2"] for d in snapshot.drift]},
                                 marks=marks, y_label="MMD^2"),
                      "Maximum mean discrepancy (squared) of recent prompts against the "
                      "reference."))
    counts = ([("action", k, v) for k, v in sorted(snapshot.by_action.items())]
              + [("category", k, v) for k, v in sorted(snapshot.by_category.items())]
              + [("client", k, v) for k, v in sorted(snapshot.by_client.items())])
    nav = [("#alerts", "Alerts"), ("#plots", "Plots"), ("#detectors", "Detectors")]
    return render("watch.html", title=title, s=snapshot, counts=counts, nav=nav,
                  plots=[(svg(chart), caption) for chart, caption in plots])


def write_report(snapshot: WatchSnapshot, path: str | Path) -> Path:
    """Write the report page; returns its path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_report(snapshot), encoding="utf-8")
    return out


__all__ = ["line_chart", "render_report", "write_report"]
