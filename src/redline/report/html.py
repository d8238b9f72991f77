"""Self-contained HTML reports: one file, inline CSS and SVG, no script, no network."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

from redline.attest.case import SafetyCase, VerifyReport
from redline.evals.results import EvalResult
from redline.evals.series import SeriesResult
from redline.report.svg import interval_chart, trend_plot

_CSS = """
body{font-family:-apple-system,BlinkMacSystemFont,"Segoe UI",Helvetica,Arial,sans-serif;
color:#1f2933;margin:0;background:#f5f7fa}
main{max-width:980px;margin:0 auto;padding:24px 28px 48px;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 10px;border-bottom:1px solid
#e4e7eb;padding-bottom:4px}
.meta{color:#52606d;font-size:13px}.mono{font-family:ui-monospace,Menlo,Consolas,monospace;
font-size:12px;word-break:break-all}
.verdict{margin:18px 0;padding:16px 18px;border-radius:8px;color:#fff;font-size:15px}
.verdict strong{font-size:26px;letter-spacing:.5px;display:block;margin-bottom:4px}
.GO{background:#15803d}.GO_WITH_SAFEGUARDS{background:#b45309}.NO_GO{background:#b91c1c}
.INCONCLUSIVE{background:#475569}
table{border-collapse:collapse;width:100%;font-size:13px;margin:6px 0}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #e4e7eb;vertical-align:top}
th{background:#f5f7fa;font-weight:600}
.tag{display:inline-block;background:#eef2ff;color:#3730a3;border-radius:4px;padding:1px 5px;
margin:1px;font-size:11px}
.ok{color:#15803d;font-weight:600}.bad{color:#b91c1c;font-weight:600}
.muted{color:#7b8794}ol.reasons li{margin:4px 0}.plot{display:block;margin:8px 0}
"""


def page(title: str, body: str) -> str:
    """A complete HTML document around ``body``."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head>"
        f"<body><main>{body}</main></body></html>\n"
    )


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A table; cells are HTML already (escape text before passing it)."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def results_table(results: Sequence[EvalResult]) -> str:
    """Every metric of every result with its 95% interval."""
    rows = []
    for r in results:
        status = '<span class="ok">ok</span>' if r.status == "ok" else (
            f'<span class="bad">failed</span> {escape(r.error or "")}'
        )
        for name, m in r.metrics.items():
            rows.append([
                escape(r.suite), escape(r.suite_version), escape(name), _fmt(m.value),
                f"[{_fmt(m.low)}, {_fmt(m.high)}]", str(m.n), status,
            ])
    table = _table(["suite", "version", "metric", "value", "95% CI", "n", "run"], rows)
    described = "".join(
        f"<li><b>{escape(r.suite)}</b>: {escape(r.measures)} <i>Data:</i> {escape(r.data)}</li>"
        for r in results if r.measures or r.data
    )
    return table + (f'<p>What each suite measures, and on what:</p><ul class="suites">'
                    f"{described}</ul>" if described else "")


def series_section(series: SeriesResult) -> str:
    """Flags and one plot per metric."""
    out = []
    jumps = series.jumps
    if jumps:
        items = "".join(f"<li>{escape(f.message)}</li>" for f in jumps)
        out.append(f'<p class="bad">Capability jump(s) flagged:</p><ul class="jumps">{items}</ul>')
    else:
        out.append('<p class="ok">No capability jump flagged.</p>')
    alerted: dict[str, list[int]] = {}
    for flag in series.flags:
        if flag.kind == "alert":
            alerted.setdefault(f"{flag.suite}/{flag.metric}", []).append(flag.step)
    if alerted:
        items = "".join(
            f"<li>{escape(key)}: from step {steps[0]} ({len(steps)} checkpoint(s))</li>"
            for key, steps in alerted.items()
        )
        out.append(f"<p>Alert values not ruled out:</p><ul>{items}</ul>")
    out.extend(trend_plot(t) for t in series.trends)
    return "".join(out)


def render_case_report(
    case: SafetyCase,
    *,
    series: SeriesResult | None = None,
    verification: VerifyReport | None = None,
) -> str:
    """The human report of a safety case."""
    v = case.verdict
    decision = escape(v.decision)
    releases = "releases" if v.releases else "does not release"
    body = [
        "<h1>redline safety case</h1>",
        f'<div class="meta">model <b>{escape(case.model.name)}</b>'
        + (f" &middot; target {escape(case.target)}" if case.target else "")
        + f" &middot; {escape(case.created_at.isoformat())} &middot; redline "
        f"{escape(case.versions.redline)}</div>",
        f'<div class="meta mono">subject sha256 {escape(case.model.sha256)}</div>',
        f'<div class="verdict {decision}" id="verdict"><strong>{decision.replace("_", " ")}'
        f"</strong>The policy {releases} this model. Policy <b>{escape(v.policy_name)}</b> "
        f'{escape(v.policy_version)} &middot; <span class="mono">{escape(v.policy_digest)}'
        "</span></div>",
        "<h2>Reasons</h2>",
        '<ol class="reasons" id="reasons">'
        + "".join(f"<li><b>{escape(r.code.replace('_', ' '))}</b> &middot; "
                  f"{escape(r.domain)}: {escape(r.message)}</li>" for r in v.reasons)
        + "</ol>",
        (f'<p class="muted" id="assurance">Hidden behaviours were decided with '
         f"{escape(case.assurance.cite())}.</p>" if case.assurance is not None
         and v.assurance_digest is not None else ""),
        "<h2>Thresholds</h2>",
        _table(
            ["domain", "threshold", "status", "response", "missing safeguards"],
            [[escape(t.domain), escape(t.threshold), escape(t.status), escape(t.response)
              + (f" ({escape(t.level)})" if t.level else ""),
              escape(", ".join(t.missing_safeguards)) or '<span class="muted">none</span>']
             for t in v.thresholds],
        ),
        interval_chart([e for t in v.thresholds for e in t.evals]),
        "<h2>Eval results</h2>",
        results_table(case.results),
    ]
    if series is not None:
        body += ["<h2>Checkpoint series</h2>", series_section(series)]
    body.append("<h2>Findings</h2>")
    if case.findings:
        body.append(_table(
            ["severity", "finding", "counted by the policy", "tags", "evidence"],
            [[escape(f.severity), escape(f.title),
              "yes" if f.counted else f"not counted: {escape(f.not_counted)}"
              if f.counted is False and f.not_counted else "not recorded",
              "".join(f'<span class="tag">{escape(t)}</span>' for t in f.tags),
              "<br>".join(escape(e) for e in f.evidence)] for f in case.findings],
        ))
    else:
        body.append('<p class="muted">No findings.</p>')
    s = case.safeguards
    body += [
        "<h2>Safeguards declared</h2>",
        _table(["safeguard", "in place"], [
            ["guard layers", escape(", ".join(s.guard_layers)) or "none"],
            ["monitoring", "yes" if s.monitoring else "no"],
            ["red team passed", "yes" if s.redteam_passed else "no"],
            ["other", escape(", ".join(s.named)) or "none"],
        ]),
    ]
    if verification is not None:
        body += ["<h2>Verification</h2>", _table(
            ["check", "result", "detail"],
            [[escape(c.name), '<span class="ok">pass</span>' if c.ok
              else '<span class="bad">FAIL</span>', escape(c.detail)]
             for c in verification.checks],
        )]
    versions = ", ".join(f"{k} {v}" for k, v in sorted(case.versions.suites.items()))
    body.append(f'<p class="meta">Suites: {escape(versions) or "none"}. Check this case with '
                "<code>redline verify case.dsse.json --key KEY.pub --model PATH</code>.</p>")
    return page(f"redline safety case: {v.decision} for {case.model.name}", "".join(body))


def render_series_report(series: SeriesResult) -> str:
    """The report of a checkpoint series: flags, plots and the values per checkpoint."""
    body = [
        "<h1>redline checkpoint series</h1>",
        f'<div class="meta">{len(series.checkpoints)} checkpoints &middot; fitted against '
        f"{escape(series.axis)} &middot; {escape(series.created_at.isoformat())}</div>",
        series_section(series),
        "<h2>Values per checkpoint</h2>",
    ]
    for t in series.trends:
        body.append(f"<h3>{escape(t.key)}</h3>")
        body.append(_table(
            ["checkpoint", "step", "value", "95% CI", "predicted (95% PI)", "flag"],
            [[escape(p.checkpoint), str(p.step), _fmt(p.value), f"[{_fmt(p.low)}, {_fmt(p.high)}]",
              (f"{_fmt(p.predicted)} [{_fmt(p.predicted_low)}, {_fmt(p.predicted_high)}]"
               if p.predicted is not None else '<span class="muted">-</span>'),
              (f'<span class="bad">jump {escape(p.jump)}</span>' if p.jump else "")
              + (' <span class="bad">alert</span>' if p.alert else "")]
             for p in t.points],
        ))
    return page("redline checkpoint series", "".join(body))
