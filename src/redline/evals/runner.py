"""Running a suite on a target: generate, score, compute metrics, return an EvalResult."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

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

CHUNK = 64
"""Samples generated and scored together: one batch of an in-process model (SmolLM2-135M
on 2 CPU cores answers 64 at a time about 17% faster than 32; benchmarks/RESULTS.md)."""


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
    made = make_scorers(suite, scorers)

    records: list[SampleRecord] = []
    for start in range(0, len(samples), CHUNK):
        chunk = samples[start : start + CHUNK]
        records.extend(await score_chunk(target, suite, chunk, use, made))
        if progress is not None:
            progress(len(chunk))
    return suite_result(suite, samples, records, target=target.spec,
                        fingerprint=target.fingerprint, seed=seed, params=use,
                        model_digest=model_digest, started=started)


def make_scorers(suite: Suite, made: dict[str, Scorer] | None = None) -> dict[str, Scorer]:
    """The suite's scorers by name, reusing those in ``made`` (which is filled in)."""
    made = made if made is not None else {}
    for ref in suite.scorers:
        if ref.name not in made:
            made[ref.name] = get_scorer(ref.name, **dict(ref.config))
    return made


async def score_chunk(
    target: Target,
    suite: Suite,
    chunk: Sequence[Sample],
    params: GenerateParams,
    scorers: dict[str, Scorer],
) -> list[SampleRecord]:
    """Generate and score one chunk of samples (one batch of the target).

    A chunk the target fails on gives records with the error and no scores. Executors
    split a suite on multiples of :data:`CHUNK`, so each batch, and with greedy
    parameters each answer, is the same whichever executor runs it.
    """
    chunk_records = [
        SampleRecord(id=s.id, messages=[m.to_dict() for m in s.messages], expected=s.expected,
                     metadata=dict(s.metadata))
        for s in chunk
    ]
    try:
        completions = await generate_many(target, [s.messages for s in chunk], params)
    except RedlineError as exc:
        for record in chunk_records:
            record.error = f"{type(exc).__name__}: {exc}"
        return chunk_records
    inputs = []
    for sample, record, completion in zip(chunk, chunk_records, completions, strict=True):
        record.response = completion.text
        inputs.append(_score_input(sample, completion.text))
    for ref in suite.scorers:
        judged = await score_all(scorers[ref.name], inputs)
        for record, score in zip(chunk_records, judged, strict=True):
            record.scores[ref.name] = ScoreRecord(
                value=score.value, label=score.label, category=score.category,
                explanation=score.explanation, verdict=_verdict(score),
            )
    return chunk_records


def suite_result(
    suite: Suite,
    samples: Sequence[Sample],
    records: list[SampleRecord],
    *,
    target: str,
    fingerprint: str,
    seed: int,
    params: GenerateParams,
    model_digest: str | None,
    started: datetime,
) -> EvalResult:
    """The result of ``suite`` from every sample's record: metrics, status and provenance."""
    errors = sum(1 for r in records if r.error is not None)
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
        target=target,
        target_fingerprint=fingerprint,
        model_digest=model_digest,
        scorers=[ScorerRecord(name=r.name, config=dict(r.config)) for r in suite.scorers],
        params=params.to_dict(),
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


def model_path_of(target: Target) -> Path | None:
    """The local folder a target's weights come from, when it has one (hf:, organism:)."""
    path = getattr(target, "path", None)
    if path is None:
        return None
    candidate = Path(path)
    return candidate if candidate.exists() else None


def _verdict(score: Score) -> str | None:
    found = (score.details or {}).get("verdict")
    return found if isinstance(found, str) else None


def _key(name: str, config: object) -> str:
    return f"{name}:{content_hash(config)}"
