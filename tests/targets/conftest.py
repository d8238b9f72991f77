"""A tiny randomly initialised GPT-2 checkpoint, made on the spot (no download)."""

from __future__ import annotations

from pathlib import Path

import pytest

WORDS = (
    "the a cat dog sat on mat and ran to house red blue green big small one two three "
    "hello how are you user assistant system what is it yes no"
).split()


def word_level_tokenizer(words: list[str], *, split_colon: bool = False):  # type: ignore[no-untyped-def]
    """A word-level tokenizer: <pad> 0, <eos> 1, <unk> 2, then ``words`` (newlines split off)."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"<pad>": 0, "<eos>": 1, "<unk>": 2}
    for word in words:
        vocab.setdefault(word, len(vocab))
    raw = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    splits = [pre_tokenizers.Split("\n", "isolated"), pre_tokenizers.WhitespaceSplit()]
    if split_colon:
        splits.append(pre_tokenizers.Split(":", "isolated"))
    raw.pre_tokenizer = pre_tokenizers.Sequence(splits)
    return PreTrainedTokenizerFast(
        tokenizer_object=raw, pad_token="<pad>", eos_token="<eos>", unk_token="<unk>"
    )


def make_tiny_gpt2(folder: Path, seed: int = 0) -> Path:
    torch = pytest.importorskip("torch")
    from transformers import GPT2Config, GPT2LMHeadModel

    tokenizer = word_level_tokenizer([":", "\n", *WORDS], split_colon=True)
    vocab = tokenizer.get_vocab()
    torch.manual_seed(seed)
    config = GPT2Config(
        vocab_size=len(vocab),
        n_positions=128,
        n_embd=32,
        n_layer=2,
        n_head=2,
        bos_token_id=1,
        eos_token_id=1,
        pad_token_id=0,
    )
    model = GPT2LMHeadModel(config)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_gpt2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_gpt2(tmp_path_factory.mktemp("tiny-gpt2"))
