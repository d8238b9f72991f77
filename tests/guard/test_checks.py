import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redline.errors import ConfigError
from redline.guard.checks import GUARD_FAILURE, Checker
from redline.guard.layers import Batcher, CheckInput, Hit, LayerResult
from redline.guard.policy import LayerSpec, parse_policy
from redline.types import Message

POLICY = parse_policy({
    "categories": {
        "pii": {"action": "redact"},
        "bad": {"action": "block"},
        "meh": {"action": "flag"},
    },
    "layers": [
        {"name": "rules", "kind": "rules", "patterns": {
            "pii": [r"\b\d{3}-\d{4}\b"], "meh": ["(?i)hmm"]},
         "blocklist": {"bad": ["forbidden word"]}},
    ],
})


class FakeLayer:
    """A layer with a scripted result, delay or failure; it records that it ran."""

    def __init__(self, name: str, kind: str = "classifier", *, hits: tuple[Hit, ...] = (),
                 delay: float = 0.0, fail: str = "closed", error: bool = False,
                 timeout_ms: float = 1000.0) -> None:
        self.spec = LayerSpec(name=name, kind=kind, fail=fail, timeout_ms=timeout_ms)
        self.hits, self.delay, self.error = hits, delay, error
        self.ran = self.finished = False

    async def __call__(self, item: CheckInput) -> LayerResult:
        self.ran = True
        await asyncio.sleep(self.delay)
        if self.error:
            raise RuntimeError("model crashed")
        self.finished = True
        return LayerResult(self.hits, {self.spec.name: 0.9})


def user(text: str) -> list[Message]:
    return [Message("system", "be nice"), Message("user", text)]


async def test_rules_redact_exact_spans_and_flag() -> None:
    decision = await Checker(POLICY).check("input", user("call 555-1234 or 555-9876, hmm"))
    assert decision.action == "redact"
    assert decision.texts[1] == "call [REDACTED:pii] or [REDACTED:pii], hmm"
    assert decision.texts[0] == "be nice"
    assert set(decision.categories) == {"pii", "meh"}


async def test_blocklist_is_whole_word_and_case_blind() -> None:
    checker = Checker(POLICY)
    assert (await checker.check("input", user("a FORBIDDEN WORD here"))).action == "block"
    assert (await checker.check("input", user("unforbidden wordy"))).action == "allow"


async def test_block_skips_later_tiers() -> None:
    rules = FakeLayer("rules", "rules", hits=(Hit("bad", "r"),))
    judge = FakeLayer("judge", "judge")
    decision = await Checker(POLICY, [judge, rules]).check("input", user("x"))
    assert decision.action == "block"
    assert not judge.ran
    assert [(o.layer, o.status) for o in decision.outcomes] == [("rules", "ok"),
                                                                ("judge", "skipped")]


async def test_layers_of_a_tier_run_concurrently_and_a_block_cancels_the_rest() -> None:
    fast_block = FakeLayer("a", hits=(Hit("bad", "a"),), delay=0.01)
    slow = FakeLayer("b", delay=5.0)
    loop = asyncio.get_running_loop()
    start = loop.time()
    decision = await Checker(POLICY, [fast_block, slow]).check("input", user("x"))
    assert loop.time() - start < 1.0
    assert decision.action == "block"
    assert slow.ran and not slow.finished
    assert {o.layer: o.status for o in decision.outcomes} == {"a": "ok", "b": "skipped"}


@pytest.mark.parametrize("failure", ["error", "timeout"])
async def test_failing_layer_fails_closed(failure: str) -> None:
    layer = FakeLayer("enc", error=failure == "error", delay=0.5 if failure == "timeout" else 0,
                      timeout_ms=20)
    decision = await Checker(POLICY, [layer]).check("input", user("hello"))
    assert decision.action == "block"
    assert decision.categories == [GUARD_FAILURE]
    assert decision.outcomes[0].status == failure and decision.bypasses == 0


