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

The frozen validation sets (``answers.val.jsonl``, ``written.val.jsonl``) are never read
here.

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
from collections.abc import Callable, Sequence
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
    head = {"threshold": chosen["refusal"][1],
            "thresholds": {name: t for name, (_, t) in chosen.items()}}
    provenance = {"cv_f1": round(chosen["refusal"][0], 4), "threshold_from": where,
                  "cv_f1_by_scorer": {name: round(f1, 4) for name, (f1, _) in chosen.items()}}
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

    for epoch in range(epochs):
        model.train()
        total = 0.0
        for chunk in batches(fit_idx, shuffle=True):
            loss = torch.nn.functional.cross_entropy(
                logits(chunk), torch.tensor(y[chunk]), weight=weight
            )
            optimiser.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            optimiser.step()
            schedule.step()
            total += float(loss.detach()) * len(chunk)
        say(f"epoch {epoch + 1}/{epochs}: training loss {total / len(fit_idx):.4f}")

    model.eval()
    z = np.zeros((len(y), len(OUTCOMES)))
    with torch.inference_mode():
        for chunk in batches(held_idx, shuffle=False):
            z[chunk] = logits(chunk).numpy()
    zh, yh = z[held_idx], y[held_idx]

    def nll(scale: float) -> float:
        p = _softmax(zh, scale)
        return float(-np.log(np.clip(p[np.arange(len(yh)), yh], 1e-9, 1)).mean())

    scale = float(min(np.linspace(0.2, 3.0, 57), key=lambda t: nll(float(t))))
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


def rethreshold_outcome(
    *, seed: int = 0, folder: Path | None = None, calibrate_on: Sequence[Path] = ()
) -> LinearHead:
    """Choose the outcome head's thresholds again; keep its weights.

    For a change in how thresholds are chosen, or for labelled answers of a kind the
    training data lacks (``calibrate_on``: files of labelled outcomes, each counted as
    one more part beside the held-out fifth), without refitting (which takes
    most of an hour). The head in ``folder`` (default: the package) must have been fitted
    with this ``seed`` on the training files as they are now; else this raises and writes
    nothing. A calibration file is development data from then on: it no longer measures
    the head.
    """
    from redline.errors import ConfigError
    from redline.scorers.heads import load_head
    from redline.scorers.outcome import outcome_features

    folder = folder or data_dir()
    head = load_head(NAME, folder)
    examples = training_set(folder if (folder / "outcome").is_dir() else data_dir())
    made = head.provenance
    if made.seed != seed or made.train_sha256 != training_sha256(examples):
        raise ConfigError(
            f"The outcome head in {folder} was fitted with seed {made.seed} on other data "
            f"than the training files now hold (or another seed than {seed}); refit it with "
            f"`redline scorers train outcome --seed {seed}` instead."
        )
    _, held_idx = held_out_split(examples, seed)
    held = [examples[i] for i in held_idx]
    parts = ["held-out"] * len(held)
    for path in calibrate_on:
        extra = [e for e in read_examples(path) if e.outcome is not None]
        if not extra:
            raise ConfigError(
                f"{path} holds no answers labelled with an outcome (refused, attempted, "
                "complied); label them as docs/scorers.md describes."
            )
        held += extra
        parts += [f"file:{path}"] * len(extra)
    features = outcome_features(
        [e.prompt for e in held], [e.response or "" for e in held], head, folder
    )
    where = _THRESHOLD_FROM.format(n=len(held_idx))
    if calibrate_on:
        where += ", F1 averaged with " + ", ".join(
            f"{p.name} (sha256 {file_sha256(p)[:12]})" for p in calibrate_on
        )
    fields, provenance = threshold_fields(
        choose_thresholds(held, head.proba(features), parts, folder), where
    )
    result = head.model_copy(
        update={**fields, "provenance": made.model_copy(update=provenance)}
    )
    result.save(folder / f"{NAME}.head.json")
    return result


__all__ = [
    "NAME",
    "TRAIN_FILES",
    "choose_thresholds",
    "rethreshold_outcome",
    "train_outcome",
    "training_set",
    "training_sha256",
]
