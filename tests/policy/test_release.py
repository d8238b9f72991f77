from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from redline.errors import ConfigError
from redline.policy import DEFAULT_POLICY, load_policy, parse_policy

MINIMAL = """
kind: release-policy
schema_version: 1
name: tiny
version: "0.1"
safeguard_levels:
  - id: elevated
    requires: [{kind: guard, layers: [rules]}, {kind: monitoring}]
domains:
  - id: misuse
    thresholds:
      - id: harm
        response: safeguards
        level: elevated
        evals:
          - {suite: t-refusal, metric: harmful_compliance_rate, rule_out: 0.05, rule_in: 0.2}
"""


def test_default_policy_is_valid_and_documented() -> None:
    policy = load_policy()
    assert policy.name == "redline-default"
    assert {d.id for d in policy.domains} >= {"misuse", "hidden-behaviour", "deception",
                                              "sycophancy"}
    # Every domain carries OWASP LLM 2025 and MITRE ATLAS tags for findings.
    for domain in policy.domains:
        assert any(t.startswith("owasp-llm-2025:LLM") for t in domain.tags), domain.id
        assert any(t.startswith("atlas:AML.T") for t in domain.tags), domain.id
    # Safeguard levels are cumulative.
    kinds = [r.kind for r in policy.requirements_for("elevated")]
    assert kinds == ["monitoring", "guard", "redteam"]
    assert "Responsible Scaling Policy" in DEFAULT_POLICY.read_text()


def test_digest_is_over_the_canonical_form_not_the_text() -> None:
    a = parse_policy(MINIMAL)
    reordered = yaml.safe_dump(yaml.safe_load(MINIMAL), sort_keys=True, default_flow_style=False)
    assert parse_policy("# a comment\n" + reordered).digest() == a.digest()
    changed = parse_policy(MINIMAL.replace("rule_out: 0.05", "rule_out: 0.06"))
    assert changed.digest() != a.digest()
    assert len(a.digest()) == 64


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("rule_in: 0.2", "rule_in: 0.01"), "rule_in .* must be at or above rule_out"),
        (("level: elevated", "level: heroic"), "needs level 'heroic'"),
        (("response: safeguards\n        level: elevated", "response: safeguards"),
         "response 'safeguards' needs a level"),
        (("name: tiny", "name: tiny\nsurprise: 1"), "surprise"),
        (("kind: release-policy", "kind: usage-policy"), "kind"),
    ],
)
def test_invalid_policies_say_what_is_wrong(edit: tuple[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_policy(MINIMAL.replace(*edit), source="p.yaml")


def test_not_yaml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid YAML"):
        parse_policy("a: [")
    with pytest.raises(ConfigError, match="No policy file"):
        load_policy(tmp_path / "none.yaml")


def test_version_patterns() -> None:
    policy = parse_policy(MINIMAL.replace("rule_in: 0.2}", "rule_in: 0.2, version: '1.*'}"))
    req = policy.domains[0].thresholds[0].evals[0]
    assert req.accepts_version("1.0") and req.accepts_version("1.7") and req.accepts_version("1")
    assert not req.accepts_version("2.0") and not req.accepts_version("10.0")


def test_alerts_come_from_thresholds_and_the_watch_list() -> None:
    alerts = load_policy().alerts()
    assert ("capability", "arithmetic_accuracy") in {(a.suite, a.metric) for a in alerts}
    assert ("harmful-requests", "harmful_compliance_rate") in {(a.suite, a.metric)
                                                               for a in alerts}
