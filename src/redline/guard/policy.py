"""The usage policy: which categories the guard watches for, and what it does about each.

A policy is a YAML file, validated by pydantic, versioned (``schema_version`` for the file
format, ``revision`` for the policy's own history) and identified by the sha256 of its
canonical JSON, which every guard event records. The documented default ships as
``default_policy.yaml`` next to this module; ``redline guard policy init`` writes a copy.

Actions, weakest to strongest: ``allow`` < ``flag`` < ``redact`` < ``block``. When several
categories fire on one message, the strongest action wins.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from redline.errors import ConfigError
from redline.types import canonical_json

Action = Literal["allow", "flag", "redact", "block"]
ACTION_RANK: dict[str, int] = {"allow": 0, "flag": 1, "redact": 2, "block": 3}
Stage = Literal["input", "output"]
LayerKind = Literal["rules", "classifier", "judge", "probe"]
# Cheapest first: the guard runs tier 0 before tier 1, and so on.
LAYER_TIER: dict[str, int] = {"rules": 0, "classifier": 1, "judge": 2, "probe": 3}
DEFAULT_POLICY = Path(__file__).with_name("default_policy.yaml")
SCHEMA_VERSION = 1


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Category(_Strict):
    """A kind of content the policy cares about.

    Attributes:
        action: what the guard does when the category fires.
        description: what the category covers, for people reading the policy.
    """

    action: Action = "flag"
    description: str = ""


class ScorerRef(_Strict):
    """A registered scorer that a layer runs, and the category a positive maps to.

    Attributes:
        name: registry name (``redline list scorers``).
        category: policy category of a positive; None means the scorer's own category.
        threshold: a score value at or above this fires the category; None uses the
            scorer's own decision (its calibrated threshold).
        options: constructor arguments of the scorer.
    """

    name: str
    category: str | None = None
    threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    options: dict[str, Any] = Field(default_factory=dict)


class LayerSpec(_Strict):
    """One layer of checks.

    Attributes:
        name: unique name, used in events and metrics.
        kind: ``rules`` (regexes, blocklists and fast rule scorers), ``classifier``
            (encoder scorers), ``judge`` (model-as-judge scorer) or ``probe`` (a probe
            on the upstream's internals, white-box upstreams only).
        stages: ``input`` (the prompt, before the upstream) and/or ``output`` (the answer).
        enabled: a disabled layer is skipped and not counted.
        timeout_ms: the layer fails when it takes longer.
        fail: ``closed`` blocks when the layer errors or times out; ``open`` lets the
            message through and counts a bypass.
        scorers: registered scorers the layer runs.
        patterns: category -> regular expressions (``rules`` layers).
        blocklist: category -> words or phrases, matched whole-word, case-insensitive.
        options: kind-specific settings (for ``probe``: which probe, which layer).
        overlap: at the input stage, judge the prompt while the upstream already
            generates, instead of before: the answer is held until this layer passes, a
            block cancels the upstream call and answers with the refusal, a redaction
            cancels it and asks again with the redacted prompt. The guard then adds
            about nothing for this layer when it is faster than the upstream. The price:
            the upstream sees a prompt before this layer judged it, and works on prompts
            the policy blocks. Leave it off where the upstream must never see such a
            prompt, or pays per token.
    """

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    kind: LayerKind
    stages: tuple[Stage, ...] = ("input", "output")
    enabled: bool = True
    timeout_ms: float = Field(default=1000.0, gt=0)
    fail: Literal["closed", "open"] = "closed"
    scorers: tuple[ScorerRef, ...] = ()
    patterns: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    blocklist: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    options: dict[str, Any] = Field(default_factory=dict)
    overlap: bool = False

    @property
    def tier(self) -> int:
        """Cost class: layers run tier by tier, cheapest first."""
        return LAYER_TIER[self.kind]

    @field_validator("patterns")
    @classmethod
    def _patterns_compile(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for category, patterns in value.items():
            for pattern in patterns:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise ValueError(
                        f"pattern {pattern!r} of category {category!r} is not a valid "
                        f"regular expression: {exc}"
                    ) from exc
        return value


class Capture(_Strict):
    """What of the traffic is kept.

    Attributes:
        content: keep prompt and response text in events; otherwise only their sha256
            and the scores.
        embeddings: keep prompt embeddings (when a classifier layer computed them) so
            watch can measure drift without the text.
    """

    content: bool = False
    embeddings: bool = True


class StreamSettings(_Strict):
    """How streamed answers are released.

    Attributes:
        mode: ``buffer`` holds the whole answer until the output checks pass (default);
            ``stream-first`` releases chunks as they come and checks at the end, so a
            blocked answer may already be partly delivered (explicit opt-in only).
        chunk_chars: released chunks are about this long and never split a word.
    """

    mode: Literal["buffer", "stream-first"] = "buffer"
    chunk_chars: int = Field(default=32, ge=1, le=4096)


class Limits(_Strict):
    """Request limits that protect the guard itself.

    Attributes:
        max_messages: most messages in one request.
        max_chars: most characters over all messages of one request.
        max_body_bytes: largest accepted request body.
    """

    max_messages: int = Field(default=256, ge=1)
    max_chars: int = Field(default=200_000, ge=1)
    max_body_bytes: int = Field(default=1_000_000, ge=1024)


class UsagePolicy(_Strict):
    """A usage policy for guard and watch.

    Attributes:
        schema_version: version of this file format (currently 1).
        name: the policy's name.
        revision: the policy's own version, free-form (a date, a semver).
        refusal_message: what a blocked request gets back as the assistant's answer.
        default_action: the action for a category that fires but is not listed.
        categories: category name -> settings.
        layers: the checks, in any order (the guard orders them by cost).
        capture: what of the traffic is stored.
        stream: how streamed answers are released.
        limits: request size limits.
    """

    schema_version: Literal[1] = 1
    name: str = "policy"
    revision: str = "1"
    refusal_message: str = "Sorry, I can't help with that."
    default_action: Action = "flag"
    categories: dict[str, Category] = Field(default_factory=dict)
    layers: tuple[LayerSpec, ...] = ()
    capture: Capture = Capture()
    stream: StreamSettings = StreamSettings()
    limits: Limits = Limits()

    @model_validator(mode="after")
    def _unique_layers(self) -> UsagePolicy:
        names = [layer.name for layer in self.layers]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"layer names must be unique; repeated: {', '.join(duplicates)}")
        return self

    @property
    def sha256(self) -> str:
        """Identity of the policy's content (canonical JSON), recorded in every event."""
        return hashlib.sha256(canonical_json(self.model_dump(mode="json")).encode()).hexdigest()

    def action_for(self, category: str) -> Action:
        """The action the policy takes when ``category`` fires."""
        found = self.categories.get(category)
        return found.action if found is not None else self.default_action

    def enabled_layers(self) -> list[LayerSpec]:
        """Enabled layers, cheapest tier first (order within a tier kept)."""
        return sorted((la for la in self.layers if la.enabled), key=lambda la: la.tier)


def strongest(actions: list[str]) -> Action:
    """The strongest of some actions (``allow`` when there are none)."""
    best: Action = "allow"
    for action in actions:
        if ACTION_RANK[action] > ACTION_RANK[best]:
            best = action  # type: ignore[assignment]
    return best


def parse_policy(data: Mapping[str, Any], *, source: str = "policy") -> UsagePolicy:
    """Validate a policy from already-parsed YAML/JSON.

    Raises:
        ConfigError: the data is not a valid policy; the message names the first problem.
    """
    try:
        return UsagePolicy.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ConfigError(
            f"Usage policy {source} is invalid at '{where}': {first['msg']} "
            f"({exc.error_count()} problem(s)). See docs/guard.md for the format."
        ) from exc


def load_policy(path: str | Path | None = None) -> UsagePolicy:
    """Read a usage policy YAML file; ``None`` gives the shipped default.

    Raises:
        ConfigError: the file is missing, is not YAML, or is not a valid policy.
    """
    import yaml

    file = Path(path) if path is not None else DEFAULT_POLICY
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"Cannot read usage policy {file}: {exc.strerror}. "
            "Write one with `redline guard policy init usage.yaml`."
        ) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"Usage policy {file} is not valid YAML: {exc}".splitlines()[0]) from exc
    if not isinstance(data, dict):
        raise ConfigError(f"Usage policy {file} must be a YAML mapping at the top level.")
    return parse_policy(data, source=str(file))


__all__ = [
    "ACTION_RANK",
    "DEFAULT_POLICY",
    "Action",
    "Capture",
    "Category",
    "LayerSpec",
    "Limits",
    "ScorerRef",
    "Stage",
    "StreamSettings",
    "UsagePolicy",
    "load_policy",
    "parse_policy",
    "strongest",
]
