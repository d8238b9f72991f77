"""The watch report: one self-contained HTML file with plots drawn as inline SVG.

No plotting library and no network: the page opens anywhere, offline, and can be mailed.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from redline._version import __version__
from redline.watch.monitor import WatchSnapshot

_COLOURS = ("#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
            "#7f7f7f", "#bcbd22", "#17becf")


def line_chart(
    title: str,
    xs: Sequence[float],
    lines: Mapping[str, Sequence[float]],
    *,
    marks: Sequence[float] = (),
    y_label: str = "",
    width: int = 760,
    height: int = 220,
) -> str:
    """An SVG line chart; ``marks`` are x positions drawn as dashed vertical lines (alerts)."""
    left, right, top, bottom = 56, 150, 24, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for ys in lines.values() for v in ys]
    if not xs or not values:
        return f"<p><em>{html.escape(title)}: no data yet.</em></p>"
    x0, x1 = min(xs), max(xs)
    y1 = max(values) or 1.0
    span_x = (x1 - x0) or 1.0

    def px(x: float) -> float:
        return left + (x - x0) / span_x * plot_w

    def py(y: float) -> float:
        return top + plot_h - y / y1 * plot_h

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'role="img" aria-label="{html.escape(title)}">',
             f'<text x="{left}" y="15" font-size="13" font-weight="bold">{html.escape(title)}'
             "</text>",
             f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
             'stroke="#333"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#333"/>',
             f'<text x="{left - 4}" y="{top + 4}" font-size="10" text-anchor="end">{y1:.3g}'
             "</text>",
             f'<text x="{left - 4}" y="{top + plot_h}" font-size="10" text-anchor="end">0</text>',
             f'<text x="{left}" y="{height - 8}" font-size="10">{x0:g}</text>',
             f'<text x="{left + plot_w}" y="{height - 8}" font-size="10" text-anchor="end">'
             f"{x1:g} requests</text>",
             f'<text x="12" y="{top + plot_h / 2}" font-size="10" transform="rotate(-90 12 '
             f'{top + plot_h / 2})" text-anchor="middle">{html.escape(y_label)}</text>']
    for x in marks:
        if x0 <= x <= x1:
            parts.append(f'<line x1="{px(x):.1f}" y1="{top}" x2="{px(x):.1f}" '
                         f'y2="{top + plot_h}" stroke="#d62728" stroke-dasharray="4 3"/>')
    for i, (name, ys) in enumerate(lines.items()):
        colour = _COLOURS[i % len(_COLOURS)]
        points = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in zip(xs, ys, strict=False))
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.6" '
                     f'points="{points}"/>')
        parts.append(f'<text x="{left + plot_w + 8}" y="{top + 12 + 14 * i}" font-size="11" '
                     f'fill="{colour}">{html.escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_report(snapshot: WatchSnapshot, *, title: str = "redline watch report") -> str:
    """The report page for a snapshot."""
    xs = [float(p["at_request"]) for p in snapshot.series]
    names = sorted({k for p in snapshot.series for k in p["rates"]})
    rate_lines = {n: [float(p["rates"].get(n, 0.0)) for p in snapshot.series] for n in names}
    marks = [float(a.at_request) for a in snapshot.alerts]
    latency = {q: [float(p["latency"].get(q, 0.0)) for p in snapshot.series]
               for q in ("p50", "p95", "p99")}
    charts = [
        line_chart("Rates per metric (per bucket of requests)", xs, rate_lines, marks=marks,
                   y_label="rate"),
        line_chart("Guard latency (ms)", xs, latency, y_label="ms"),
    ]
    if snapshot.drift:
        dx = [d["at_request"] for d in snapshot.drift]
        charts.append(line_chart("Prompt drift: MMD^2 against the reference", dx,
                                 {"MMD^2": [d["mmd2"] for d in snapshot.drift]}, marks=marks))
    alerts = _table(
        ["at request", "detector", "metric", "severity", "message"],
        [(a.at_request, a.detector, a.metric, a.severity, a.message) for a in snapshot.alerts],
    ) if snapshot.alerts else "<p>No alerts.</p>"
    metrics = _table(
        ["metric", "reference rate", "recent rate", "statistic", "threshold", "alerts"],
        [(m.name, f"{m.reference_rate:.4f}", f"{m.current_rate:.4f}", m.statistic, m.threshold,
          m.alerts) for m in snapshot.metrics],
    )
    totals = _table(
        ["requests", "refusal rate", "latency p50 / p95 / p99 (ms)"],
        [(snapshot.requests,
          "n/a" if snapshot.refusal_rate is None else f"{snapshot.refusal_rate:.2%}",
          " / ".join(str(snapshot.latency_ms.get(q, "-")) for q in ("p50", "p95", "p99")))],
    )
    counts = _table(["kind", "name", "requests"],
                    [("action", k, v) for k, v in sorted(snapshot.by_action.items())]
                    + [("category", k, v) for k, v in sorted(snapshot.by_category.items())]
                    + [("client", k, v) for k, v in sorted(snapshot.by_client.items())])
    made = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 980px; color: #222; }}
table {{ border-collapse: collapse; margin: .5em 0 1.5em; font-size: 13px; }}
th, td {{ border: 1px solid #ccc; padding: 3px 8px; text-align: left; }}
th {{ background: #f3f3f3; }} svg {{ display: block; margin: 1em 0; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p>Made {made} by redline {__version__}. Dashed red lines mark alerts.</p>
<h2>Totals</h2>{totals}
<h2>Alerts</h2>{alerts}
<h2>Plots</h2>{"".join(charts)}
<h2>Detectors</h2>{metrics}
<h2>Counts</h2>{counts}
</body></html>
"""


def write_report(snapshot: WatchSnapshot, path: str | Path) -> Path:
    """Write the report page; returns its path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_report(snapshot), encoding="utf-8")
    return out


__all__ = ["line_chart", "render_report", "write_report"]
