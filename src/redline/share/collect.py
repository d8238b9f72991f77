"""What a bundle shares: the findings of a safety case or of a red-team run, with probes.

A probe reproduces a finding when sending its messages again gets a reply its scorer
labels as the finding's evidence did:

- a red-team finding's probes are its evidence attempts (the exact messages sent, after
  transforms), judged by the run's success scorer;
- a crossed threshold's probes are the samples of the eval result behind it whose label
  made the metric worse (positive for ``higher_is_worse``, negative for
  ``lower_is_worse``), judged by the metric's scorer.

The attempts behind a case's red-team findings are read from the red-team report next to
the case (``redteam/report.json``, as ``redline audit`` writes it) or from the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from redline.attest.findings import Finding, findings_from_redteam
from redline.errors import ConfigError
from redline.redteam.records import AttemptRecord
from redline.redteam.report import RedteamReport
from redline.share.bundle import ProbeDefinition

if TYPE_CHECKING:
    from redline.attest.case import SafetyCase
    from redline.evals.results import EvalResult

CASE_FILE = "case.dsse.json"
REPORT_FILE = "report.json"


@dataclass
class Shared:
    """Findings and the probes that reproduce them, before redaction."""

    source: Literal["case", "run"]
    source_id: str
    target: str
    findings: list[Finding]
    probes: list[ProbeDefinition]
    unreproducible: list[str] = field(default_factory=list)
    """Ids of findings no probe could be made for (their evidence was not found)."""


def collect(source: str, *, max_probes: int = 20) -> Shared:
    """Findings and probes from a case file or folder, a report file or folder, or a run id.

    Raises:
        ConfigError: ``source`` is none of these.
    """
    path = Path(source)
    if path.is_dir() and (path / CASE_FILE).is_file():
        return from_case(path / CASE_FILE, max_probes=max_probes)
    if path.is_file() and path.name.endswith(".dsse.json"):
        return from_case(path, max_probes=max_probes)
    if path.is_dir() and (path / REPORT_FILE).is_file():
        return from_run(_read_report(path / REPORT_FILE), max_probes=max_probes)
    if path.is_file():
        return from_run(_read_report(path), max_probes=max_probes)
    report = _report_for_run(source)
    if report is None:
        raise ConfigError(
            f"'{source}' is not a safety case (case.dsse.json or its folder), a red-team "
            "report (report.json or its folder) or a red-team run id in the store; give one "
            "of those.")
    return from_run(report, max_probes=max_probes)


def from_run(report: RedteamReport, *, max_probes: int = 20) -> Shared:
    """A red-team run's findings, each reproduced by its evidence attempts."""
    findings = findings_from_redteam(report)
    probes, missing = _redteam_probes(findings, {r.key: r for r in report.evidence},
                                      report.success_scorer, max_probes)
    return Shared("run", report.run_id, report.target, findings, probes, missing)


def from_case(path: Path, *, max_probes: int = 20) -> Shared:
    """A safety case's findings: crossed thresholds and red-team findings."""
    from redline.attest.case import load_case
    from redline.attest.dsse import read_envelope

    case = load_case(read_envelope(path))
    probes: list[ProbeDefinition] = []
    missing: list[str] = []
    redteam = [f for f in case.findings if f.source == "redteam"]
    if redteam:
        attempts, scorer = _case_attempts(path.parent, redteam)
        found, lost = _redteam_probes(redteam, attempts, scorer, max_probes)
        probes += found
        missing += lost
    for finding in case.findings:
        if finding.source == "gate":
            found = _threshold_probes(finding, case, max_probes)
            probes += found
            if not found:
                missing.append(finding.id)
        elif finding.source != "redteam":
            missing.append(finding.id)
    return Shared("case", case.model.sha256[:16], case.target or case.model.name,
                  list(case.findings), probes, missing)


