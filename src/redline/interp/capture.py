"""Activation capture: scoped forward hooks with TransformerLens-style names.

Hook points are named as in TransformerLens, whatever the architecture underneath
(Llama/Qwen/Mistral ``model.layers``, GPT-2 ``transformer.h``, GPT-NeoX ``gpt_neox.layers``):

- ``blocks.{i}.hook_resid_pre``  residual stream entering block ``i``   ``[batch, pos, d_model]``
- ``blocks.{i}.hook_resid_post`` residual stream leaving block ``i``    ``[batch, pos, d_model]``
- ``blocks.{i}.hook_attn_out``   attention output of block ``i``        ``[batch, pos, d_model]``
- ``blocks.{i}.hook_mlp_out``    MLP output of block ``i``              ``[batch, pos, d_model]``
- ``blocks.{i}.mlp.hook_post``   MLP neurons (input of the down projection) ``[batch, pos, d_mlp]``

Hooks live only inside :func:`hooked`, which removes them in ``finally``, and they record
only calls made from the thread that opened the scope, so a generation running in another
thread on the same model never leaks into a capture. Each hook keeps just the token
positions asked for, so memory scales with the positions kept, not the sequence length.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from redline.errors import ConfigError
from redline.types import Message, content_hash

if TYPE_CHECKING:
    import torch

HOOK_KINDS = ("hook_resid_pre", "hook_resid_post", "hook_attn_out", "hook_mlp_out", "mlp.hook_post")
_NAME = re.compile(
    r"^blocks\.(\d+)\.(hook_resid_pre|hook_resid_post|hook_attn_out|hook_mlp_out|mlp\.hook_post)$"
)
_BLOCK_LISTS = ("model.layers", "transformer.h", "gpt_neox.layers", "model.decoder.layers")
_ATTN_NAMES = ("self_attn", "attn", "attention")
_DOWN_PROJ = ("down_proj", "c_proj", "dense_4h_to_h", "fc2", "fc_out")


@runtime_checkable
class WhiteBox(Protocol):
    """A target whose model can be read: :class:`~redline.targets.hf.HFTarget` and organisms."""

    model: Any
    tokenizer: Any

    @property
    def fingerprint(self) -> str:
        """Identifies the weights, for cache keys."""
        ...

    def render(self, messages: Sequence[Message]) -> str:
        """The prompt text the model sees for a conversation."""
        ...


def as_white_box(target: object) -> WhiteBox:
    """``target`` typed as a :class:`WhiteBox`, or a ConfigError saying what is needed.

    Raises:
        ConfigError: the target exposes no model (an API or mock target).
    """
    if isinstance(target, WhiteBox):
        return target
    spec = getattr(target, "spec", type(target).__name__)
    raise ConfigError(
        f"Target {spec} is not white-box: interp needs a local model. "
        "Use an hf:/path/to/checkpoint or organism:NAME target."
    )


def hook_name(layer: int, kind: str = "hook_resid_post") -> str:
    """``hook_name(3)`` → ``"blocks.3.hook_resid_post"``."""
    name = f"blocks.{layer}.{kind}"
    parse_hook_name(name)
    return name


def parse_hook_name(name: str) -> tuple[int, str]:
    """``"blocks.3.mlp.hook_post"`` → ``(3, "mlp.hook_post")``.

    Raises:
        ConfigError: the name is not a hook point.
    """
    match = _NAME.match(name)
    if match is None:
        raise ConfigError(
            f"'{name}' is not a hook point. Use blocks.N.KIND with KIND one of "
            f"{', '.join(HOOK_KINDS)}, e.g. blocks.3.hook_resid_post."
        )
    return int(match.group(1)), match.group(2)


def expand_hooks(spec: str, n_layers: int) -> list[str]:
    """Hook names from a short spec.

    ``"resid_post"`` → every layer's ``hook_resid_post``; ``"mlp.hook_post@2"`` → one;
    ``"resid_post@1,3"`` → layers 1 and 3; full names pass through. Comma-separated
    full names are accepted too.

    Raises:
        ConfigError: the spec names no hook kind or a layer out of range.
    """
    names: list[str] = []
    for part in _split_spec(spec):
        if part.startswith("blocks."):
            names.append(part)
            continue
        kind, _, layers = part.partition("@")
        kind = kind if kind.startswith(("hook_", "mlp.")) else f"hook_{kind}"
        if kind not in HOOK_KINDS:
            raise ConfigError(
                f"Unknown hook kind '{kind}'. Known: {', '.join(HOOK_KINDS)} "
                "(e.g. resid_post, resid_post@2, mlp.hook_post@1)."
            )
        indices = [int(x) for x in layers.split("+") if x] if layers else range(n_layers)
        names.extend(f"blocks.{i}.{kind}" for i in indices)
    for name in names:
        layer, _ = parse_hook_name(name)
        if not 0 <= layer < n_layers:
            raise ConfigError(f"Hook {name}: the model has layers 0..{n_layers - 1}.")
    return list(dict.fromkeys(names))


def _split_spec(spec: str) -> list[str]:
    # "resid_post@1+3,mlp.hook_post@0": commas separate entries, '+' separates layers.
    return [p.strip() for p in spec.split(",") if p.strip()]


# --- locating modules -------------------------------------------------------------------


def _get(obj: Any, dotted: str) -> Any:
    for attr in dotted.split("."):
        obj = getattr(obj, attr, None)
        if obj is None:
            return None
    return obj


def blocks_of(model: Any) -> Any:
    """The model's list of transformer blocks.

    Raises:
        ConfigError: the architecture keeps its blocks somewhere unknown.
    """
    for path in _BLOCK_LISTS:
        found = _get(model, path)
        if found is not None:
            return found
    raise ConfigError(
        f"Cannot find the transformer blocks of {type(model).__name__}: looked for "
        f"{', '.join(_BLOCK_LISTS)}. Supported: Llama/Qwen/Mistral, GPT-2, GPT-NeoX families."
    )


def _child(block: Any, names: Sequence[str], what: str) -> Any:
    for name in names:
        found = getattr(block, name, None)
        if found is not None:
            return found
    raise ConfigError(
        f"Block {type(block).__name__} has no {what} (looked for {', '.join(names)})."
    )


def _first_tensor(value: Any) -> torch.Tensor:
    first: torch.Tensor = value[0] if isinstance(value, tuple | list) else value
    return first


# --- positions --------------------------------------------------------------------------


@dataclass(frozen=True)
class Positions:
    """Which token positions to keep.

    Modes: ``last`` (the last real token: ``[batch, d]``), ``mean`` (mean over real tokens:
    ``[batch, d]``), ``all`` (every position, padded on the right: ``[batch, pos, d]``),
    or ``offsets`` (positions counted back from the last real token, ``-1`` being the
    last: ``[batch, len(offsets), d]``).
    """

    mode: str = "last"
    offsets: tuple[int, ...] = ()

    @classmethod
    def parse(cls, spec: str | Positions) -> Positions:
        """``"last"``, ``"mean"``, ``"all"`` or offsets such as ``"-1,-2"``.

        Raises:
            ConfigError: anything else.
        """
        if isinstance(spec, Positions):
            return spec
        if spec in ("last", "mean", "all"):
            return cls(spec)
        try:
            offsets = tuple(int(x) for x in spec.split(","))
        except ValueError:
            offsets = ()
        if not offsets or any(o >= 0 for o in offsets):
            raise ConfigError(
                f"Positions '{spec}' not understood: use last, mean, all, or negative offsets "
                "from the last token such as -1,-3."
            )
        return cls("offsets", offsets)

    def __str__(self) -> str:
        return ",".join(map(str, self.offsets)) if self.mode == "offsets" else self.mode

    def reducer(self, mask: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
        """A function that keeps these positions of ``[batch, pos, d]`` given ``[batch, pos]``."""
        import torch

        last = mask.sum(dim=1) - 1
        rows = torch.arange(mask.shape[0], device=mask.device)
        if self.mode == "all":
            return lambda x: x
        if self.mode == "last":
            return lambda x: x[rows, last]
        if self.mode == "mean":
            weights = (mask / mask.sum(dim=1, keepdim=True)).unsqueeze(-1)
            return lambda x: (x * weights.to(x.dtype)).sum(dim=1)
        index = torch.stack([(last + 1 + o).clamp(min=0) for o in self.offsets], dim=1)
        return lambda x: x[rows.unsqueeze(1), index]


# --- hooks ------------------------------------------------------------------------------


@contextmanager
def hooked(
    model: Any, names: Sequence[str], reduce: Callable[[torch.Tensor], torch.Tensor] | None = None
) -> Iterator[dict[str, torch.Tensor]]:
    """Record the named hook points for the forward passes run inside the ``with`` block.

    Yields a dict that fills, per name, with the activations of the last forward pass
    (``reduce`` applied, detached, on the model's device). Hooks are removed on exit,
    even when the block raises, and ignore calls from other threads.

    Args:
        model: a transformers causal LM.
        names: hook point names (:func:`parse_hook_name`).
        reduce: applied to each ``[batch, pos, d]`` activation before it is kept.
    """
    owner = threading.get_ident()
    store: dict[str, torch.Tensor] = {}
    keep = reduce or (lambda x: x)
    blocks = blocks_of(model)
    handles = []

    def saver(name: str, pick: Callable[..., Any]) -> Callable[..., None]:
        def hook(*args: Any) -> None:
            if threading.get_ident() == owner:
                store[name] = keep(_first_tensor(pick(*args)).detach())

        return hook

    try:
        for name in names:
            layer, kind = parse_hook_name(name)
            if layer >= len(blocks):
                raise ConfigError(f"Hook {name}: the model has layers 0..{len(blocks) - 1}.")
            block = blocks[layer]
            if kind == "hook_resid_pre":
                handles.append(
                    block.register_forward_pre_hook(
                        saver(name, lambda m, a, kw: a[0] if a else kw["hidden_states"]),
                        with_kwargs=True,
                    )
                )
            elif kind == "hook_resid_post":
                handles.append(block.register_forward_hook(saver(name, lambda m, a, out: out)))
            elif kind == "hook_attn_out":
                attn = _child(block, _ATTN_NAMES, "attention module")
                handles.append(attn.register_forward_hook(saver(name, lambda m, a, out: out)))
            elif kind == "hook_mlp_out":
                mlp = _child(block, ("mlp",), "MLP")
                handles.append(mlp.register_forward_hook(saver(name, lambda m, a, out: out)))
            else:
                mlp = _child(block, ("mlp",), "MLP")
                down = _child(mlp, _DOWN_PROJ, "MLP down projection")
                handles.append(
                    down.register_forward_pre_hook(
                        saver(name, lambda m, a, kw: a[0] if a else kw["input"]), with_kwargs=True
                    )
                )
        yield store
    finally:
        for handle in handles:
            handle.remove()


# --- the cache --------------------------------------------------------------------------


@dataclass
class ActivationCache:
    """Captured activations, by value.

    Attributes:
        activations: hook name → float32 CPU tensor; ``[batch, d]`` for ``last``/``mean``,
            ``[batch, pos, d]`` for ``all``, ``[batch, k, d]`` for ``k`` offsets.
        positions: which positions were kept.
        texts: the texts captured, in order.
        tokens: ``[batch, pos]`` token ids (``all`` only; padded with the pad id).
        mask: ``[batch, pos]`` 1 for real tokens (``all`` only).
        fingerprint: the model's fingerprint.
    """

    activations: dict[str, torch.Tensor]
    positions: Positions
    texts: list[str]
    tokens: torch.Tensor | None = None
    mask: torch.Tensor | None = None
    fingerprint: str = ""
    meta: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, name: str) -> torch.Tensor:
        try:
            return self.activations[name]
        except KeyError:
            raise ConfigError(
                f"Hook {name} was not captured; captured: {', '.join(self.activations)}."
            ) from None

    @property
    def names(self) -> list[str]:
        """The captured hook names, in capture order."""
        return list(self.activations)

    def numpy(self, name: str) -> Any:
        """One hook's activations as a float64 ``[n, features]`` array (for probes and detectors).

        Offsets are concatenated (``[n, k * d]``); ``all`` captures have no such form.
        """
        values = self[name].double()
        if self.positions.mode == "offsets":
            values = values.reshape(values.shape[0], -1)
        elif self.positions.mode == "all":
            raise ConfigError(
                "Probes read one vector per text; capture with positions last, "
                "mean or offsets, not all."
            )
        return values.numpy()

    def save(self, path: Path) -> Path:
        """Write to a safetensors file; texts and settings go in its metadata header."""
        import json

        from safetensors.torch import save_file

        tensors = {f"act/{k}": v.contiguous() for k, v in self.activations.items()}
        if self.tokens is not None and self.mask is not None:
            tensors["tokens"] = self.tokens.contiguous()
            tensors["mask"] = self.mask.contiguous()
        meta = {
            **self.meta,
            "positions": str(self.positions),
            "texts": json.dumps(self.texts),
            "fingerprint": self.fingerprint,
            "names": json.dumps(self.names),
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        save_file(tensors, str(tmp), metadata=meta)
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: Path) -> ActivationCache:
        """Read a file written by :meth:`save`.

        Raises:
            ConfigError: the file is missing or not an activation cache.
        """
        import json

        from safetensors import safe_open

        if not path.is_file():
            raise ConfigError(
                f"Activation file {path} does not exist; run `redline interp capture`."
            )
        try:
            with safe_open(str(path), framework="pt") as handle:
                meta = dict(handle.metadata() or {})
                tensors = {k: handle.get_tensor(k) for k in handle.keys()}  # noqa: SIM118
            names = json.loads(meta.pop("names"))
            texts = json.loads(meta.pop("texts"))
            positions = Positions.parse(meta.pop("positions"))
            fingerprint = meta.pop("fingerprint", "")
        except (KeyError, ValueError, OSError) as exc:
            raise ConfigError(f"{path} is not a redline activation file: {exc}.") from exc
        return cls(
            {n: tensors[f"act/{n}"] for n in names},
            positions,
            texts,
            tensors.get("tokens"),
            tensors.get("mask"),
            fingerprint,
            meta,
        )


def capture(
    target: object,
    texts: Sequence[str],
    hooks: Sequence[str],
    *,
    positions: str | Positions = "last",
    batch_size: int = 16,
    progress: Callable[[int], None] | None = None,
) -> ActivationCache:
    """Run the model on raw texts (no chat template) and keep the named activations.

    Texts are tokenised without special tokens, right-padded, in batches; only the kept
    positions leave the hooks. The output logits are computed for the last position only
    when the model supports it, since capture never needs them.

    Args:
        target: a white-box target (:class:`WhiteBox`).
        texts: the inputs; use :func:`render_prompts` for chat prompts.
        hooks: hook names, e.g. ``["blocks.1.hook_resid_post"]``.
        positions: ``last``, ``mean``, ``all`` or offsets (:class:`Positions`).
        batch_size: texts per forward pass.
        progress: called with the number of texts finished after each batch.

    Returns:
        The cache; ``[batch, d]`` per hook for ``last``/``mean``, see :class:`ActivationCache`.
    """
    import torch

    box = as_white_box(target)
    where = Positions.parse(positions)
    if not texts:
        raise ConfigError("Nothing to capture: the list of texts is empty.")
    model, tokenizer = box.model, box.tokenizer
    device = next(model.parameters()).device
    extra = _forward_extras(model)
    parts: dict[str, list[torch.Tensor]] = {name: [] for name in hooks}
    token_parts: list[torch.Tensor] = []
    mask_parts: list[torch.Tensor] = []
    for start in range(0, len(texts), batch_size):
        chunk = list(texts[start : start + batch_size])
        enc = tokenizer(
            chunk, return_tensors="pt", padding=True, padding_side="right", add_special_tokens=False
        ).to(device)
        if int(enc["attention_mask"].sum(dim=1).min()) == 0:
            raise ConfigError("A text tokenises to nothing; every text must contain a token.")
        with (
            hooked(model, hooks, where.reducer(enc["attention_mask"])) as store,
            torch.inference_mode(),
        ):
            model(**enc, **extra)
        for name in hooks:
            parts[name].append(store[name].float().cpu())
        if where.mode == "all":
            token_parts.append(enc["input_ids"].cpu())
            mask_parts.append(enc["attention_mask"].cpu())
        if progress is not None:
            progress(len(chunk))
    pad_id = int(tokenizer.pad_token_id or 0)
    return ActivationCache(
        {name: _cat(chunks) for name, chunks in parts.items()},
        where,
        list(texts),
        _cat(token_parts, pad_id) if token_parts else None,
        _cat(mask_parts, 0) if mask_parts else None,
        box.fingerprint,
    )


def _forward_extras(model: Any) -> dict[str, Any]:
    import inspect

    params = inspect.signature(model.forward).parameters
    return {"logits_to_keep": 1} if "logits_to_keep" in params else {}


def _cat(chunks: list[torch.Tensor], pad: float = 0.0) -> torch.Tensor:
    """Concatenate on dim 0, right-padding dim 1 when chunks differ in length."""
    import torch

    if chunks[0].dim() < 2 or all(c.shape[1:] == chunks[0].shape[1:] for c in chunks):
        return torch.cat(chunks)
    width = max(c.shape[1] for c in chunks)
    padded = []
    for c in chunks:
        shape = (c.shape[0], width - c.shape[1], *c.shape[2:])
        padded.append(torch.cat([c, torch.full(shape, pad, dtype=c.dtype)], dim=1))
    return torch.cat(padded)


def render_prompts(target: object, conversations: Sequence[Sequence[Message]]) -> list[str]:
    """Conversations as the model sees them, ready for its answer (chat template applied)."""
    box = as_white_box(target)
    return [box.render(c) for c in conversations]


def cached_capture(
    target: object,
    texts: Sequence[str],
    hooks: Sequence[str],
    *,
    positions: str | Positions = "last",
    batch_size: int = 16,
    cache_dir: Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> ActivationCache:
    """:func:`capture`, read from or written to a safetensors file keyed by its inputs.

    The key covers the model fingerprint, the texts, the hooks and the positions, so a
    changed checkpoint or input never reads a stale file. ``cache_dir`` defaults to
    ``$REDLINE_HOME/activations``.
    """
    from redline.paths import home

    box = as_white_box(target)
    where = Positions.parse(positions)
    key = content_hash("activations/v1", box.fingerprint, list(texts), list(hooks), str(where))
    path = (cache_dir or home() / "activations") / f"{key[:32]}.safetensors"
    if path.is_file():
        return ActivationCache.load(path)
    cache = capture(box, texts, hooks, positions=where, batch_size=batch_size, progress=progress)
    cache.save(path)
    return cache