async def test_fail_open_lets_through_and_counts_the_bypass() -> None:
    layer = FakeLayer("enc", error=True, fail="open")
    decision = await Checker(POLICY, [layer]).check("input", user("hello"))
    assert decision.action == "allow"
    assert decision.bypasses == 1 and decision.outcomes[0].bypassed
    assert "RuntimeError" in (decision.outcomes[0].error or "")


async def test_redact_without_spans_blocks() -> None:
    layer = FakeLayer("enc", hits=(Hit("pii", "scorer-without-spans"),))
    decision = await Checker(POLICY, [layer]).check("input", user("my name is Ann"))
    assert decision.action == "block"


async def test_output_stage_checks_the_answer_only() -> None:
    checker = Checker(POLICY)
    decision = await checker.check("output", user("555-1234"), "reach me at 555-0000")
    assert decision.texts == ("reach me at [REDACTED:pii]",)


async def test_batcher_groups_concurrent_calls() -> None:
    sizes: list[int] = []

    async def run(items: list[int]) -> list[int]:
        sizes.append(len(items))
        await asyncio.sleep(0.02)
        return [i * 2 for i in items]

    batcher: Batcher[int, int] = Batcher(run)
    first = asyncio.ensure_future(batcher(0))
    await asyncio.sleep(0.005)  # the first call is running alone; the rest queue behind it
    results = await asyncio.gather(first, *(batcher(i) for i in range(1, 10)))
    assert results == [i * 2 for i in range(10)]
    assert sizes == [1, 9]


async def test_batcher_passes_failures_to_every_caller() -> None:
    async def run(items: list[int]) -> list[int]:
        raise ValueError("encoder down")

    batcher: Batcher[int, int] = Batcher(run)
    results = await asyncio.gather(*(batcher(i) for i in range(3)), return_exceptions=True)
    assert all(isinstance(r, ValueError) for r in results)


async def test_learned_scorers_share_one_encoder_pass_per_batch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import numpy as np

    from redline.guard.layers import build_layer
    from redline.scorers._learned import LearnedScorer, encode_unique
    from redline.scorers.base import Score, ScoreInput

    encoded: list[list[str]] = []

    def fake_encode(texts: list[str]) -> np.ndarray:
        encoded.append(list(texts))
        return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)

    def scorer(name: str, text_of: object) -> LearnedScorer:
        def judge(items: list[ScoreInput]) -> list[Score]:
            vectors = encode_unique([text_of(i) for i in items])  # type: ignore[operator]
            return [Score(float(v[0]) / 100, bool(v[0] > 20), scorer=name) for v in vectors]

        return LearnedScorer(name, judge)

    made = {"on_prompt": scorer("on_prompt", lambda i: i.prompt),
            "on_turns": scorer("on_turns", lambda i: "\n".join(m.content for m in i.messages))}
    monkeypatch.setattr("redline.scorers.encoder.encode", fake_encode)
    monkeypatch.setattr("redline.scorers.base.get_scorer", lambda name, **_: made[name])
    layer = build_layer(LayerSpec(
        name="encoder", kind="classifier", stages=("input",), options={"embed_prompts": True},
        scorers=({"name": "on_prompt", "category": "long"},  # type: ignore[arg-type]
                 {"name": "on_turns", "category": "wordy"})))
    prompts = [f"prompt number {i}" + " more" * i for i in range(12)]
    first = asyncio.ensure_future(layer(CheckInput("input", (Message("user", prompts[0]),))))
    await asyncio.sleep(0.01)  # the first runs alone; the other eleven queue as one batch
    results = await asyncio.gather(first, *(
        layer(CheckInput("input", (Message("user", p),))) for p in prompts[1:]))
    assert encoded == [prompts[:1], prompts[1:]]  # each text encoded once, for all three uses
    for prompt, result in zip(prompts, results, strict=True):
        value = round(len(prompt) / 100, 6)
        assert result.scores == {"on_prompt": value, "on_turns": value}  # in policy order
        assert [h.category for h in result.hits] == (["long", "wordy"] if len(prompt) > 20
                                                      else [])
        assert result.embedding is not None and result.embedding[0] == len(prompt)
    output = await layer(CheckInput("output", (Message("user", "hi"),), response="answer"))
    assert output.embedding is None  # prompts are embedded on input only