def _redteam_probes(findings: Sequence[Finding], attempts: dict[str, AttemptRecord],
                    scorer: str | None, max_probes: int
                    ) -> tuple[list[ProbeDefinition], list[str]]:
    probes: list[ProbeDefinition] = []
    missing: list[str] = []
    for finding in findings:
        shown = [attempts[k] for k in finding.evidence if k in attempts][:max_probes]
        if not shown or scorer is None:
            missing.append(finding.id)
            continue
        probes += [
            ProbeDefinition(
                id=f"{finding.id}:{r.key[:12]}", finding=finding.id, messages=r.messages,
                scorer=scorer, label=True, params=r.params, category=r.category or None,
                goal=r.goal, attack=r.attack, transform=r.transform, tags=r.tags,
                output=r.response)
            for r in shown
        ]
    return probes, missing


def _threshold_probes(finding: Finding, case: SafetyCase, max_probes: int
                      ) -> list[ProbeDefinition]:
    threshold = finding.id.removeprefix("threshold:")
    evals = [e for d in case.policy.domains for t in d.thresholds if t.id == threshold
             for e in t.evals]
    probes: list[ProbeDefinition] = []
    for spec in evals:
        if not any(line.startswith(f"{spec.suite}/{spec.metric}:") for line in finding.evidence):
            continue
        result = next((r for r in case.results if r.suite == spec.suite), None)
        scorer = None if result is None else _metric_scorer(result, spec.metric)
        if result is None or scorer is None:
            continue
        worse = spec.direction == "higher_is_worse"
        shown = [s for s in result.samples
                 if (score := s.scores.get(scorer)) is not None and score.label is worse]
        probes += [
            ProbeDefinition(
                id=f"{finding.id}:{spec.suite}:{s.id}", finding=finding.id,
                messages=s.messages, scorer=scorer, label=worse, params=result.params,
                category=str(s.metadata["category"]) if "category" in s.metadata else None,
                tags=list(finding.tags), output=s.response)
            for s in shown[:max_probes]
        ]
    return probes


def _metric_scorer(result: EvalResult, metric_name: str) -> str | None:
    """The one scorer a result's metric reads.

    From its suite when that is registered here, else the result's only scorer (a suite
    file is not registered in a new process).
    """
    from redline.evals.suite import get_suite

    try:
        suite = get_suite(result.suite)
    except ConfigError:
        names = {s.name for s in result.scorers}
        return names.pop() if len(names) == 1 else None
    metric = next((m for m in suite.metrics
                   if metric_name == m.name or metric_name.startswith(f"{m.name}/")), None)
    return metric.scorers[0] if metric is not None and len(metric.scorers) == 1 else None


def _case_attempts(folder: Path, findings: Sequence[Finding]
                   ) -> tuple[dict[str, AttemptRecord], str | None]:
    """The attempts behind red-team findings of a case, and the run's success scorer."""
    attempts: dict[str, AttemptRecord] = {}
    scorer: str | None = None
    nearby = folder / "redteam" / REPORT_FILE
    reports = [_read_report(nearby)] if nearby.is_file() else []
    run_ids = {f.id.split(":")[1] for f in findings if f.id.count(":") >= 2}
    reports += [r for run_id in sorted(run_ids)
                if all(x.run_id != run_id for x in reports)
                and (r := _report_for_run(run_id)) is not None]
    for report in reports:
        attempts.update({r.key: r for r in report.evidence})
        scorer = scorer or report.success_scorer
    return attempts, scorer


def _read_report(path: Path) -> RedteamReport:
    from pydantic import ValidationError

    try:
        return RedteamReport.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValidationError) as exc:
        raise ConfigError(f"{path} is not a red-team report.json (nor a safety case); give "
                          "what `redline redteam --out` or `redline gate` wrote.") from exc


def _report_for_run(run_id: str) -> RedteamReport | None:
    """A run's report: the default report folder's, else rebuilt from the store."""
    from redline import paths

    saved = paths.home() / "redteam" / run_id / REPORT_FILE
    if saved.is_file():
        return _read_report(saved)
    from redline.redteam.report import build_report
    from redline.store import Store

    store = Store()
    try:
        run = store.get_run(run_id)
        if run is None or run.kind != "redteam":
            return None
        target, status, version = run.target, run.status, run.redline_version
        config = dict(run.config or {})
        records = [AttemptRecord.from_row(row) for row in store.attempts(run_id)]
    finally:
        store.close()
    scorer = config.get("success_scorer")
    return build_report(records, run_id=run_id, target=target, status=status, config=config,
                        success_scorer=str(scorer) if scorer else None, redline_version=version)
