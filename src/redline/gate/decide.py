"""The gate: a pure function from policy + eval results + safeguards to a verdict with reasons.

Each threshold's evals are assessed against the evidence:

- **missing** — no result for the suite;
- **failed** — the result failed, lacks the metric, or has fewer samples than required;
- **stale** — the suite version is not the one required, the result is older than the
  policy's ``max_result_age_days``, or it was run on other model files;
- otherwise **ruled out**, **ruled in** or **not ruled out** from the metric's 95%
  interval (see :mod:`redline.policy.release`); the last two count as crossed.

A threshold with an ``assurance`` requirement (a hidden behaviour a search looks for) whose
evals are all on the safe side is **ruled out** only when the assurance table's measured
recall for each of its classes, at the evidence's search budget, meets the requirement;
otherwise it is **not found**: "not found (assurance R [low, high] for CLASS within
BUDGET)" or "not found (assurance not measured for CLASS within BUDGET)". An assurance that
``reads: judge`` (a rate read by a judge that can miss cases) looks up the judge's measured
recall the same way, and also needs each rate's upper bound divided by the recall's lower
bound to lie below rule-out; otherwise the threshold is "not ruled out (judge recall ...)".

The verdict, by precedence:

1. ``NO_GO`` — a crossed threshold says ``no_go``, or demands a safeguard level whose
   safeguards are not all in place; or a not-found threshold's policy says ``no_go`` when
   the assurance is unmet, or demands safeguards that are not in place;
2. ``INCONCLUSIVE`` — some threshold lacks valid evidence (missing, failed or stale), or
   is not found under a policy that says ``inconclusive`` for that; it never releases;
3. ``GO_WITH_SAFEGUARDS`` — some threshold is crossed and every safeguard it demands is
   in place, or some threshold is not found with an unmet assurance (by default);
4. ``GO`` — every threshold is ruled out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from redline.evals.results import EvalResult, MetricValue
from redline.policy.assurance import AssuranceTable
from redline.policy.release import (
    AssuranceRequirement,
    EvalRequirement,
    GuardRequirement,
    MonitoringRequirement,
    NamedRequirement,
    RedTeamRequirement,
    ReleasePolicy,
    SafeguardRequirement,
    Threshold,
)

Decision = Literal["GO", "GO_WITH_SAFEGUARDS", "NO_GO", "INCONCLUSIVE"]
EvalStatus = Literal["missing", "failed", "stale", "ruled_out", "ruled_in", "not_ruled_out"]
ThresholdStatus = Literal["ruled_out", "not_found", "crossed", "inconclusive"]
ReasonCode = Literal[
    "crossed_no_go",
    "crossed_missing_safeguards",
    "not_found",
    "crossed_safeguarded",
    "missing_evidence",
    "failed_evidence",
    "stale_evidence",
    "ruled_out",
]

RELEASES: frozenset[str] = frozenset({"GO", "GO_WITH_SAFEGUARDS"})


class Safeguards(BaseModel):
    """The safeguards in place for this release, as declared by the people shipping it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    guard_layers: list[str] = Field(default_factory=list)
    monitoring: bool = False
    redteam_passed: bool = False
    named: list[str] = Field(default_factory=list)

    def satisfies(self, requirement: SafeguardRequirement) -> bool:
        """Whether one requirement is met."""
        if isinstance(requirement, GuardRequirement):
            return set(requirement.layers) <= set(self.guard_layers)
        if isinstance(requirement, MonitoringRequirement):
            return self.monitoring
        if isinstance(requirement, RedTeamRequirement):
            return self.redteam_passed
        if isinstance(requirement, NamedRequirement):
            return requirement.name in self.named
        raise TypeError(f"unknown safeguard requirement {requirement!r}")


def describe_requirement(requirement: SafeguardRequirement) -> str:
    """A safeguard requirement in words."""
    if isinstance(requirement, GuardRequirement):
        return f"guard with layers {', '.join(requirement.layers)}"
    if isinstance(requirement, MonitoringRequirement):
        return "monitoring of deployed traffic"
    if isinstance(requirement, RedTeamRequirement):
        return "a passed red-team exercise"
    return f"safeguard '{requirement.name}'"


class EvalAssessment(BaseModel):
    """How one required eval metric stands against its rule-out and rule-in values."""

    model_config = ConfigDict(frozen=True)

    suite: str
    metric: str
    status: EvalStatus
    value: float | None = None
    low: float | None = None
    high: float | None = None
    n: int | None = None
    rule_out: float
    rule_in: float
    direction: str
    detail: str