def test_encoder_pass_runs_on_the_layers_torch_threads() -> None:
    torch = pytest.importorskip("torch")
    from redline.threads import torch_threads as _torch_threads

    before = torch.get_num_threads()
    with _torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with _torch_threads(None):
        assert torch.get_num_threads() == before


def test_encoder_layer_precision_is_checked() -> None:
    from redline.guard.layers import build_layer

    with pytest.raises(ConfigError, match="precision must be auto, float32, bfloat16 or int8"):
        build_layer(LayerSpec(
            name="encoder", kind="classifier", options={"precision": "fp8"},
            scorers=({"name": "pii", "category": "pii"},)))  # type: ignore[arg-type]


async def test_warm_loads_the_encoder_layer_before_any_request() -> None:
    import redline.scorers.encoder as encoder
    from redline.guard.policy import load_policy

    pytest.importorskip("torch")
    data = load_policy().model_dump(mode="json")
    for layer in data["layers"]:
        if layer["name"] == "encoder":
            layer["enabled"] = True
    checker = Checker(parse_policy(data))
    encoder._shared = None  # as in a guard process that has not loaded it yet
    checker.warm()
    assert encoder._shared is not None
    decision = await checker.check("input", user("What is the capital of France?"))
    assert [(o.layer, o.status) for o in decision.outcomes] == [("rules", "ok"),
                                                                ("encoder", "ok")]



SHORTCUT_POLICY = parse_policy({
    "categories": {"pii": {"action": "redact"}, "secrets": {"action": "redact"}},
    "layers": [{"name": "rules", "kind": "rules", "patterns": {
        "pii": [r"\b[\w.+-]+@[\w-]+\.[a-z]{2,}\b", r"(?x) call \s+ \d{3}  # verbose",
                r"x(?i:ab)yz", r"(q)\1-end", r"alpha|beta", "(?i)zeta"],
        "secrets": [r"\bsk-[A-Za-z0-9]{8,}\b", r"-----BEGIN (?:RSA )?KEY-----"],
    }, "blocklist": {"pii": ["Forbidden Word"]}}],
})
PIECES = ["ann@example.org", "call 555", "callx", "xAbyz", "xabYZ", "qq-end", "alpha", "BETA",
          "sk-abcdefgh12", "SK-ABCDEFGH12", "-----BEGIN RSA KEY-----", "forbidden word", "@",
          "ſk-abcdefgh12", "K", "ZETA", "\n", "é 中文"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES) | st.text(max_size=8), max_size=6))
def test_rule_shortcuts_skip_only_texts_the_rule_cannot_match(parts: list[str]) -> None:
    from redline.guard.layers import RulesLayer

    spec = SHORTCUT_POLICY.enabled_layers()[0]
    fast, slow = RulesLayer(spec), RulesLayer(spec)
    slow._rules = [(*rule[:3], None) for rule in slow._rules]  # every rule scans every text
    assert any(rule[3] for rule in fast._rules)
    text = "".join(parts)
    item = CheckInput("input", (Message("user", text), Message("user", text + " alpha")))
    assert asyncio.run(fast(item)) == asyncio.run(slow(item))


def test_required_text_is_what_every_match_contains() -> None:
    import re

    from redline.guard.layers import required_text

    assert required_text(re.compile(r"-----BEGIN (?:RSA )?PRIVATE KEY-----")) == "PRIVATE KEY-----"
    assert required_text(re.compile(r"\b[\w.]+@[\w.]+\b")) == "@"
    assert required_text(re.compile("x(?i:ab)yz")) == "yz"
    assert required_text(re.compile("(?x) a b  # note\n c")) == "abc"
    for none in ["alpha|beta", r"(?i)ignore previous", r"\d{3}\s\d{4}", "a?b*"]:
        assert required_text(re.compile(none)) is None
