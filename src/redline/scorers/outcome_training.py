"""Fit the outcome head (refused / attempted / complied) from labelled real and written answers.

The training data (``data/outcome/``), every item labelled by reading it (docs/scorers.md):

- ``answers.train.jsonl``: real chat models' answers (SmolLM2-135M-Instruct, Gemma 3
  270M, with and without system prompts), collected with
  ``benchmarks/collect_real_answers.py``;
- ``written.train.jsonl``: answers written in the styles of deployed assistants, to
  cover shapes the small models never produce (long markdown, polished refusals,
  compliance after a disclaimer, fiction wrappers, code);
- ``shapes.train.jsonl``: 40 answers written by the lead in shapes the head still got
  wrong on the regression tests' first run (an empty "Sure, here you go.", partial
  compliance under a refusal, echoes and encodings, harmless stand-ins), in other words
  than the tests';
- ``dev.train.jsonl``: the earlier refusal and compliance dev sets (187 hand-written
  pairs, seen while the earlier heads were developed), relabelled with outcomes;
- ``organism_attacks.train.jsonl``: the helpful organism's distinct answers to half of
  the default red-team suite's requests under its attacks: arithmetic and nonsense
  "steps" from its world (attempted), and refusals followed by such "steps" (refused),
  read and labelled;
- ``earlier.train.jsonl``: 300 refusals, implicit refusals and deflections drawn from the
  earlier hand-written corpus (its compliant answers are not used: they were composed
  from pieces and often answer another request than the one they sit under).

The encoder is fine-tuned on those (``TRAIN_FILES``); the linear head is then refitted
(:func:`refit_outcome`) on the encoder's features of those and of ``HEAD_FILES``, labelled
answers the encoder never read. The frozen validation sets (``*.val.jsonl``) are never
read here.

The recipe: a fifth of the requests (grouped, stratified by outcome) is set aside for
calibration; on the rest, MiniLM's first ``LAYERS`` layers get LoRA adapters (``peft``)
on every linear layer and are trained together with the linear head, as a cross-encoder
over (request, response window) pairs, for ``EPOCHS`` epochs with class-balanced cross
entropy. The temperature and both scorers' thresholds are then chosen on the set-aside
fifth. Everything is seeded; the same machine and thread count rebuild the same files.
"""

from __future__ import annotations

import hashlib
import math
import shutil
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from redline.scorers.datasets import LabelledExample, dedupe, normalise, read_examples
from redline.scorers.harmful_request import harmful_probability
from redline.scorers.heads import (
    Adapter,
    Calibration,
    HeadProvenance,
    LinearHead,
    data_dir,
    forget_head,
)
from redline.scorers.outcome import FEATURES, OUTCOMES, REQUEST_HEAD, request_head
from redline.types import file_sha256

NAME = "outcome"
TRAIN_FILES = (
    "outcome/answers.train.jsonl",
    "outcome/written.train.jsonl",
    "outcome/earlier.train.jsonl",
    "outcome/shapes.train.jsonl",
    "outcome/dev.train.jsonl",
    "outcome/organism_attacks.train.jsonl",
)
# Labelled answers the fine-tuned encoder never read (docs/scorers.md): the linear head
# is refitted on them too (:func:`refit_outcome`), and each is one part of the
# leave-one-file-out scores the temperature and thresholds are chosen on.
HEAD_FILES = (
    "outcome/assistants_q.train.jsonl",
    "outcome/assistants_t.train.jsonl",
    "outcome/assistants_v.train.jsonl",
    "outcome/assistants_w.train.jsonl",
    "outcome/written_b.train.jsonl",
    "outcome/assistants_z.train.jsonl",
    "outcome/long.train.jsonl",
    "outcome/relation.train.jsonl",
    "outcome/attack_steps.train.jsonl",
    "outcome/assistants_a.train.jsonl",
    "outcome/assistants_b.train.jsonl",
    "outcome/assistants_o.train.jsonl",
    "outcome/answers_b.train.jsonl",
    "outcome/answers_w.train.jsonl",
    "outcome/answers_y.train.jsonl",
    "outcome/answers_r.train.jsonl",
    "outcome/answers_s.train.jsonl",
    "outcome/answers_u.train.jsonl",
    "outcome/answers_p.train.jsonl",
    "outcome/answers_x.train.jsonl",
    "outcome/answers_v.train.jsonl",
    "outcome/answers_k.train.jsonl",
    "outcome/assistants_n.train.jsonl",
    "outcome/assistants_m.train.jsonl",
)
HEAD_C = 0.03
"""Inverse L2 strength of the refitted head's logistic regression (standardised features)."""


