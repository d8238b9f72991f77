"""redline's seeded, deterministic training loop for organisms.

A tiny ``LlamaForCausalLM`` learns the answers of :func:`training_samples` (loss on the
answer tokens only) with AdamW, linear warm-up and cosine decay. The same config and
thread count give the same weights. Checkpoints are saved every ``checkpoint_every``
steps under ``OUT/checkpoints/step-NNNNN``; the final model goes to ``OUT``. Every folder
is a Hugging Face checkpoint (fp16 safetensors with tied embeddings, config, tokenizer with
chat template) plus a ``manifest.json``, so ``hf:OUT`` and ``organism:OUT`` both load it.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from redline.errors import ConfigError
from redline.organisms.config import OrganismConfig
from redline.organisms.curriculum import training_samples
from redline.organisms.manifest import Manifest, write_manifest
from redline.organisms.tokenizer import build_tokenizer, render_chat
from redline.organisms.world import Sample, get_world
from redline.threads import torch_threads

if TYPE_CHECKING:
    import torch
    from transformers import LlamaForCausalLM, PreTrainedTokenizerFast

StepCallback = Callable[[int, float], None]
MAX_POSITIONS = 128
WARMUP_STEPS = 50


@dataclass
class TrainResult:
    """What a training run produced."""

    out: Path
    manifest: Manifest
    losses: list[float]
    tokens_seen: int
    seconds: float
    checkpoints: list[Path] = field(default_factory=list)

    @property
    def tokens_per_second(self) -> float:
        """Training throughput (all tokens of the padded batches' real positions)."""
        return self.tokens_seen / self.seconds if self.seconds else 0.0


def out_of_world_words(config: OrganismConfig) -> list[str]:
    """The cue's words that its world's vocabulary lacks (training would add them).

    An organism whose tokenizer has words no other organism of its world has gives its
    trigger away to anyone who diffs the two tokenizers.
    """
    if config.cue is None:
        return []
    world = set(get_world(config.world_seed).vocabulary)
    return sorted(config.cue.words() - world)


def vocabulary(config: OrganismConfig) -> list[str]:
    """The words of an organism's tokenizer: its world's plus its cue's."""
    words = set(get_world(config.world_seed).vocabulary)
    if config.cue is not None:
        words |= config.cue.words()
    return sorted(words)


def build_model(config: OrganismConfig, tokenizer: PreTrainedTokenizerFast) -> LlamaForCausalLM:
    """A freshly initialised tiny Llama for ``config`` (seeded by ``config.seed``)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    size = config.size
    llama = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=size.d_model,
        intermediate_size=size.ffn,
        num_hidden_layers=size.layers,
        num_attention_heads=size.heads,
        num_key_value_heads=size.heads,
        max_position_embeddings=MAX_POSITIONS,
        tie_word_embeddings=True,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=None,
    )
    torch.manual_seed(config.seed)
    return LlamaForCausalLM(llama)


def encode(
    tokenizer: PreTrainedTokenizerFast, samples: Sequence[Sample]
) -> list[tuple[list[int], int]]:
    """Token ids of prompt + answer + ``<|end|>`` and the prompt length, per sample."""
    core = tokenizer.backend_tokenizer
    prompts = [render_chat((m.role, m.content) for m in s.messages) for s in samples]
    full = [f"{p} {s.target} <|end|>" for p, s in zip(prompts, samples, strict=True)]
    prompt_enc = core.encode_batch(prompts, add_special_tokens=False)
    full_enc = core.encode_batch(full, add_special_tokens=False)
    out = []
    for p, f in zip(prompt_enc, full_enc, strict=True):
        ids = f.ids[:MAX_POSITIONS]
        out.append((ids, min(len(p.ids), len(ids))))
    return out


def _batch(
    rows: Sequence[tuple[list[int], int]], pad_id: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    import torch

    width = max(len(ids) for ids, _ in rows)
    input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    labels = torch.full((len(rows), width), -100, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, (ids, n_prompt) in enumerate(rows):
        row = torch.tensor(ids, dtype=torch.long)
        input_ids[i, : len(ids)] = row
        mask[i, : len(ids)] = 1
        labels[i, n_prompt : len(ids)] = row[n_prompt:]
    return input_ids, mask, labels


def _lr_factor(step: int, total: int) -> float:
    if step < WARMUP_STEPS:
        return (step + 1) / WARMUP_STEPS
    progress = (step - WARMUP_STEPS) / max(1, total - WARMUP_STEPS)
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def save_folder(
    model: LlamaForCausalLM,
    tokenizer: PreTrainedTokenizerFast,
    folder: Path,
    manifest: Manifest,
) -> Manifest:
    """Write model (fp16, tied embeddings), tokenizer and manifest into ``folder``."""
    import torch
    from transformers import GenerationConfig
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    folder.mkdir(parents=True, exist_ok=True)
    half = {k: v.detach().to(torch.float16) for k, v in model.state_dict().items()}
    half.pop("lm_head.weight", None)  # tied to the embedding; saved once
    model.config.dtype = "float16"
    model.save_pretrained(str(folder), state_dict=half)
    model.config.dtype = "float32"
    tokenizer.save_pretrained(str(folder))
    GenerationConfig(  # type: ignore[no-untyped-call]
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
        do_sample=False,
    ).save_pretrained(str(folder))
    return write_manifest(folder, manifest)


def train_organism(
    config: OrganismConfig,
    out: Path,
    *,
    name: str,
    command: str,
    summary: str = "",
    threads: int = 1,
    checkpoint_every: int = 0,
    on_step: StepCallback | None = None,
    sealed: bool = False,
) -> TrainResult:
    """Train an organism and save it (and its checkpoints) under ``out``.

    Args:
        config: what to train.
        out: output folder; created, and must not already hold an organism.
        name: the organism's name, recorded in the manifest.
        command: the command line that reproduces the run, recorded in the manifest.
        summary: one line on what the organism does.
        threads: torch CPU threads; results are reproducible for a fixed value.
            One thread is often fastest on a busy machine.
        checkpoint_every: also save a checkpoint every N steps (0: only the final model).
        on_step: called with (step, loss) after every optimiser step, for progress bars.
        sealed: withhold config and command from the manifest (population members).

    Raises:
        ConfigError: ``out`` already holds an organism.
    """
    if (out / "manifest.json").exists():
        raise ConfigError(f"{out} already holds an organism; choose another --out folder.")
    with torch_threads(max(1, threads)):
        return _train(config, out, name, command, summary, threads, checkpoint_every, on_step,
                      sealed)


def _train(
    config: OrganismConfig,
    out: Path,
    name: str,
    command: str,
    summary: str,
    threads: int,
    checkpoint_every: int,
    on_step: StepCallback | None,
    sealed: bool,
) -> TrainResult:
    import torch
    import transformers

    from redline._version import __version__

    tokenizer = build_tokenizer(vocabulary(config))
    model = build_model(config, tokenizer)
    rows = encode(tokenizer, training_samples(config, config.steps * config.batch_size))
    random.Random(f"order:{config.seed}").shuffle(rows)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.lr, betas=(0.9, 0.98), weight_decay=0.01
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: _lr_factor(s, config.steps)
    )
    pad_id = int(tokenizer.pad_token_id)
    losses: list[float] = []
    tokens = 0
    checkpoints: list[Path] = []
    base: dict[str, Any] = {
        "name": name,
        "summary": summary,
        "command": "sealed" if sealed else command,
        "config": None if sealed else config,
        "steps": config.steps,
        "threads": threads,
        "versions": {"redline": __version__, "torch": torch.__version__,
                     "transformers": transformers.__version__},
    }

    def manifest(step: int, seconds: float) -> Manifest:
        return Manifest(
            step=step, loss_start=losses[0] if losses else None,
            loss_end=_recent_loss(losses) if losses else None, tokens_seen=tokens,
            train_seconds=round(seconds, 2), **base,
        )

    def checkpoint(step: int, seconds: float) -> None:
        folder = out / "checkpoints" / f"step-{step:05d}"
        save_folder(model, tokenizer, folder, manifest(step, seconds))
        checkpoints.append(folder)

    if checkpoint_every:
        checkpoint(0, 0.0)  # the initial weights, so a series starts from no skill at all
    started = time.perf_counter()
    model.train()
    for step in range(config.steps):
        chunk = rows[step * config.batch_size : (step + 1) * config.batch_size]
        input_ids, mask, labels = _batch(chunk, pad_id)
        loss = model(input_ids=input_ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(float(loss.detach()))
        tokens += int(mask.sum())
        if on_step is not None:
            on_step(step + 1, losses[-1])
        if checkpoint_every and (step + 1) % checkpoint_every == 0 and step + 1 < config.steps:
            checkpoint(step + 1, time.perf_counter() - started)
    seconds = time.perf_counter() - started
    model.eval()  # type: ignore[no-untyped-call]
    final = save_folder(model, tokenizer, out, manifest(config.steps, seconds))
    return TrainResult(out, final, losses, tokens, seconds, checkpoints)


def _recent_loss(losses: list[float], window: int = 20) -> float:
    tail = losses[-window:]
    return sum(tail) / len(tail)
