"""What a task written by ``redline export inspect`` runs inside Inspect (inspect_ai).

:func:`redline_task` builds the Inspect ``Task``: the suite's samples as the dataset,
``generate()`` as the solver with the suite's generation parameters, and
:func:`redline_scorer`, which judges each reply with the suite's own redline scorers and
computes the suite's own metrics with their 95% intervals (:func:`redline_metrics`). Each
metric ``NAME`` lands in the Inspect log with ``NAME.low``, ``NAME.high`` and ``NAME.n``,
so ``redline gate --from-inspect`` reads it back as the same evidence ``redline eval``
would give. Importing this module imports inspect_ai.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from inspect_ai import Task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import (
    ChatMessage,
    ChatMessageAssistant,
    ChatMessageSystem,
    ChatMessageUser,
    GenerateConfig,
)
from inspect_ai.scorer import (
    Metric,
    SampleScore,
    Score,
    Scorer,
    Target,
    metric,
    scorer,
)
from inspect_ai.solver import TaskState, generate

from redline.evals.results import SampleRecord, ScoreRecord
from redline.evals.suite import Suite, get_suite
from redline.scorers.base import ScoreInput, get_scorer
from redline.types import as_messages


def load_task_suite(ref: str, folder: Path) -> Suite:
    """The suite a task names: a registered name, or a suite file beside the task."""
    local = folder / ref
    return get_suite(str(local) if local.is_file() else ref)


@metric(name="redline_metrics")
def redline_metrics(suite: str, folder: str = ".") -> Metric:
    """The suite's redline metrics over the scored samples, each with low, high and n."""

    def compute(scores: list[SampleScore]) -> dict[str, float]:
        from redline.evals.metrics import compute_metrics

        records = [_record(s) for s in scores]
        out: dict[str, float] = {}
        for name, value in compute_metrics(load_task_suite(suite, Path(folder)).metrics,
                                           records).items():
            if value.defined:
                assert value.value is not None and value.low is not None
                assert value.high is not None
                out.update({name: value.value, f"{name}.low": value.low,
                            f"{name}.high": value.high, f"{name}.n": float(value.n)})
        return out

    return compute


@scorer(metrics=[], name="redline")
def redline_scorer(suite: str, folder: str = ".") -> Scorer:
    """Judge a reply with every scorer of the redline suite (as ``redline eval`` does)."""
    loaded = load_task_suite(suite, Path(folder))
    made = {ref.name: get_scorer(ref.name, **dict(ref.config)) for ref in loaded.scorers}

    async def score(state: TaskState, target: Target) -> Score:
        meta = dict(state.metadata or {})
        reply = state.output.completion
        messages = as_messages([{"role": m.role, "content": m.text}
                                for m in state.messages if m.role != "assistant"])
        metadata = {**meta.get("redline", {}), "sample_id": str(state.sample_id)}
        expected = meta.get("redline_expected")
        if expected is not None:
            metadata["expected"] = expected
        item = ScoreInput(messages, reply, metadata)
        records: dict[str, dict[str, Any]] = {}
        for name, judge in made.items():
            judged = await judge(item)
            found = (judged.details or {}).get("verdict")
            records[name] = ScoreRecord(
                value=judged.value, label=judged.label, category=judged.category,
                explanation=judged.explanation,
                verdict=found if isinstance(found, str) else None).model_dump(mode="json")
        value = {name: float(r["label"]) if r["label"] is not None else float("nan")
                 for name, r in records.items()}
        return Score(value=value, answer=reply,
                     metadata={"redline_scores": records, "redline_sample": {
                         "id": str(state.sample_id),
                         "messages": [m.to_dict() for m in messages],
                         "expected": expected, "metadata": meta.get("redline", {})}})

    return score


def redline_task(suite: str, samples_file: str, *, folder: Path) -> Task:
    """The Inspect task for a redline suite whose samples were written by the export."""
    loaded = load_task_suite(suite, folder)
    rows = [json.loads(line) for line in
            (folder / samples_file).read_text(encoding="utf-8").splitlines() if line.strip()]
    dataset = MemoryDataset([
        Sample(id=row["id"], input=_inspect_messages(row["messages"]),
               target=row.get("expected") or "",
               metadata={"redline": row.get("metadata", {}),
                         "redline_expected": row.get("expected")})
        for row in rows
    ], name=loaded.name)
    params = loaded.params
    return Task(
        dataset=dataset,
        solver=generate(),
        scorer=redline_scorer(suite, str(folder)),
        metrics=[redline_metrics(suite, str(folder))],
        config=GenerateConfig(max_tokens=params.max_tokens, temperature=params.temperature,
                              top_p=params.top_p, seed=params.seed),
        name=loaded.name,
        version=loaded.version,
        metadata={"redline_suite": loaded.name, "redline_suite_version": loaded.version},
    )


def _inspect_messages(messages: list[dict[str, str]]) -> list[ChatMessage]:
    kinds = {"system": ChatMessageSystem, "user": ChatMessageUser,
             "assistant": ChatMessageAssistant}
    return [kinds[m["role"]](content=m["content"]) for m in messages]


def _record(sample_score: SampleScore) -> SampleRecord:
    meta = sample_score.score.metadata or {}
    sample = meta.get("redline_sample", {})
    return SampleRecord(
        id=str(sample.get("id", sample_score.sample_id)),
        messages=sample.get("messages", []), expected=sample.get("expected"),
        metadata=sample.get("metadata", {}), response=sample_score.score.answer,
        scores={k: ScoreRecord.model_validate(v)
                for k, v in meta.get("redline_scores", {}).items()})
