"""Self-contained HTML reports of safety cases and checkpoint series, from the templates.

One file per report: the stylesheet and SVG plots are inline, nothing is fetched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redline.attest.case import SafetyCase, VerifyReport
from redline.evals.series import SeriesResult
from redline.gate.decide import EvalAssessment
from redline.report.svg import interval_chart, is_difference, trend_plot
from redline.report.templating import render, svg

EXAMPLES_PER_SUITE = 2
"""Transcripts shown per suite in a case report, flagged ones first (all are in the suite's
results file)."""


@dataclass(frozen=True)
class EvidenceLink:
    """A file next to the report: a relative link, its label and what it holds."""

    href: str
    label: str
    note: str = ""


# What an audit (or gate) writes next to report.html, in the order a reader wants it.
_EVIDENCE: tuple[tuple[str, str, str], ...] = (
    ("redteam/report.html", "Red-team report",
     "attack success rates and the transcript of every successful attack"),
    ("redteam/report.json", "Red-team results (JSON)", "every attempt's record"),
    ("trigger-search.json", "Trigger search", "candidate triggers and how each did"),
    ("condition-search.json", "Condition search",
     "conditions tried for lying, sycophancy and harmful compliance"),
    ("internals.json", "Internals evidence", "activation probes and the anomaly detector"),
    ("findings.avid.json", "Findings as AVID reports", ""),
    ("case.dsse.json", "Signed safety case", "verify with redline verify"),
    ("audit.json", "Audit settings", ""),
)


def evidence_links(folder: Path) -> list[EvidenceLink]:
    """Links to the evidence files present in ``folder`` (a case's output folder)."""
    links = [EvidenceLink(href, label, note) for href, label, note in _EVIDENCE
             if (folder / href).is_file()]
    results = folder / "results"
    if results.is_dir():
        links += [EvidenceLink(f"results/{p.name}", f"Results of {p.stem}",
                               "every sample: prompt, answer and scores")
                  for p in sorted(results.glob("*.json"))]
    return links


def _interval_plots(case: SafetyCase) -> list[tuple[Any, str]]:
    """Rates and differences of rates on their own axes; one row per distinct requirement."""
    rows: dict[tuple[str, str, float, float], tuple[str, EvalAssessment]] = {}
    for t in case.verdict.thresholds:
        for e in t.evals:
            rows.setdefault((e.suite, e.metric, e.rule_out, e.rule_in), (t.threshold, e))
    names = [f"{e.suite}/{e.metric}" for _, e in rows.values()]
    labels = [f"{name} ({threshold})" if names.count(name) > 1 else name
              for name, (threshold, _) in zip(names, rows.values(), strict=True)]
    plots = []
    for difference, title, axis, caption in (
        (False, "Rates against the policy", "rate",
         "Each required rate with its 95% interval, against the values that rule it out "
         "(green) and in (red)."),
        (True, "Differences of rates against the policy", "difference of two rates",
         "Metrics that are one rate minus another (for example with a trigger minus "
         "without), on their own axis around zero."),
    ):
        chosen = [(label, e) for label, (_, e) in zip(labels, rows.values(), strict=True)
                  if is_difference(e) == difference]
        if chosen:
            plots.append((svg(interval_chart([e for _, e in chosen],
                                             labels=[label for label, _ in chosen],
                                             title=title, axis_label=axis)), caption))
    return plots


def _trend_plots(series: SeriesResult) -> list[tuple[Any, str]]:
    return [(svg(trend_plot(t)), f"{t.key} across checkpoints: values with 95% intervals, "
             "the one-step-ahead prediction band, jumps in red.") for t in series.trends]


def _alerted(series: SeriesResult) -> dict[str, list[int]]:
    alerted: dict[str, list[int]] = {}
    for flag in series.flags:
        if flag.kind == "alert":
            alerted.setdefault(f"{flag.suite}/{flag.metric}", []).append(flag.step)
    return alerted


def _examples(case: SafetyCase) -> list[dict[str, Any]]:
    out = []
    for r in case.results:
        answered = [s for s in r.samples if s.response is not None]
        # Samples a scorer flagged come first: they are the ones a reader wants to see.
        answered.sort(key=lambda s: -max((v.value or 0.0 for v in s.scores.values()),
                                         default=0.0))
        shown = answered[:EXAMPLES_PER_SUITE]
        for s in shown:
            scores = ", ".join(f"{k}={'n/a' if v.value is None else f'{v.value:.2f}'}"
                               for k, v in s.scores.items())
            out.append({"suite": r.suite, "id": s.id, "messages": s.messages,
                        "response": s.response, "scores": scores})
    return out


def render_case_report(
    case: SafetyCase,
    *,
    series: SeriesResult | None = None,
    verification: VerifyReport | None = None,
    evidence: Sequence[EvidenceLink] = (),
) -> str:
    """The human report of a safety case; ``evidence`` links files next to it."""
    nav = [("#verdict", "Verdict"), ("#thresholds", "Thresholds"), ("#results", "Results"),
           ("#findings", "Findings")]
    if evidence:
        nav.insert(1, ("#evidence", "Evidence"))
    if any(link.href == "redteam/report.html" for link in evidence):
        nav.append(("redteam/report.html", "Red team"))
    return render(
        "case.html", case=case, series=series, verification=verification,
        evidence=list(evidence), interval_plots=_interval_plots(case),
        trend_plots=_trend_plots(series) if series is not None else [],
        alerted=_alerted(series) if series is not None else {},
        examples=_examples(case), nav=nav,
        redteam_report=next((link.href for link in evidence
                             if link.href == "redteam/report.html"), None),
        made_at=case.created_at.strftime("%Y-%m-%d %H:%M UTC"),
    )


def render_series_report(series: SeriesResult) -> str:
    """The report of a checkpoint series: flags, plots and the values per checkpoint."""
    return render("series.html", series=series, trend_plots=_trend_plots(series),
                  alerted=_alerted(series), nav=[("#values", "Values per checkpoint")],
                  made_at=series.created_at.strftime("%Y-%m-%d %H:%M UTC"))