class ClassAssurance(BaseModel):
    """The measured recall of the search on one class of hidden behaviour, or its absence."""

    model_config = ConfigDict(frozen=True)

    behaviour: str
    measured: bool
    recall: float | None = None
    low: float | None = None
    high: float | None = None
    organisms: int | None = None
    population: str | None = None
    met: bool
    text: str
    """``assurance R [low, high] for CLASS`` or ``assurance not measured for CLASS``."""


class AssuranceAssessment(BaseModel):
    """Whether the search behind a threshold is sure enough for "ruled out"."""

    model_config = ConfigDict(frozen=True)

    required: float
    bound: str
    when_unmet: str
    budget: str
    """The evidence's search budget in words (``5000 trigger queries, ...``)."""
    classes: list[ClassAssurance]
    elsewhere: str = ""
    """For unmeasured classes with entries in other profiles only: `` on PROFILE-profile
    evidence (measured only in OTHER)``."""
    reads: str = "search"
    """``search`` or ``judge`` (:class:`redline.policy.release.AssuranceRequirement`)."""
    corrected: list[str] = Field(default_factory=list)
    """For a judge: each measured reading's upper bound once the judge's misses are counted,
    in words."""
    corrected_ok: bool = True
    """For a judge: the readings that vouch rule the threshold out."""

    @property
    def met(self) -> bool:
        """True when every class meets the requirement (a judge: ``corrected_ok``)."""
        return self.corrected_ok if self.reads == "judge" else all(c.met for c in self.classes)

    def describe(self) -> str:
        """``assurance ... for CLASS within BUDGET``, unmeasured classes grouped.

        For a judge: ``judge recall ... for CLASS``, then the corrected bounds.
        """
        unmeasured = [c.behaviour for c in self.classes if not c.measured]
        within = "" if self.reads == "judge" else f" within {self.budget}"
        parts = [f"{c.text}{within}" for c in self.classes if c.measured]
        if unmeasured:
            what = "judge recall" if self.reads == "judge" else "assurance"
            parts.append(f"{what} not measured for {', '.join(unmeasured)}"
                         f"{self.elsewhere}{within}")
        return "; ".join(parts + self.corrected)


class ThresholdAssessment(BaseModel):
    """One threshold's state and the evals behind it."""

    model_config = ConfigDict(frozen=True)

    domain: str
    threshold: str
    status: ThresholdStatus
    response: str
    level: str | None = None
    missing_safeguards: list[str] = Field(default_factory=list)
    evals: list[EvalAssessment]
    assurance: AssuranceAssessment | None = None


class Reason(BaseModel):
    """One reason behind the verdict, in words, with what it is about."""

    model_config = ConfigDict(frozen=True)

    code: ReasonCode
    domain: str
    threshold: str
    message: str


class Verdict(BaseModel):
    """The gate's decision, the reasons for it and every threshold's assessment."""

    model_config = ConfigDict(frozen=True)

    decision: Decision
    releases: bool
    reasons: list[Reason]
    thresholds: list[ThresholdAssessment]
    policy_name: str
    policy_version: str
    policy_digest: str
    decided_at: datetime
    assurance_version: str | None = None
    assurance_digest: str | None = None
    """The assurance table the verdict was decided with (None: no threshold needed one)."""


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def assess_eval(
    requirement: EvalRequirement,
    results: Sequence[EvalResult],
    *,
    now: datetime,
    max_age: timedelta,
    model_digest: str | None,
) -> EvalAssessment:
    """Assess one required eval metric against the evidence (newest matching result wins)."""
    def assessed(
        status: EvalStatus, detail: str, metric: MetricValue | None = None
    ) -> EvalAssessment:
        return EvalAssessment(
            suite=requirement.suite,
            metric=requirement.metric,
            status=status,
            value=metric.value if metric else None,
            low=metric.low if metric else None,
            high=metric.high if metric else None,
            n=metric.n if metric else None,
            rule_out=requirement.rule_out,
            rule_in=requirement.rule_in,
            direction=requirement.direction,
            detail=detail,
        )

    candidates = sorted(
        (r for r in results if r.suite == requirement.suite),
        key=lambda r: r.finished_at,
        reverse=True,
    )
    if not candidates:
        return assessed("missing", f"no result for suite '{requirement.suite}'")
    result = candidates[0]
    if not requirement.accepts_version(result.suite_version):
        return assessed(
            "stale",
            f"suite version {result.suite_version} is not the required {requirement.version}",
        )
    if model_digest is not None and result.model_digest not in (None, model_digest):
        return assessed("stale", "the result was run on different model files")
    age = now - result.finished_at
    if age > max_age:
        return assessed(
            "stale",
            f"the result is {age.days} days old; the policy accepts {max_age.days} days at most",
        )
    if result.status != "ok":
        return assessed("failed", f"the run failed: {result.error}")
    metric = result.metrics.get(requirement.metric)
    if metric is None or not metric.defined:
        return assessed("failed", f"the result has no value for metric '{requirement.metric}'")
    assert metric.value is not None and metric.low is not None and metric.high is not None
    if metric.n < requirement.min_samples:
        return assessed(
            "failed",
            f"{metric.n} samples; the policy needs at least {requirement.min_samples}",
            metric,
        )
    interval = f"{_fmt(metric.value)} [{_fmt(metric.low)}, {_fmt(metric.high)}]"
    if requirement.direction == "higher_is_worse":
        ruled_out = metric.high < requirement.rule_out
        ruled_in = metric.low >= requirement.rule_in
        out_side, in_side = "below", "at or above"
    else:
        ruled_out = metric.low > requirement.rule_out
        ruled_in = metric.high <= requirement.rule_in
        out_side, in_side = "above", "at or below"
    if ruled_out:
        return assessed(
            "ruled_out", f"{interval} lies {out_side} rule-out {requirement.rule_out}", metric
        )
    if ruled_in:
        return assessed("ruled_in", f"{interval} lies {in_side} rule-in {requirement.rule_in}",
                        metric)
    return assessed(
        "not_ruled_out",
        f"{interval} cannot rule out crossing (rule-out {requirement.rule_out}); "
        "counted as crossed",
        metric,
    )


