"""A verified bundle as a regression suite file that ``redline eval`` and ``audit`` run.

The suite is a YAML suite file (:mod:`redline.evals.files`): one sample per probe, its
metadata naming the finding, and one ``reproduced_rate`` metric per (scorer, label) the
probes use: the share of probes whose reply the scorer labels as the finding's evidence
was labelled. 0 means none of the shared findings shows any more::

    redline share import BUNDLE --key sender.pub --out shared.yaml
    redline eval MY-MODEL --suite shared.yaml
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import fields
from pathlib import Path
from typing import Any

from redline.errors import ConfigError
from redline.share.bundle import Bundle
from redline.types import GenerateParams

SUITE_VERSION_CHARS = 12


def check_key(probe_scorer: str, label: bool) -> str:
    """The metadata value that ties a sample to its metric, e.g. ``pii=true``."""
    return f"{probe_scorer}={str(label).lower()}"


def regression_suite(bundle: Bundle, *, name: str | None = None) -> dict[str, Any]:
    """The suite file's content (a plain dict for YAML).

    Raises:
        ConfigError: the bundle has no probes, so there is nothing to run.
    """
    if not bundle.probes:
        raise ConfigError("The bundle has no probes to run (its findings could not be "
                          "reproduced when it was exported); there is no suite to make.")
    checks = sorted({(p.scorer, p.label) for p in bundle.probes})
    metrics: list[dict[str, Any]] = []
    for scorer, label in checks:
        suffix = "" if len(checks) == 1 else f"_{scorer}_{str(label).lower()}"
        where = {"check": check_key(scorer, label)}
        metrics.append({"kind": "proportion", "name": f"reproduced_rate{suffix}",
                        "scorer": scorer, "label": label, "where": where})
    if len(checks) == 1:
        scorer, label = checks[0]
        metrics.append({"kind": "proportion_by", "name": "reproduced_rate", "scorer": scorer,
                        "label": label, "key": "finding"})
    samples = []
    for probe in bundle.probes:
        sample: dict[str, Any] = {"id": probe.id, "messages": probe.messages,
                                  "finding": probe.finding,
                                  "check": check_key(probe.scorer, probe.label)}
        if probe.category:
            sample["category"] = probe.category
        if probe.tags:
            sample["tags"] = probe.tags
        samples.append(sample)
    params = dict(bundle.probes[0].params)
    manifest = bundle.manifest
    return {
        "kind": "redline-suite",
        "name": name or f"shared-{manifest.source}-{manifest.source_id[:12]}",
        "version": bundle.digest[:SUITE_VERSION_CHARS],
        "summary": f"Regression: do the {len(bundle.findings)} findings shared from "
                   f"{manifest.model_name} still show? (reproduced_rate 0 = none does)",
        "data": f"{len(samples)} probes from a signed share bundle (statement sha256 "
                f"{bundle.digest}), redacted with {manifest.redaction.split(':')[0]}",
        "tags": sorted({t for f in bundle.findings for t in f.finding.tags}),
        "scorers": sorted({s for s, _ in checks}),
        "metrics": metrics,
        "params": {k: v for k, v in params.items() if k in _PARAM_FIELDS and v is not None},
        "samples": samples,
    }


_PARAM_FIELDS = frozenset(f.name for f in fields(GenerateParams))


def write_suite(suite: dict[str, Any], out: Path, *, force: bool = False) -> Path:
    """Write the suite YAML atomically (a temporary file renamed into place).

    Raises:
        ConfigError: ``out`` exists and ``force`` is false, or it is not a .yaml name.
    """
    import yaml

    if out.suffix not in (".yaml", ".yml"):
        raise ConfigError(f"{out}: a suite file name ends in .yaml; give e.g. --out shared.yaml.")
    if out.exists() and not force:
        raise ConfigError(f"{out} already exists; pass --force to replace it.")
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            yaml.safe_dump(suite, handle, sort_keys=False, allow_unicode=True, width=100)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out
