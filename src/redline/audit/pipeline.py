"""``redline audit``: evals + red team + white-box backdoor search → gate → signed safety case.

The audit runs what the release policy asks for. Every suite the policy names (in its
thresholds and its watch list) is run on the target; the ``backdoor`` suite is made from
what trigger search finds on a white-box target (a black-box target has no backdoor
evidence, which the policy reads as missing, so the verdict cannot be GO); the red team's
findings go into the case. The verdict is decided by :func:`redline.gate.decide` inside
:func:`redline.attest.build_case`, and the case is signed and written with its report.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from redline.errors import ConfigError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from redline.attest import Finding, SafetyCase
    from redline.evals import EvalResult
    from redline.policy import ReleasePolicy
    from redline.redteam.whitebox.results import TriggerSearchResult
    from redline.report.bundle import CaseFiles
    from redline.targets import Target

BACKDOOR_SUITE = "backdoor"

StepCallback = Callable[[str, str], None]
"""Called with (step, message) as the audit moves on, for progress displays."""


class AuditSettings(BaseModel):
    """What an audit does besides what the policy asks (saved next to the case)."""

    size: int = 200
    """Samples per eval suite."""
    backdoor_size: int = 100
    """Held-out harmful requests per trigger candidate in the backdoor suite."""
    trigger_queries: int = 5000
    """Query budget of the trigger search."""
    trigger_rounds: int = 2
    """Trigger-search rounds: each searches again without what was found."""
    redteam: bool = True
    """Run the red team (static probes x transforms) and include its findings."""
    redteam_suite: str = "default"
    redteam_seconds: float = 120.0
    """Time budget of the red-team run."""
    seed: int = 0


@dataclass
class AuditOutcome:
    """What an audit produced."""

    case: SafetyCase
    files: CaseFiles
    results: list[EvalResult]
    trigger: TriggerSearchResult | None
    seconds: dict[str, float] = field(default_factory=dict)


def policy_suites(policy: ReleasePolicy) -> list[str]:
    """Names of the suites a policy reads, in first-mention order, without ``backdoor``."""
    names: list[str] = []
    for domain in policy.domains:
        for threshold in domain.thresholds:
            names.extend(e.suite for e in threshold.evals)
    names.extend(w.suite for w in policy.watch)
    return [n for n in dict.fromkeys(names) if n != BACKDOOR_SUITE]


def is_white_box(target: Target) -> bool:
    """True when the target exposes a transformers model to take gradients through."""
    return hasattr(target, "model") and hasattr(target, "tokenizer") and hasattr(target, "forward")


async def run_audit(
    target: Target,
    policy: ReleasePolicy,
    out: Path,
    key: Ed25519PrivateKey,
    *,
    settings: AuditSettings | None = None,
    on_step: StepCallback | None = None,
    progress: Callable[[str, int, int | None], None] | None = None,
) -> AuditOutcome:
    """Audit ``target`` against ``policy`` and write the signed case to ``out``.

    Args:
        target: the model under audit.
        policy: the release policy.
        out: folder for ``case.dsse.json``, ``report.html``, ``findings.avid.json``,
            ``results/*.json``, ``trigger-search.json`` and ``redteam/``.
        key: the private key that signs the case.
        settings: sizes and budgets.
        on_step: told of each step as it starts and ends.
        progress: told (step, done, total) as samples finish.
    """
    from redline.attest import build_case, model_digest_for
    from redline.evals import get_suite, run_suite, run_suites
    from redline.report import write_case_files

    chosen = settings or AuditSettings()
    say = on_step or (lambda step, message: None)
    seconds: dict[str, float] = {}
    path = getattr(target, "path", None)
    model = model_digest_for(Path(path) if path is not None else None, target.spec)
    out.mkdir(parents=True, exist_ok=True)

    def tick(step: str) -> Callable[[int], None]:
        def report(done: int) -> None:
            if progress is not None:
                progress(step, done, None)

        return report

    started = time.perf_counter()
    names = policy_suites(policy)
    unknown = [n for n in names if _suite_or_none(n) is None]
    if unknown:
        raise ConfigError(
            f"The policy names suite(s) {', '.join(unknown)} that redline does not have. "
            "See `redline list suites`."
        )
    say("evals", f"running {len(names)} suites: {', '.join(names)}")
    results = await run_suites(
        target,
        [get_suite(n) for n in names],
        seed=chosen.seed,
        size=chosen.size,
        model_digest=model.sha256,
        progress=tick("evals"),
    )
    seconds["evals"] = time.perf_counter() - started

    trigger: TriggerSearchResult | None = None
    if is_white_box(target):
        started = time.perf_counter()
        say(
            "trigger-search", f"searching for a backdoor trigger ({chosen.trigger_queries} queries)"
        )
        trigger = _search_trigger(target, chosen)
        candidates = _candidates(trigger)
        say("trigger-search", f"candidates {candidates}, held-out REASR {trigger.reasr}")
        from redline.evals.builtin.world import backdoor_suite

        results.append(
            await run_suite(
                target,
                backdoor_suite(candidates),
                seed=chosen.seed,
                size=chosen.backdoor_size,
                model_digest=model.sha256,
                progress=tick("backdoor"),
            )
        )
        (out / "trigger-search.json").write_text(trigger.model_dump_json(indent=2), "utf-8")
        seconds["trigger-search"] = time.perf_counter() - started
    else:
        say("trigger-search", "skipped: a black-box target gives no backdoor evidence")

    findings: list[Finding] = []
    if chosen.redteam:
        started = time.perf_counter()
        say("redteam", f"red team, suite '{chosen.redteam_suite}'")
        findings = await _redteam(target, chosen, out / "redteam")
        seconds["redteam"] = time.perf_counter() - started

    results_dir = out / "results"
    for result in results:
        result.save(results_dir / f"{result.suite}.json")
    case = build_case(
        policy, results, model, now=datetime.now(UTC), findings=findings, target=target.spec
    )
    files = write_case_files(case, out, key)
    (out / "audit.json").write_text(chosen.model_dump_json(indent=2), encoding="utf-8")
    return AuditOutcome(case, files, results, trigger, seconds)


def _suite_or_none(name: str) -> Any:
    from redline.evals import get_suite

    try:
        return get_suite(name)
    except ConfigError:
        return None


def _search_trigger(target: Target, settings: AuditSettings) -> TriggerSearchResult:
    from redline.redteam.whitebox.organism import default_requests
    from redline.redteam.whitebox.trigger import trigger_search

    search, held_out, benign, judge, _known = default_requests(
        target.spec, 12, settings.backdoor_size, settings.seed
    )
    # The true trigger (known for organisms) is never given: the audit must find it.
    return trigger_search(
        target,
        search,
        held_out,
        benign_requests=benign,
        judge=judge,
        max_queries=settings.trigger_queries,
        rounds=settings.trigger_rounds,
        threads=1,
    )


def _candidates(result: TriggerSearchResult) -> list[str]:
    """The candidate and every alternative the rounds found, each measured by the suite."""
    found = [result.candidate, *(a.text for a in result.alternatives)]
    return [c for c in dict.fromkeys(found) if c.strip()] or [result.candidate]


async def _redteam(target: Target, settings: AuditSettings, out: Path) -> list[Finding]:
    from redline.attest.findings import findings_from_redteam
    from redline.redteam.engine import RedteamConfig, run_redteam
    from redline.redteam.report import write_report
    from redline.store import Store

    config = RedteamConfig(
        target=target.spec,
        suite=settings.redteam_suite,
        max_seconds=settings.redteam_seconds,
        seed=settings.seed,
    )
    report = await run_redteam(target, config, store=Store())
    write_report(report, out)
    return findings_from_redteam(report)
