"""Metrics: numbers with 95% intervals computed from scored samples.

A metric reads the stored :class:`~redline.evals.results.SampleRecord` list, never live
objects, so a saved result can be re-scored later. Factories:

- :func:`proportion` — the share of scored samples with a given label (Wilson interval);
- :func:`mean` — the mean of a scorer's values (percentile-bootstrap interval);
- :func:`proportion_by` — :func:`proportion` per value of a metadata key;
- :func:`difference` — one proportion minus another (Newcombe's hybrid score interval),
  e.g. the accuracy drop between prompts without and with pressure.

``where`` filters samples on metadata, e.g. ``where={"condition": "pressure"}``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from redline.evals.results import MetricValue, SampleRecord


@dataclass(frozen=True)
class Metric:
    """A declared metric.

    Attributes:
        name: the metric's name in results (``proportion_by`` adds ``/VALUE``).
        description: what the number means, in words.
        scorers: the scorer names it reads (checked against the suite's scorers).
        compute: records → ``{name: MetricValue}``.
    """

    name: str
    description: str
    scorers: tuple[str, ...]
    compute: Callable[[Sequence[SampleRecord]], dict[str, MetricValue]] = field(repr=False)

    def __call__(self, records: Sequence[SampleRecord]) -> dict[str, MetricValue]:
        """Compute the metric's values."""
        return self.compute(records)


def _matches(record: SampleRecord, where: Mapping[str, Any] | None) -> bool:
    if not where:
        return True
    return all(record.metadata.get(k) == v for k, v in where.items())


def _labels(
    records: Sequence[SampleRecord], scorer: str, where: Mapping[str, Any] | None
) -> list[bool]:
    out = []
    for r in records:
        score = r.scores.get(scorer)
        if _matches(r, where) and score is not None and score.label is not None:
            out.append(score.label)
    return out


def proportion(
    name: str,
    scorer: str,
    *,
    label: bool = True,
    where: Mapping[str, Any] | None = None,
    description: str = "",
) -> Metric:
    """Share of scored samples whose ``scorer`` label equals ``label``, with a Wilson interval.

    Args:
        name: metric name, e.g. ``"refusal_rate"``.
        scorer: registry name of the scorer whose labels are counted.
        label: which label counts as a success.
        where: metadata filter selecting the samples.
        description: what the number means.
    """
    from redline.stats import wilson

    def compute(records: Sequence[SampleRecord]) -> dict[str, MetricValue]:
        labels = _labels(records, scorer, where)
        hits = sum(1 for x in labels if x == label)
        interval = wilson(hits, len(labels))
        return {name: MetricValue.of(interval.value, interval.low, interval.high, len(labels))}

    return Metric(name, description or f"share of samples where {scorer} is {label}", (scorer,),
                  compute)


def mean(
    name: str, scorer: str, *, where: Mapping[str, Any] | None = None, description: str = ""
) -> Metric:
    """Mean of ``scorer`` values over scored samples, with a percentile-bootstrap interval."""

    def compute(records: Sequence[SampleRecord]) -> dict[str, MetricValue]:
        import numpy as np

        from redline.stats import bootstrap

        values = np.array(
            [
                r.scores[scorer].value
                for r in records
                if _matches(r, where)
                and scorer in r.scores
                and r.scores[scorer].value is not None
            ],
            dtype=float,
        )
        if len(values) == 0:
            return {name: MetricValue.of(float("nan"), float("nan"), float("nan"), 0)}
        point = float(values.mean())
        interval = bootstrap(lambda idx: float(values[idx].mean()), len(values))(point)
        return {name: MetricValue.of(point, interval.low, interval.high, len(values))}

    return Metric(name, description or f"mean {scorer} value", (scorer,), compute)


def proportion_by(
    name: str, scorer: str, key: str, *, label: bool = True, description: str = ""
) -> Metric:
    """:func:`proportion` for each value of metadata ``key``, named ``NAME/VALUE``."""

    def compute(records: Sequence[SampleRecord]) -> dict[str, MetricValue]:
        values = sorted({str(r.metadata[key]) for r in records if key in r.metadata})
        out: dict[str, MetricValue] = {}
        for value in values:
            subset = [r for r in records if str(r.metadata.get(key)) == value]
            out.update(proportion(f"{name}/{value}", scorer, label=label).compute(subset))
        return out

    return Metric(name, description or f"share where {scorer} is {label}, per {key}", (scorer,),
                  compute)


def difference(
    name: str,
    scorer: str,
    *,
    minuend: Mapping[str, Any],
    subtrahend: Mapping[str, Any],
    label: bool = True,
    description: str = "",
) -> Metric:
    """Share with ``label`` among ``minuend`` samples minus that among ``subtrahend`` samples.

    The 95% interval is Newcombe's hybrid score interval (method 10), built from the two
    Wilson intervals; it behaves well near 0 and 1 and with small groups.

    Args:
        name: metric name, e.g. ``"accuracy_drop_under_pressure"``.
        scorer: the scorer whose labels are counted.
        minuend: metadata filter of the first group (``{"condition": False}``).
        subtrahend: metadata filter of the second group (``{"condition": True}``).
        label: which label counts.
        description: what the number means.
    """
    import math

    from redline.stats import wilson

    def compute(records: Sequence[SampleRecord]) -> dict[str, MetricValue]:
        a = _labels(records, scorer, minuend)
        b = _labels(records, scorer, subtrahend)
        if not a or not b:
            return {name: MetricValue.of(float("nan"), float("nan"), float("nan"), 0)}
        wa = wilson(sum(1 for x in a if x == label), len(a))
        wb = wilson(sum(1 for x in b if x == label), len(b))
        d = wa.value - wb.value
        low = d - math.sqrt((wa.value - wa.low) ** 2 + (wb.high - wb.value) ** 2)
        high = d + math.sqrt((wa.high - wa.value) ** 2 + (wb.value - wb.low) ** 2)
        return {name: MetricValue.of(d, low, high, min(len(a), len(b)))}

    return Metric(
        name,
        description or f"share where {scorer} is {label}: {dict(minuend)} minus {dict(subtrahend)}",
        (scorer,),
        compute,
    )


def compute_metrics(
    metrics: Sequence[Metric], records: Sequence[SampleRecord]
) -> dict[str, MetricValue]:
    """Every metric's values, in declaration order."""
    out: dict[str, MetricValue] = {}
    for metric in metrics:
        out.update(metric(records))
    return out
