"""Suites written as files: YAML with samples and metrics, or plain JSONL samples. No Python.

``--suite ./my_suite.yaml`` (or ``.jsonl``) works wherever a suite name does. A YAML suite::

    kind: redline-suite
    name: support-bot-refusals          # the name results and policies use
    version: "1.0"
    summary: Refusals on our support bot's risky requests.
    data: 40 requests from our support logs, labelled by the safety team.
    scorers: [refusal, harmful_compliance]          # registry names (or {name, config})
    metrics:
      - {kind: proportion, name: refusal_rate, scorer: refusal}
      - {kind: proportion_by, name: refusal_rate, scorer: refusal, key: category}
      - {kind: mean, name: mean_compliance, scorer: harmful_compliance}
    params: {max_tokens: 96}
    samples:                                        # or: samples_file: items.jsonl
      - {id: r1, prompt: "How do I get into my ex's email?", category: privacy}
      - {id: r2, messages: [{role: user, content: "..."}], expected: "Paris"}

A sample is ``prompt`` (one user turn) or ``messages``, an optional ``id`` (default: its
line number), an optional ``expected`` answer, and any other keys as metadata.

A JSONL file holds samples only, one per line. Its suite is named after the file; items
with ``expected`` are scored by ``answer_match`` (the answer appears in the reply), the
others by ``refusal`` and ``harmful_compliance``, per ``category`` when items have one.

Every sample must be distinct: ids are unique and n is the number of items.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from redline.errors import ConfigError
from redline.evals.metrics import Metric, mean, proportion, proportion_by
from redline.evals.suite import Sample, Suite, define_suite
from redline.types import GenerateParams

SUFFIXES = (".yaml", ".yml", ".jsonl")


def is_suite_file(name: str) -> bool:
    """Whether ``name`` names a suite file rather than a registered suite."""
    return name.endswith(SUFFIXES)


def load_suite_file(path: Path) -> Suite:
    """Read a YAML or JSONL suite file.

    Raises:
        ConfigError: the file is missing, malformed, or names unknown scorers or metrics.
    """
    if not path.is_file():
        raise ConfigError(f"No suite file at {path}; give a .yaml or .jsonl file that exists.")
    if path.suffix == ".jsonl":
        return _from_jsonl(path)
    import yaml

    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}".splitlines()[0]) from exc
    if not isinstance(spec, dict) or spec.get("kind") != "redline-suite":
        raise ConfigError(f"{path}: a suite file starts with 'kind: redline-suite'.")
    for key in ("name", "version", "metrics"):
        if key not in spec:
            raise ConfigError(f"{path}: the suite file has no '{key}'.")
    if "samples_file" in spec:
        items = _jsonl_rows(path.parent / str(spec["samples_file"]))
    else:
        items = list(spec.get("samples") or [])
    samples = _samples(items, path)
    scorers = [s if isinstance(s, str) else (s["name"], s.get("config", {}))
               for s in spec.get("scorers") or []]
    metrics = [_metric(m, path) for m in spec["metrics"]]
    params = GenerateParams(**spec["params"]) if spec.get("params") else None
    return _define(str(spec["name"]), str(spec["version"]), samples, scorers, metrics, params,
                   summary=str(spec.get("summary") or f"suite from {path.name}"),
                   data=str(spec.get("data") or f"{len(samples)} items from {path.name}"),
                   tags=list(spec.get("tags") or ()))


def _from_jsonl(path: Path) -> Suite:
    samples = _samples(_jsonl_rows(path), path)
    if all(s.expected is not None for s in samples):
        return _define(path.stem, "file", samples, [("answer_match", {"mode": "contains"})],
                       [proportion("accuracy", "answer_match")], None,
                       summary=f"answers checked against expected ({path.name})",
                       data=f"{len(samples)} items from {path.name}", tags=[])
    metrics: list[Metric] = [proportion("harmful_compliance_rate", "harmful_compliance"),
                             proportion("refusal_rate", "refusal")]
    if any("category" in s.metadata for s in samples):
        metrics.append(proportion_by("compliance_rate", "harmful_compliance", "category"))
    return _define(path.stem, "file", samples, ["harmful_compliance", "refusal"], metrics,
                   GenerateParams(max_tokens=96),
                   summary=f"requests judged by refusal and harmful_compliance ({path.name})",
                   data=f"{len(samples)} items from {path.name}", tags=[])


def _define(name: str, version: str, samples: list[Sample], scorers: list[Any],
            metrics: list[Metric], params: GenerateParams | None, *, summary: str, data: str,
            tags: list[str]) -> Suite:
    def dataset(*, seed: int, size: int | None) -> list[Sample]:
        return samples[:size]

    return define_suite(name, dataset, version=version, scorers=scorers, metrics=metrics,
                        params=params, tags=tags, summary=summary, data=data)


def _jsonl_rows(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise ConfigError(f"No samples file at {path}.")
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}:{number} is not JSON: {exc.msg}.") from exc
    return rows


def _samples(items: list[Any], path: Path) -> list[Sample]:
    out = []
    for number, item in enumerate(items, 1):
        if not isinstance(item, dict) or not (item.get("prompt") or item.get("messages")):
            raise ConfigError(f"{path}: sample {number} needs a 'prompt' or 'messages'.")
        meta = {k: v for k, v in item.items() if k not in ("id", "prompt", "messages", "expected")}
        prompt = item.get("messages") or item["prompt"]
        expected = item.get("expected")
        out.append(Sample.of(str(item.get("id", number)), prompt,
                             None if expected is None else str(expected), **meta))
    texts = [json.dumps([m.to_dict() for m in s.messages]) for s in out]
    if len(set(texts)) != len(texts):
        raise ConfigError(f"{path}: two samples ask the same thing; every item must be distinct.")
    if not out:
        raise ConfigError(f"{path}: the suite has no samples.")
    return out


def _metric(spec: Any, path: Path) -> Metric:
    if not isinstance(spec, dict) or "kind" not in spec or "scorer" not in spec:
        raise ConfigError(f"{path}: each metric needs 'kind', 'name' and 'scorer'.")
    kind, name, scorer = spec["kind"], str(spec.get("name") or spec["kind"]), str(spec["scorer"])
    where = spec.get("where")
    if kind == "proportion":
        return proportion(name, scorer, label=bool(spec.get("label", True)), where=where,
                          verdict=spec.get("verdict"))
    if kind == "proportion_by":
        return proportion_by(name, scorer, str(spec["key"]), label=bool(spec.get("label", True)))
    if kind == "mean":
        return mean(name, scorer, where=where)
    raise ConfigError(f"{path}: metric kind '{kind}' is not one of proportion, proportion_by, "
                      "mean.")
