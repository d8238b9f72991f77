"""Running a suite on a target: generate, score, compute metrics, return an EvalResult."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from redline._version import __version__
from redline.errors import RedlineError
from redline.evals.metrics import compute_metrics
from redline.evals.results import EvalResult, SampleRecord, ScoreRecord, ScorerRecord
from redline.evals.suite import Sample, Suite, dataset_digest
from redline.scorers.base import Score, ScoreInput, Scorer, get_scorer, score_all
from redline.targets.base import Target, generate_many
from redline.types import GenerateParams, content_hash

Progress = Callable[[int], None]
"""Called with the number of samples just finished (for progress bars)."""

CHUNK = 32


def _score_input(sample: Sample, response: str) -> ScoreInput:
    metadata = {**sample.metadata, "sample_id": sample.id}
    if sample.expected is not None:
        metadata["expected"] = sample.expected
    return ScoreInput(sample.messages, response, metadata)


async def run_suite(
    target: Target,
    suite: Suite,
    *,
    seed: int = 0,
    size: int | None = None,
    params: GenerateParams | None = None,
    model_digest: str | None = None,
    progress: Progress | None = None,
    scorers: dict[str, Scorer] | None = None,
) -> EvalResult:
    """Evaluate ``target`` on ``suite``.

    A sample the target fails on is recorded with its error and makes the result
    ``failed``: a gate must not read a partial run as evidence.

    Args:
        target: the model under test.
        suite: the suite to run.
        seed: seed of the dataset factory.
        size: number of samples (default: the suite's ``default_size``).
        params: generation parameters (default: the suite's).
        model_digest: sha256 of the model's files when known (ties the result to them).
        progress: called with the count of samples finished after each chunk.
        scorers: already-made scorers by name, to share across runs (made from the
            suite's references when absent).

    Returns:
        The result, with metrics and every sample.
    """
    started = datetime.now(UTC)
    samples = suite.samples(seed=seed, size=size)
    use = params or suite.params
    made = scorers if scorers is not None else {}
    for ref in suite.scorers:
        if ref.name not in made:
            made[ref.name] = get_scorer(ref.name, **dict(ref.config))

    records: list[SampleRecord] = []
    errors = 0
    for start in range(0, len(samples), CHUNK):
        chunk = samples[start : start + CHUNK]
        chunk_records = [
            SampleRecord(id=s.id, messages=[m.to_dict() for m in s.messages], expected=s.expected,
                         metadata=dict(s.metadata))
            for s in chunk
        ]
        try:
            completions = await generate_many(target, [s.messages for s in chunk], use)
        except RedlineError as exc:
            errors += len(chunk)
            for record in chunk_records:
                record.error = f"{type(exc).__name__}: {exc}"
        else:
            inputs = []
            for sample, record, completion in zip(chunk, chunk_records, completions, strict=True):
                record.response = completion.text
                inputs.append(_score_input(sample, completion.text))
            for ref in suite.scorers:
                judged = await score_all(made[ref.name], inputs)
                for record, score in zip(chunk_records, judged, strict=True):
                    record.scores[ref.name] = ScoreRecord(
                        value=score.value, label=score.label, category=score.category,
                        explanation=score.explanation, verdict=_verdict(score),
                    )
        records.extend(chunk_records)
        if progress is not None:
            progress(len(chunk))

    metrics = compute_metrics(suite.metrics, records)
    problems = []
    if errors:
        problems.append(f"{errors} of {len(samples)} samples failed to generate")
    undefined = [name for name, value in metrics.items() if not value.defined]
    if undefined:
        problems.append(f"metric(s) {', '.join(undefined)} had nothing scored")
    return EvalResult(
        suite=suite.name,
        suite_version=suite.version,
        measures=suite.summary,
        data=suite.data,
        dataset_digest=dataset_digest(samples),
        seed=seed,
        target=target.spec,
        target_fingerprint=target.fingerprint,
        model_digest=model_digest,
        scorers=[ScorerRecord(name=r.name, config=dict(r.config)) for r in suite.scorers],
        params=use.to_dict(),
        redline_version=__version__,
        started_at=started,
        finished_at=datetime.now(UTC),
        status="failed" if problems else "ok",
        error="; ".join(problems) or None,
        metrics=metrics,
        samples=records,
    )


async def run_suites(
    target: Target,
    suites: Sequence[Suite],
    *,
    seed: int = 0,
    size: int | None = None,
    model_digest: str | None = None,
    progress: Progress | None = None,
) -> list[EvalResult]:
    """Run several suites on one target, sharing scorers that have the same configuration."""
    results = []
    shared: dict[str, Scorer] = {}
    for s in suites:
        mine = {r.name: shared[_key(r.name, r.config)] for r in s.scorers
                if _key(r.name, r.config) in shared}
        result = await run_suite(target, s, seed=seed, size=size, model_digest=model_digest,
                                 progress=progress, scorers=mine)
        for r in s.scorers:
            shared.setdefault(_key(r.name, r.config), mine[r.name])
        results.append(result)
    return results


def _verdict(score: Score) -> str | None:
    found = (score.details or {}).get("verdict")
    return found if isinstance(found, str) else None


def _key(name: str, config: object) -> str:
    return f"{name}:{content_hash(config)}"