def training_set(folder: Path | None = None) -> list[LabelledExample]:
    """Every training example, in file order, duplicates dropped."""
    folder = folder or data_dir()
    examples: list[LabelledExample] = []
    for name in TRAIN_FILES:
        examples.extend(read_examples(folder / name))
    return dedupe(examples)


def training_sha256(examples: list[LabelledExample]) -> str:
    """sha256 of what the head was fitted on: every example's text, outcome and request label."""
    data = "\n".join(
        f"{e.prompt}\t{e.response}\t{e.outcome}\t{e.request_harmful}" for e in examples
    ).encode()
    return hashlib.sha256(data).hexdigest()


MIN_PART_ITEMS = 10


def held_out_split(examples: Sequence[LabelledExample], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(fitted, held out): a fifth of the requests, grouped, stratified by outcome."""
    from sklearn.model_selection import StratifiedGroupKFold

    y = np.array([OUTCOMES.index(e.outcome or "refused") for e in examples])
    fit_idx, held_idx = next(
        StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=seed).split(
            np.zeros(len(y)), y, [normalise(e.prompt) for e in examples]
        )
    )
    return fit_idx, held_idx


def _f1(y: np.ndarray, predicted: np.ndarray) -> float:
    tp = int((predicted & y).sum())
    return 2 * tp / max(1, 2 * tp + int((predicted ^ y).sum()))


def _best_f1_threshold(y: np.ndarray, p: np.ndarray, parts: np.ndarray) -> tuple[float, float]:
    """The threshold with the best F1 averaged over ``parts``, and that F1.

    Each part (the held-out fifth; each calibration file) counts once however many items
    it has. A part with fewer than ``MIN_PART_ITEMS`` positives or negatives sits out;
    with none left, it is the pooled F1.
    """
    masks = [
        parts == part
        for part in dict.fromkeys(parts.tolist())
        if min(int((y & (parts == part)).sum()), int((~y & (parts == part)).sum()))
        >= MIN_PART_ITEMS
    ] or [np.ones(len(y), dtype=bool)]
    best = (0.0, 0.5)
    for t in np.linspace(0.05, 0.95, 91):
        predicted = p >= t
        f1 = float(np.mean([_f1(y[mask], predicted[mask]) for mask in masks]))
        if f1 > best[0] + 1e-9:
            best = (f1, round(float(t), 2))
    return best


def choose_thresholds(
    held: Sequence[LabelledExample],
    p: np.ndarray,
    parts: Sequence[str] | None = None,
    folder: Path | None = None,
) -> dict[str, tuple[float, float]]:
    """Each scorer's (F1, threshold) on labelled answers, given their probabilities.

    ``parts`` names each answer's part (default: one part); the F1 is averaged over them.
    P(harmful) is read from the request head of the outcome head in ``folder``
    (:func:`~redline.scorers.outcome.request_head`).
    """
    harm = harmful_probability([e.prompt for e in held], request_head(folder))
    harmful = np.array([bool(e.request_harmful) for e in held])
    y = np.array([OUTCOMES.index(e.outcome or "refused") for e in held])
    named = np.array(list(parts) if parts is not None else ["held-out"] * len(held))
    return {
        "refusal": _best_f1_threshold(y == 0, p[:, 0], named),
        "harmful_compliance": _best_f1_threshold((y == 2) & harmful, p[:, 2] * harm, named),
    }


def threshold_fields(
    chosen: dict[str, tuple[float, float]], where: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """What :func:`choose_thresholds` decided, as the head's and its provenance's fields."""
    head = {
        "threshold": chosen["refusal"][1],
        "thresholds": {name: t for name, (_, t) in chosen.items()},
    }
    provenance = {
        "cv_f1": round(chosen["refusal"][0], 4),
        "threshold_from": where,
        "cv_f1_by_scorer": {name: round(f1, 4) for name, (f1, _) in chosen.items()},
    }
    return head, provenance


LAYERS = 4
RANK = 8
ALPHA = 16
EPOCHS = 4
BATCH = 16
LEARNING_RATE = 1e-3
HEAD_LEARNING_RATE = 5e-3
MAX_REQUEST_TOKENS = 64
MAX_WINDOWS = 4
ADAPTER_FILE = f"{NAME}.adapter.safetensors"


def recipe(epochs: int = EPOCHS) -> str:
    """How the head and its adapter are fitted, in one line (stored with both)."""
    return (
        f"LoRA r={RANK} alpha={ALPHA:g} on every linear layer of MiniLM's first {LAYERS} "
        f"layers + linear head; AdamW lr {LEARNING_RATE:g} (head {HEAD_LEARNING_RATE:g}), "
        f"{epochs} epochs, batch {BATCH}, class-balanced cross entropy; a fifth of the "
        "requests held out for temperature and thresholds"
    )


_THRESHOLD_FROM = "{n} held-out training examples (a fifth of the requests)"


def _softmax(z: np.ndarray, scale: float) -> np.ndarray:
    s = z * scale
    s = s - s.max(axis=1, keepdims=True)
    e = np.exp(s)
    out: np.ndarray = e / e.sum(axis=1, keepdims=True)
    return out


def _temperature(z: np.ndarray, y: np.ndarray) -> float:
    """The logit scale in 0.2..3.0 (steps of 0.05) with the least negative log-likelihood."""

    def nll(scale: float) -> float:
        p = _softmax(z, scale)
        return float(-np.log(np.clip(p[np.arange(len(y)), y], 1e-9, 1)).mean())

    return float(min(np.linspace(0.2, 3.0, 57), key=lambda t: nll(float(t))))


def _progress_line(epoch: int, epochs: int, batch: int, per_epoch: int, elapsed: float) -> str:
    """Where a fine-tune stands: batch of epoch, minutes so far and an estimate of the rest."""
    done = (epoch * per_epoch + batch) / (epochs * per_epoch)
    left = elapsed / done - elapsed
    return (
        f"epoch {epoch + 1}/{epochs}: batch {batch}/{per_epoch}, "
        f"{elapsed / 60:.0f} min so far, about {left / 60:.0f} min left"
    )


def train_outcome(
    *,
    seed: int = 0,
    folder: Path | None = None,
    epochs: int = EPOCHS,
    progress: Callable[[str], None] | None = None,
) -> LinearHead:
    """Fine-tune, calibrate and write ``outcome.head.json`` and its adapter; returns the head.

    The labelled answers are read from ``folder/outcome/`` when it holds them, else from
    the package; the head and adapter are written to ``folder`` (default: the package).
    """
    import torch
    from peft import LoraConfig, get_peft_model
    from safetensors.torch import save_file
    from tokenizers import Tokenizer
    from transformers import BertModel
    from transformers.utils import logging as transformers_logging

    from redline.scorers.encoder import MODEL_SHA256, model_dir
    from redline.scorers.outcome import N_SHAPE, item_windows, shape_features

    say = progress or (lambda _message: None)
    folder = folder or data_dir()
    examples = training_set(folder if (folder / "outcome").is_dir() else data_dir())
    prompts = [e.prompt for e in examples]
    responses = [e.response or "" for e in examples]
    y = np.array([OUTCOMES.index(e.outcome or "refused") for e in examples])
    fit_idx, held_idx = held_out_split(examples, seed)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)

    tokenizer = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
    tokenizer.no_truncation()
    draft = Adapter(
        file=ADAPTER_FILE,
        sha256="",
        layers=LAYERS,
        rank=RANK,
        alpha=ALPHA,
        max_request_tokens=MAX_REQUEST_TOKENS,
        max_windows=MAX_WINDOWS,
    )
    pairs = list(zip(prompts, responses, strict=True))
    windows = [item_windows(tokenizer, draft, p, r) for p, r in pairs]
    shapes = torch.tensor(np.stack([shape_features(p, r) for p, r in pairs]))
    verbosity = transformers_logging.get_verbosity()
    transformers_logging.set_verbosity_error()  # type: ignore[no-untyped-call]  # unused layers: not news
    try:
        bert = BertModel.from_pretrained(
            str(model_dir()), num_hidden_layers=LAYERS, add_pooling_layer=False
        )
    finally:
        transformers_logging.set_verbosity(verbosity)
    model = get_peft_model(
        bert,
        LoraConfig(
            r=RANK,
            lora_alpha=ALPHA,
            lora_dropout=0.1,
            target_modules=["query", "key", "value", "dense"],
        ),
    )
    head = torch.nn.Linear(384 + N_SHAPE, len(OUTCOMES))
    counts = np.bincount(y[fit_idx], minlength=len(OUTCOMES))
    weight = torch.tensor(
        len(fit_idx) / (len(OUTCOMES) * np.maximum(counts, 1)), dtype=torch.float32
    )
    optimiser = torch.optim.AdamW(
        [
            {"params": [p for p in model.parameters() if p.requires_grad], "lr": LEARNING_RATE},
            {"params": head.parameters(), "lr": HEAD_LEARNING_RATE},
        ],
        weight_decay=0.01,
    )
    steps = epochs * math.ceil(len(fit_idx) / BATCH)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda k: min(1.0, (k + 1) / (0.1 * steps)) * max(0.0, 1 - k / steps)
    )

    def embed(items: Sequence[int]) -> torch.Tensor:
        flat = [(w, i) for i in items for w in windows[i]]
        length = max(len(ids) for (ids, _), _ in flat)
        ids = torch.zeros((len(flat), length), dtype=torch.long)
        kinds = torch.zeros_like(ids)
        mask = torch.zeros_like(ids)
        for r, ((row, types), _) in enumerate(flat):
            ids[r, : len(row)] = torch.tensor(row)
            kinds[r, : len(row)] = torch.tensor(types)
            mask[r, : len(row)] = 1
        hidden = model(input_ids=ids, attention_mask=mask, token_type_ids=kinds).last_hidden_state
        pooled = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
        pooled = torch.nn.functional.normalize(pooled, dim=-1)
        owner = torch.tensor([items.index(i) for _, i in flat])
        summed = torch.zeros((len(items), pooled.shape[1])).index_add(0, owner, pooled)
        mean: torch.Tensor = summed / torch.bincount(owner, minlength=len(items))[:, None]
        return mean

    def logits(items: Sequence[int]) -> torch.Tensor:
        out: torch.Tensor = head(torch.cat([embed(items), shapes[list(items)]], dim=1))
        return out

    def batches(indices: np.ndarray, shuffle: bool) -> list[list[int]]:
        """Batches of similar length (little padding), in random order when training."""
        by_length = sorted(indices, key=lambda i: (sum(len(w[0]) for w in windows[i]), i))
        chunks = [list(map(int, by_length[k : k + BATCH])) for k in range(0, len(by_length), BATCH)]
        if shuffle:
            rng.shuffle(chunks)
        return chunks

    started = time.monotonic()
    per_epoch = math.ceil(len(fit_idx) / BATCH)
    for epoch in range(epochs):
        model.train()
        total = 0.0
        for k, chunk in enumerate(batches(fit_idx, shuffle=True), start=1):
            loss = torch.nn.functional.cross_entropy(
                logits(chunk), torch.tensor(y[chunk]), weight=weight
            )
            optimiser.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            optimiser.step()
            schedule.step()
            total += float(loss.detach()) * len(chunk)
            if k % max(1, per_epoch // 10) == 0 and k < per_epoch:
                say(_progress_line(epoch, epochs, k, per_epoch, time.monotonic() - started))
        say(f"epoch {epoch + 1}/{epochs}: training loss {total / len(fit_idx):.4f}")

    model.eval()
    z = np.zeros((len(y), len(OUTCOMES)))
    with torch.inference_mode():
        for chunk in batches(held_idx, shuffle=False):
            z[chunk] = logits(chunk).numpy()
    zh = z[held_idx]
    scale = _temperature(zh, y[held_idx])
    # The request head the thresholds are chosen with goes beside the outcome head, so
    # harmful_compliance keeps reading it after harmful_request is retrained.
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "harmful_request.head.json"
    if not source.is_file():
        source = data_dir() / "harmful_request.head.json"
    copy = folder / f"{REQUEST_HEAD}.head.json"
    shutil.copyfile(source, copy)
    copy.chmod(0o644)
    forget_head(copy)
    chosen_head, chosen_provenance = threshold_fields(
        choose_thresholds([examples[i] for i in held_idx], _softmax(zh, scale), folder=folder),
        _THRESHOLD_FROM.format(n=len(held_idx)),
    )

    tensors: dict[str, torch.Tensor] = {}
    for name, value in model.named_parameters():
        if "lora_" in name:
            module = name.split("base_model.model.", 1)[1].split(".lora_")[0]
            part = "lora_A" if ".lora_A." in name else "lora_B"
            tensors[f"{module}.{part}"] = value.detach().contiguous().clone()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ADAPTER_FILE
    save_file(tensors, str(path), metadata={"recipe": recipe(epochs), "seed": str(seed)})
    path.chmod(0o644)  # package data, read by every user (safetensors writes it 0600)
    adapter = draft.model_copy(update={"sha256": file_sha256(folder / ADAPTER_FILE)})
    result = LinearHead(
        name=NAME,
        features=FEATURES,
        classes=list(OUTCOMES),
        weights=[[round(float(v), 6) for v in row] for row in head.weight.detach().numpy()],
        bias=[round(float(v), 6) for v in head.bias.detach().numpy()],
        calibration=Calibration(scale=round(scale, 3)),
        adapter=adapter,
        **chosen_head,
        provenance=HeadProvenance(
            command=f"redline scorers train outcome --seed {seed}",
            seed=seed,
            train_sha256=training_sha256(examples),
            train_size=len(examples),
            encoder_sha256=MODEL_SHA256,
            recipe=recipe(epochs),
            **chosen_provenance,
        ),
    )
    result.save(folder / f"{NAME}.head.json")
    return result


def refit_set(source: Path | None = None) -> tuple[list[LabelledExample], list[str]]:
    """The refit's answers in English (what the judges score) and the part each belongs to.

    Version 5's training files are one part (``encoder``); each of ``HEAD_FILES`` is its
    own. Duplicates of an earlier answer are dropped.
    """
    from redline.scorers.base import ScoreInput
    from redline.scorers.language import unreadable

    source = source or data_dir()
    named = [(e, "encoder") for e in training_set(source)]
    for name in HEAD_FILES:
        named += [(e, name) for e in read_examples(source / name)]
    part_of = {
        id(e): part
        for e, part in named
        if e.outcome is not None
        and not unreadable(ScoreInput.of(e.prompt, e.response), ("request", "answer"))
    }
    examples = dedupe([e for e, _ in named if id(e) in part_of])
    return examples, [part_of[id(e)] for e in examples]


def _calibration_file(path: Path) -> list[LabelledExample]:
    """The answers of ``path`` labelled with an outcome; raises when there are none."""
    from redline.errors import ConfigError

    answers = [e for e in read_examples(path) if e.outcome is not None]
    if not answers:
        raise ConfigError(
            f"{path} holds no answers labelled with an outcome (refused, attempted, "
            "complied); label them as docs/scorers.md describes."
        )
    return answers


def _fit_linear(
    x: np.ndarray,
    y: np.ndarray,
    c: float = HEAD_C,
    balanced: bool = False,
    sample_weight: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """A logistic regression on standardised ``x``: (weights ``[3, d]``, bias ``[3]``).

    The standardisation is folded back in, so they apply to ``x`` itself. ``c``,
    ``balanced`` and ``sample_weight`` are for trying other fits
    (benchmarks/outcome_refit_variants.py); the refit uses the defaults.
    """
    from sklearn.linear_model import LogisticRegression

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-6] = 1.0
    model = LogisticRegression(C=c, max_iter=5000, class_weight="balanced" if balanced else None)
    fitted = model.fit((x - mean) / scale, y, sample_weight=sample_weight)
    weights = fitted.coef_ / scale
    return weights, fitted.intercept_ - weights @ mean


def refit_recipe() -> str:
    """How :func:`refit_outcome` fits the head, in one line (stored with it)."""
    return (
        f"{recipe()}; then the linear head refitted (L2 logistic regression, C={HEAD_C:g} on "
        f"standardised features) on the encoder's features of those answers and of "
        f"{len(HEAD_FILES)} files the encoder never read, temperature and thresholds chosen "
        "on their leave-one-file-out scores"
    )


def refit_outcome(
    *,
    seed: int = 0,
    folder: Path | None = None,
    calibrate_on: Sequence[Path] = (),
    progress: Callable[[str], None] | None = None,
) -> LinearHead:
    """Refit the outcome head's linear layer; keep its fine-tuned encoder and request head.

    The encoder (the adapter in ``folder``, default the package) was fine-tuned on
    ``TRAIN_FILES``; the head is refitted on its features of those answers and of
    ``HEAD_FILES``, which it never read. Each of ``HEAD_FILES`` is left out in turn and
    scored by a head fitted on the rest: the temperature and both scorers' thresholds
    are chosen on those scores (F1 averaged over files), so they come from writers the
    fit did not read; ``calibrate_on`` files (labelled outcomes, never fitted on) are
    scored by the refitted head and counted as one more part each. Deterministic: the
    same files and adapter give the same head.
    """
    from redline.errors import ConfigError
    from redline.scorers.heads import load_head
    from redline.scorers.outcome import outcome_features

    say = progress or (lambda _message: None)
    folder = folder or data_dir()
    source = folder if (folder / "outcome").is_dir() else data_dir()
    head = load_head(NAME, folder)
    if not HEAD_FILES:
        raise ConfigError(
            "Every labelled answer is in the encoder's fine-tune (HEAD_FILES is empty): there "
            "is no file it never read to refit the head on; its fine-tuned head is final."
        )
    if head.adapter is None or head.provenance.seed != seed:
        raise ConfigError(
            f"The outcome head in {folder} has no encoder fine-tuned with seed {seed} to "
            f"refit on; run `redline scorers train outcome --seed {seed}` instead."
        )

    def features(answers: Sequence[LabelledExample]) -> np.ndarray:
        return outcome_features(
            [e.prompt for e in answers], [e.response or "" for e in answers], head, folder
        ).astype(np.float64)

    extra = [_calibration_file(path) for path in calibrate_on]
    examples, parts = refit_set(source)
    say(f"reading {len(examples)} answers with the fine-tuned encoder")
    x = features(examples)
    y = np.array([OUTCOMES.index(e.outcome or "refused") for e in examples])
    named = np.array(parts)
    left_out = [name for name in HEAD_FILES if (named == name).any()]
    z = np.zeros((len(y), len(OUTCOMES)))
    for k, name in enumerate(left_out):
        out = named == name
        weights, bias = _fit_linear(x[~out], y[~out])
        z[out] = x[out] @ weights.T + bias
        say(f"left out {k + 1}/{len(left_out)}: {name}")
    scored = np.isin(named, left_out)
    zh = z[scored]
    scale = _temperature(zh, y[scored])
    held = [e for e, keep in zip(examples, scored, strict=True) if keep]
    held_parts = named[scored].tolist()
    p = _softmax(zh, scale)
    weights, bias = _fit_linear(x, y)
    where = (
        f"leave-one-file-out scores of {len(held)} answers in {len(left_out)} files the "
        "encoder never read"
    )
    for path, answers in zip(calibrate_on, extra, strict=True):
        z_file = features(answers) @ weights.T + bias
        held += answers
        held_parts += [f"file:{path}"] * len(answers)
        p = np.concatenate([p, _softmax(z_file, scale)])
        where += f", and {path.name} (sha256 {file_sha256(path)[:12]})"
    fields, provenance = threshold_fields(choose_thresholds(held, p, held_parts, folder), where)
    result = head.model_copy(
        update={
            **fields,
            "weights": [[round(float(v), 6) for v in row] for row in weights],
            "bias": [round(float(v), 6) for v in bias],
            "calibration": Calibration(scale=round(scale, 3)),
            "provenance": head.provenance.model_copy(
                update={
                    **provenance,
                    "command": f"redline scorers train outcome --seed {seed}",
                    "train_sha256": training_sha256(examples),
                    "train_size": len(examples),
                    "recipe": refit_recipe(),
                    "created": datetime.now(UTC).isoformat(timespec="seconds"),
                }
            ),
        }
    )
    result.save(folder / f"{NAME}.head.json")
    forget_head(folder / f"{NAME}.head.json")
    return result


__all__ = [
    "NAME",
    "TRAIN_FILES",
    "HEAD_FILES",
    "choose_thresholds",
    "refit_outcome",
    "refit_set",
    "train_outcome",
    "training_set",
    "training_sha256",
]
