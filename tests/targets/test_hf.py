"""The hf: target on a tiny random GPT-2: determinism, batching, white-box shapes."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from redline.errors import CheckpointError
from redline.targets import resolve_target
from redline.targets.hf import HFTarget
from redline.types import GenerateParams, Message

pytest.importorskip("transformers")

PROMPTS = [
    [Message("user", "hello how are you")],
    [Message("user", "what is the big red dog")],
    [Message("system", "yes"), Message("user", "one two three")],
    [Message("user", "cat")],
]


@pytest.fixture(scope="module")
def target(tiny_gpt2: Path) -> HFTarget:
    t = resolve_target(f"hf:{tiny_gpt2}", cache=False, batch_size=8)
    assert isinstance(t, HFTarget)
    return t


def test_sampling_is_deterministic_for_a_seed(target: HFTarget) -> None:
    params = GenerateParams(max_tokens=12, temperature=1.0, seed=11)
    first = target.generate_sync(PROMPTS, params)
    again = target.generate_sync(PROMPTS, params)
    other = target.generate_sync(PROMPTS, params.with_(seed=12))
    assert [c.text for c in first] == [c.text for c in again]
    assert [c.text for c in first] != [c.text for c in other]


def test_batched_generation_matches_one_by_one(target: HFTarget) -> None:
    params = GenerateParams(max_tokens=10)
    batched = target.generate_sync(PROMPTS, params)
    single = [target.generate_sync([p], params)[0] for p in PROMPTS]
    assert [c.text for c in batched] == [c.text for c in single]
    assert all(c.completion_tokens is not None and c.completion_tokens <= 10 for c in batched)


def test_concurrent_generate_calls_share_a_batch_and_keep_order(target: HFTarget) -> None:
    params = GenerateParams(max_tokens=8)
    expected = [c.text for c in target.generate_sync(PROMPTS, params)]

    async def many() -> list[str]:
        results = await asyncio.gather(*(target.generate(p, params) for p in PROMPTS))
        return [r.text for r in results]

    assert asyncio.run(many()) == expected


def test_max_tokens_and_stop_sequences(target: HFTarget) -> None:
    long = target.generate_sync(PROMPTS[:1], GenerateParams(max_tokens=20))[0]
    short = target.generate_sync(PROMPTS[:1], GenerateParams(max_tokens=3))[0]
    assert short.completion_tokens == 3 and short.finish_reason == "length"
    assert long.text.startswith(short.text)
    words = long.text.split()
    if len(words) >= 3:
        stopped = target.generate_sync(
            PROMPTS[:1], GenerateParams(max_tokens=20, stop=(words[2],))
        )[0]
        assert words[2] not in stopped.text.split()[2:3]
        assert stopped.finish_reason == "stop"


def test_hidden_states_have_documented_shapes(target: HFTarget) -> None:
    texts = ["hello how are you", "cat", "the big red dog sat on the mat"]
    out = target.forward(texts)
    batch, pos = out.input_ids.shape
    assert batch == 3 and pos == 8
    assert len(out.hidden_states) == target.n_layers + 1 == 3
    for layer in out.hidden_states:
        assert tuple(layer.shape) == (3, pos, target.d_model)
    assert tuple(out.logits.shape) == (3, pos, target.model.config.vocab_size)
    assert out.last_token_index().tolist() == [3, 0, 7]
    # Right padding: a row's real tokens do not depend on what else is in the batch.
    alone = target.forward(["cat"])
    assert (alone.hidden_states[-1][0, 0] - out.hidden_states[-1][1, 0]).abs().max() < 1e-4


def test_prompt_without_chat_template_is_rendered_as_turns(target: HFTarget) -> None:
    assert target.render(PROMPTS[2]) == "system: yes\nuser: one two three\nassistant:"


def test_cache_fingerprint_changes_when_weights_change(tiny_gpt2: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(tiny_gpt2, copy)
    before = HFTarget(copy).fingerprint
    weights = next(copy.glob("*.safetensors"))
    weights.write_bytes(weights.read_bytes())  # same bytes, new mtime
    assert HFTarget(copy).fingerprint != before


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing", "does not exist"),
        (lambda p: p, "no config.json"),
    ],
)
def test_unreadable_checkpoints_say_what_is_wrong(tmp_path: Path, make, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CheckpointError, match=message):
        resolve_target(f"hf:{make(tmp_path)}")


def test_corrupt_weights_raise_checkpoint_error(tiny_gpt2: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(tiny_gpt2, broken)
    next(broken.glob("*.safetensors")).write_bytes(b"not a safetensors file")
    with pytest.raises(CheckpointError, match="Cannot load checkpoint"):
        resolve_target(f"hf:{broken}")


def test_over_long_prompts_keep_their_end_and_leave_room_for_the_answer(target: HFTarget) -> None:
    long = [Message("user", " ".join(["cat"] * 400) + " hello how are you")]
    params = GenerateParams(max_tokens=8)
    (completion,) = target.generate_sync([long], params)
    assert completion.prompt_tokens == target.max_positions - 8
    out = target.forward(["dog " * 300 + "red"])
    assert out.input_ids.shape[1] == target.max_positions
    assert target.tokenizer.decode(out.input_ids[0, -1:]) == "red"


def test_an_answer_budget_as_long_as_the_context_keeps_the_prompt(target: HFTarget) -> None:
    # Asking for as many tokens as the model has positions once truncated every prompt to
    # one token, so every answer was the same; now the answer gets at most half of it,
    # and the prompt is still read.
    whole = target.max_positions
    params = GenerateParams(max_tokens=whole)
    answers = target.generate_sync(PROMPTS, params)
    assert len({c.text for c in answers}) > 1
    short = target.generate_sync(PROMPTS, GenerateParams(max_tokens=8))
    assert [c.text[: len(s.text)] for c, s in zip(answers, short, strict=True)] == [
        s.text for s in short
    ]
    assert all(c.completion_tokens is not None and c.completion_tokens < whole for c in answers)