_CROSSED = {"ruled_in", "not_ruled_out"}
_INVALID: dict[str, ReasonCode] = {
    "missing": "missing_evidence",
    "failed": "failed_evidence",
    "stale": "stale_evidence",
}


def _threshold_status(threshold: Threshold, evals: Sequence[EvalAssessment]) -> ThresholdStatus:
    statuses = [e.status for e in evals]
    if threshold.crossed_when == "any":
        if any(s in _CROSSED for s in statuses):
            return "crossed"
        if any(s in _INVALID for s in statuses):
            return "inconclusive"
        return "ruled_out"
    if any(s == "ruled_out" for s in statuses):
        return "ruled_out"
    if any(s in _INVALID for s in statuses):
        return "inconclusive"
    return "crossed"


def budget_text(result: EvalResult | None, suite: str) -> str:
    """The search budget behind a result, in words."""
    if result is None:
        return f"no {suite} result"
    if result.budget:
        # Sorted: a signed case stores canonical JSON, so the order must not depend on it.
        return ", ".join(f"{v:g} {k.replace('_', ' ')}" for k, v in sorted(result.budget.items()))
    n = max((m.n for m in result.metrics.values()), default=0)
    return f"the fixed {suite} {result.suite_version} suite ({n} items)"


def assess_assurance(
    requirement: AssuranceRequirement,
    threshold: Threshold,
    results: Sequence[EvalResult],
    table: AssuranceTable,
    evals: Sequence[EvalAssessment] = (),
) -> AssuranceAssessment:
    """Look up the search's (or judge's) measured recall for each class the threshold names.

    For a judge (``reads: judge``), each of ``evals``' upper bounds is divided by the lower
    bound of the recall of the judge class its requirement names: a judge that catches at
    least a share r of the cases lets a read rate of at most h hide a true rate of at most
    h / r. A reading vouches when its class meets the requirement and its corrected bound
    lies below rule-out; the threshold needs every reading to (``crossed_when: any``) or one
    (``all``).
    """
    suite = threshold.evals[0].suite
    newest = max((r for r in results if r.suite == suite), key=lambda r: r.finished_at,
                 default=None)
    budget = dict(newest.budget) if newest is not None else {}
    profile = newest.profile if newest is not None else None
    classes = []
    for behaviour in requirement.classes:
        entry = table.lookup(behaviour, suite, budget, profile)
        if entry is None:
            what = "judge recall" if requirement.reads == "judge" else "assurance"
            classes.append(ClassAssurance(
                behaviour=behaviour, measured=False, met=False,
                text=f"{what} not measured for {behaviour}"))
            continue
        recall, low, high = entry.interval()
        reached = low if requirement.bound == "lower" else recall
        text = f"assurance {recall:.2f} [{low:.2f}, {high:.2f}] for {behaviour}"
        if requirement.reads == "judge":
            text = (f"judge recall {recall:.2f} [{low:.2f}, {high:.2f}] for {behaviour} "
                    f"({entry.detected} of {entry.organisms} read on {profile} answers)")
        classes.append(ClassAssurance(
            behaviour=behaviour, measured=True, recall=recall, low=low, high=high,
            organisms=entry.organisms, population=entry.population,
            met=reached >= requirement.required, text=text))
    unmeasured = {c.behaviour for c in classes if not c.measured}
    # A class measured only in another profile says so: the entry exists, not for this model.
    others = sorted({e.profile for e in table.entries
                     if e.behaviour in unmeasured and e.profile != profile})
    elsewhere = (f" on {profile or 'unnamed'}-profile evidence (measured only in "
                 f"{', '.join(others)})" if others else "")
    corrected: list[str] = []
    corrected_ok = True
    if requirement.reads == "judge":
        by_class = {c.behaviour: c for c in classes}
        oks = []
        for wanted, e in zip(threshold.evals, evals, strict=bool(evals)):
            judged = by_class[wanted.judge or ""]
            if not judged.measured or e.high is None:
                oks.append(False)
                continue
            low = judged.low or 0.0
            bound = min(1.0, e.high / low) if low > 0 else 1.0
            oks.append(judged.met and e.status == "ruled_out" and bound < e.rule_out)
            corrected.append(f"{e.suite}/{e.metric} up to {bound:.3f} once the judge's misses "
                             f"are counted (rule-out {e.rule_out:g})")
        # Without the evals' assessments nothing is vouched for.
        corrected_ok = bool(oks) and (any(oks) if threshold.crossed_when == "all" else all(oks))
    return AssuranceAssessment(
        required=requirement.required, bound=requirement.bound,
        when_unmet=requirement.when_unmet, budget=budget_text(newest, suite), classes=classes,
        elsewhere=elsewhere, reads=requirement.reads, corrected=corrected,
        corrected_ok=corrected_ok)


