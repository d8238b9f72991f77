from pathlib import Path

import pytest

from redline.errors import ConfigError
from redline.guard.policy import DEFAULT_POLICY, load_policy, parse_policy, strongest


def test_default_policy_loads_and_documents_every_action() -> None:
    policy = load_policy()
    assert policy.schema_version == 1
    assert {c.action for c in policy.categories.values()} == {"allow", "redact", "block", "flag"}
    # Layers come back cheapest first, whatever order the file lists them in.
    tiers = [layer.tier for layer in policy.enabled_layers()]
    assert tiers == sorted(tiers)
    assert "#" in DEFAULT_POLICY.read_text()  # the shipped file is commented


def test_sha256_identifies_content(tmp_path: Path) -> None:
    text = DEFAULT_POLICY.read_text()
    same = tmp_path / "same.yaml"
    same.write_text("# a comment changes nothing\n" + text)
    changed = tmp_path / "changed.yaml"
    changed.write_text(text.replace("action: redact", "action: block", 1))
    assert load_policy(same).sha256 == load_policy().sha256
    assert load_policy(changed).sha256 != load_policy().sha256


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ({"layers": [{"name": "r", "kind": "rules", "patterns": {"pii": ["(unclosed"]}}]},
         "layers.0.patterns"),
        ({"layers": [{"name": "r", "kind": "rules"}, {"name": "r", "kind": "rules"}]},
         "(top level)"),
        ({"categories": {"x": {"action": "explode"}}}, "categories.x.action"),
        ({"schema_version": 2}, "schema_version"),
        ({"surprise": 1}, "surprise"),
        ({"layers": [{"name": "r", "kind": "rules", "timeout_ms": 0}]}, "layers.0.timeout_ms"),
    ],
)
def test_invalid_policies_say_where(data: dict, where: str) -> None:
    with pytest.raises(ConfigError, match=where.replace("(", r"\(").replace(")", r"\)")):
        parse_policy(data)


def test_missing_and_non_mapping_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="policy init"):
        load_policy(tmp_path / "absent.yaml")
    bad = tmp_path / "list.yaml"
    bad.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_policy(bad)


def test_strongest_action_wins() -> None:
    assert strongest([]) == "allow"
    assert strongest(["flag", "block", "redact"]) == "block"
    assert strongest(["flag", "redact"]) == "redact"
    policy = parse_policy({"categories": {"a": {"action": "block"}}, "default_action": "flag"})
    assert policy.action_for("a") == "block"
    assert policy.action_for("unlisted") == "flag"