def decide(
    policy: ReleasePolicy,
    results: Sequence[EvalResult],
    safeguards: Safeguards | None = None,
    *,
    now: datetime,
    model_digest: str | None = None,
    assurance: AssuranceTable | None = None,
) -> Verdict:
    """The verdict of ``policy`` on ``results`` with ``safeguards`` in place.

    Pure: the same arguments always give the same verdict (``now`` is an argument so a
    verifier can recompute a past decision).

    Args:
        policy: the release policy.
        results: eval results (the newest per suite is used).
        safeguards: what is in place; none when omitted.
        now: the decision time (staleness is measured from it).
        model_digest: sha256 of the model's files; results run on other files are stale.
        assurance: the measured recalls of the searches behind hidden-behaviour thresholds
            (None: an empty table, so no such threshold is ruled out).
    """
    in_place = safeguards or Safeguards()
    table = assurance or AssuranceTable(version="none", measured_on="no table given")
    needs_table = any(t.assurance for d in policy.domains for t in d.thresholds)
    max_age = timedelta(days=policy.max_result_age_days)
    assessments: list[ThresholdAssessment] = []
    reasons: list[Reason] = []
    for domain in policy.domains:
        for threshold in domain.thresholds:
            evals = [
                assess_eval(r, results, now=now, max_age=max_age, model_digest=model_digest)
                for r in threshold.evals
            ]
            status = _threshold_status(threshold, evals)
            sureness: AssuranceAssessment | None = None
            if threshold.assurance is not None and status == "ruled_out":
                sureness = assess_assurance(threshold.assurance, threshold, results, table,
                                            evals)
                if not sureness.met:
                    status = "not_found"
            level = threshold.level
            if status == "not_found" and threshold.assurance is not None:
                level = threshold.assurance.level
            missing: list[str] = []
            if status in ("crossed", "not_found") and level is not None:
                missing = [
                    describe_requirement(req)
                    for req in policy.requirements_for(level)
                    if not in_place.satisfies(req)
                ]
            assessments.append(
                ThresholdAssessment(
                    domain=domain.id, threshold=threshold.id, status=status,
                    response=threshold.response, level=threshold.level,
                    missing_safeguards=missing, evals=evals, assurance=sureness,
                )
            )
            reasons.extend(_reasons(domain.id, threshold, status, evals, missing, sureness))

    decision = _decision(assessments)
    order = {code: i for i, code in enumerate(_REASON_ORDER)}
    reasons.sort(key=lambda r: order[r.code])
    return Verdict(
        decision=decision,
        releases=decision in RELEASES,
        reasons=reasons,
        thresholds=assessments,
        policy_name=policy.name,
        policy_version=policy.version,
        policy_digest=policy.digest(),
        decided_at=now,
        assurance_version=table.version if needs_table else None,
        assurance_digest=table.digest() if needs_table else None,
    )


_REASON_ORDER: tuple[ReasonCode, ...] = (
    "crossed_no_go",
    "crossed_missing_safeguards",
    "missing_evidence",
    "failed_evidence",
    "stale_evidence",
    "not_found",
    "crossed_safeguarded",
    "ruled_out",
)


def _decision(assessments: Sequence[ThresholdAssessment]) -> Decision:
    crossed = [a for a in assessments if a.status == "crossed"]
    unsure = [a for a in assessments if a.status == "not_found" and a.assurance is not None]
    if any(a.response == "no_go" or a.missing_safeguards for a in crossed):
        return "NO_GO"
    if any(a.assurance.when_unmet == "no_go" or a.missing_safeguards  # type: ignore[union-attr]
           for a in unsure):
        return "NO_GO"
    if any(a.status == "inconclusive" for a in assessments) or any(
            a.assurance.when_unmet == "inconclusive" for a in unsure):  # type: ignore[union-attr]
        return "INCONCLUSIVE"
    if crossed or unsure:
        return "GO_WITH_SAFEGUARDS"
    return "GO"


def _reasons(
    domain: str,
    threshold: Threshold,
    status: ThresholdStatus,
    evals: Sequence[EvalAssessment],
    missing: Sequence[str],
    sureness: AssuranceAssessment | None = None,
) -> list[Reason]:
    def about(e: EvalAssessment) -> str:
        return f"{e.suite}/{e.metric}: {e.detail}"

    where = {"domain": domain, "threshold": threshold.id}
    if status == "not_found" and sureness is not None:
        searched = "; ".join(about(e) for e in evals)
        bar = (f"{'the lower bound of ' if sureness.bound == 'lower' else ''}a measured "
               f"recall of {sureness.required:g}")
        if sureness.reads == "judge":
            # A rate read by a judge that may miss cases: not "not found", not ruled out.
            searched = searched.replace(" lies below ", " as the judge reads it, below ").replace(
                "; counted as crossed", "")
            bar = (f"{bar} for a reading's judge, and that reading's rate below its rule-out "
                   "once the judge's misses are counted")
        allows = {
            "safeguards": "the policy allows GO_WITH_SAFEGUARDS while the gap is open",
            "inconclusive": "the policy says INCONCLUSIVE while the gap is open",
            "no_go": "the policy says NO_GO while the gap is open",
        }[sureness.when_unmet]
        level = threshold.assurance.level if threshold.assurance else None
        if missing:
            allows += f", and level '{level}' safeguards are missing: {', '.join(missing)}"
        elif level is not None:
            allows += f", with level '{level}' safeguards in place"
        if sureness.reads == "judge":
            return [Reason(
                code="not_found",
                message=f"{threshold.id} not ruled out ({sureness.describe()}): {searched}. "
                f"The policy needs {bar}; {allows}",
                **where,
            )]
        return [Reason(
            code="not_found",
            message=f"{threshold.id} not found ({sureness.describe()}): {searched}. Not ruled "
            f"out: the policy needs {bar} on each class; {allows}",
            **where,
        )]
    if status == "crossed":
        crossed = "; ".join(about(e) for e in evals if e.status in _CROSSED)
        if threshold.response == "no_go":
            return [Reason(code="crossed_no_go", message=f"{threshold.id} crossed: {crossed}",
                           **where)]
        if missing:
            return [Reason(
                code="crossed_missing_safeguards",
                message=f"{threshold.id} crossed ({crossed}) and level '{threshold.level}' "
                f"safeguards are missing: {', '.join(missing)}",
                **where,
            )]
        return [Reason(
            code="crossed_safeguarded",
            message=f"{threshold.id} crossed ({crossed}); level '{threshold.level}' "
            "safeguards are in place",
            **where,
        )]
    if status == "inconclusive":
        return [
            Reason(code=_INVALID[e.status], message=f"{threshold.id}: {about(e)}", **where)
            for e in evals
            if e.status in _INVALID
        ]
    ruled = "; ".join(about(e) for e in evals if e.status == "ruled_out")
    if sureness is not None:
        return [Reason(code="ruled_out", message=f"{threshold.id} ruled out "
                       f"({sureness.describe()}, required {sureness.required:g}): {ruled}",
                       **where)]
    return [Reason(code="ruled_out", message=f"{threshold.id} ruled out: {ruled}", **where)]
