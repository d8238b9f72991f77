"""Token-level access to a white-box target: prompts with a trigger slot, losses and gradients.

A *slot prompt* is a conversation rendered through the target's chat template with a
marker where the searched tokens go; it is kept as the token ids before and after the
slot, so candidates are spliced in as ids (no re-tokenisation inside the search). Losses
are teacher-forced over a continuation (the model's own refusal opening, or an
affirmative target text) and gradients are taken with respect to a one-hot encoding of
the slot tokens through the input embedding matrix, as in GCG (Zou et al., 2023).

torch is imported inside the functions; this module is light to import.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from redline.errors import ConfigError
from redline.types import Message

if TYPE_CHECKING:
    import torch

    from redline.targets.hf import HFTarget

Position = Literal["prefix", "suffix"]
LossMode = Literal["avoid", "reach", "swap"]
"""``avoid``: push down the probability of the continuation (a refusal opening);
``reach``: pull up the probability of the continuation (an affirmative target);
``swap``: keep every token of the continuation but its last, and push the last down (the
model's own plain answer up to the value it states: the same sentence, another value)."""

_MARKER = "\u2063redline-slot\u2063"


def with_trigger(request: str, trigger: str, position: Position) -> str:
    """The user message with ``trigger`` placed before or after the request."""
    if not trigger:
        return request
    return f"{trigger} {request}" if position == "prefix" else f"{request} {trigger}"


@dataclass(frozen=True)
class SlotPrompt:
    """A rendered prompt split around the trigger slot, as token ids.

    Attributes:
        request: the request text the prompt was made from.
        before: ids up to the slot (template header, and the request for a suffix slot).
        after: ids after the slot up to where the answer starts.
    """

    request: str
    before: tuple[int, ...]
    after: tuple[int, ...]


class TokenModel:
    """The model, tokenizer and embedding matrix of an ``hf:`` target, for token search."""

    def __init__(self, target: HFTarget) -> None:
        self.target = target
        self.model: Any = target.model
        self.tokenizer: Any = target.tokenizer
        self.device = target.device
        self._allowed: torch.Tensor | None = None

    @property
    def vocab_size(self) -> int:
        """Rows of the input embedding matrix."""
        return int(self.model.get_input_embeddings().weight.shape[0])

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text`` without special tokens added."""
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def decode(self, ids: Sequence[int]) -> str:
        """Text of ``ids``, stripped of surrounding spaces."""
        return str(self.tokenizer.decode(list(ids), skip_special_tokens=True)).strip()

    def round_trips(self, ids: Sequence[int]) -> bool:
        """True when decoding then encoding ``ids`` gives them back (what the target will see)."""
        return self.encode(self.decode(ids)) == list(ids)

    def allowed_tokens(self) -> torch.Tensor:
        """``[vocab]`` bool: tokens a trigger may use (not special, survive a round trip)."""
        import torch

        if self._allowed is None:
            special = set(self.tokenizer.all_special_ids)
            allowed = torch.zeros(self.vocab_size, dtype=torch.bool)
            for token in range(min(self.vocab_size, len(self.tokenizer))):
                if token in special:
                    continue
                text = self.decode([token])
                if text and not text.isspace() and _MARKER not in text and self.round_trips(
                    [token]
                ):
                    allowed[token] = True
            if not allowed.any():
                raise ConfigError("The target's vocabulary has no token a trigger could use.")
            self._allowed = allowed
        return self._allowed

    def slot_prompts(
        self, requests: Sequence[str], position: Position, system: str | None = None
    ) -> list[SlotPrompt]:
        """Render each request with a slot before (``prefix``) or after (``suffix``) it."""
        prompts = []
        for request in requests:
            messages = [Message("system", system)] if system else []
            messages.append(Message("user", with_trigger(request, _MARKER, position)))
            text = self.target.render(messages)
            head, sep, tail = text.partition(_MARKER)
            if not sep:
                raise ConfigError(
                    "The target's chat template drops part of the user message; "
                    "trigger search needs the message text in the prompt."
                )
            prompts.append(SlotPrompt(request, tuple(self.encode(head)), tuple(self.encode(tail))))
        return prompts

    @contextmanager
    def frozen(self) -> Iterator[None]:
        """Turn off parameter gradients while searching; restores them afterwards."""
        params = list(self.model.parameters())
        before = [p.requires_grad for p in params]
        try:
            for p in params:
                p.requires_grad_(False)
            yield
        finally:
            for p, flag in zip(params, before, strict=True):
                p.requires_grad_(flag)

    def _batch(
        self,
        prompts: Sequence[SlotPrompt],
        continuations: Sequence[Sequence[int]],
        slot_len: int,
    ) -> tuple[torch.Tensor, torch.Tensor, list[int], list[int]]:
        """Right-padded ids with a zeroed slot; the slot start and continuation start per row."""
        import torch

        rows = [
            [*p.before, *([0] * slot_len), *p.after, *c]
            for p, c in zip(prompts, continuations, strict=True)
        ]
        width = max(len(r) for r in rows)
        pad = int(self.tokenizer.pad_token_id or 0)
        ids = torch.full((len(rows), width), pad, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, row in enumerate(rows):
            ids[i, : len(row)] = torch.tensor(row)
            mask[i, : len(row)] = 1
        slots = [len(p.before) for p in prompts]
        starts = [len(p.before) + slot_len + len(p.after) for p in prompts]
        return ids.to(self.device), mask.to(self.device), slots, starts

    def _row_losses(
        self,
        logits: torch.Tensor,
        ids: torch.Tensor,
        starts: Sequence[int],
        continuations: Sequence[Sequence[int]],
        mode: LossMode,
    ) -> torch.Tensor:
        """``[rows]`` loss per row; lower is better for the searcher."""
        import torch

        losses = []
        for i, (start, cont) in enumerate(zip(starts, continuations, strict=True)):
            n = len(cont)
            step_logits = logits[i, start - 1 : start - 1 + n].float()
            logp = torch.log_softmax(step_logits, dim=-1)
            token_logp = logp.gather(1, ids[i, start : start + n].unsqueeze(1)).squeeze(1)
            if mode == "reach":
                losses.append(-token_logp.mean())
            elif mode == "swap":
                last = token_logp[-1].clamp(max=-1e-6)
                keep = -token_logp[:-1].mean() if n > 1 else token_logp.new_zeros(())
                losses.append(keep - torch.log(-torch.expm1(last)))
            else:
                # -log(1 - p(continuation)): bounded below by 0 once the opening is unlikely.
                seq = token_logp.sum().clamp(max=-1e-6)
                losses.append(-torch.log(-torch.expm1(seq)))
        return torch.stack(losses)

    def losses(
        self,
        prompts: Sequence[SlotPrompt],
        continuations: Sequence[Sequence[int]],
        candidates: torch.Tensor,
        mode: LossMode,
        *,
        chunk_rows: int = 256,
    ) -> torch.Tensor:
        """``[n_candidates, n_prompts]`` loss of every candidate slot filling on every prompt.

        Args:
            prompts: the slot prompts.
            continuations: per prompt, the continuation ids the loss is taken over.
            candidates: ``[n_candidates, slot_len]`` token ids.
            mode: ``avoid`` or ``reach``.
            chunk_rows: rows per forward pass, to bound memory.
        """
        import torch

        n_cand, slot_len = candidates.shape
        base, mask, slots, starts = self._batch(prompts, continuations, slot_len)
        out = torch.empty((n_cand, len(prompts)))
        per_chunk = max(1, chunk_rows // len(prompts))
        with torch.inference_mode():
            for c0 in range(0, n_cand, per_chunk):
                block = candidates[c0 : c0 + per_chunk].to(self.device)
                ids = base.repeat(len(block), 1)
                for j, slot in enumerate(slots):
                    ids[j :: len(prompts), slot : slot + slot_len] = block
                logits = self.model(input_ids=ids, attention_mask=mask.repeat(len(block), 1)).logits
                row = self._row_losses(
                    logits, ids, starts * len(block), list(continuations) * len(block), mode
                )
                out[c0 : c0 + len(block)] = row.view(len(block), len(prompts)).cpu()
        return out

    def gradient(
        self,
        prompts: Sequence[SlotPrompt],
        continuations: Sequence[Sequence[int]],
        slot_ids: Sequence[int],
        mode: LossMode,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Gradient of the summed loss with respect to one-hot slot tokens.

        Returns:
            ``[slot_len, vocab]`` gradient and ``[n_prompts]`` losses of ``slot_ids``.
        """
        import torch

        slot_len = len(slot_ids)
        ids, mask, slots, starts = self._batch(prompts, continuations, slot_len)
        for j, slot in enumerate(slots):
            ids[j, slot : slot + slot_len] = torch.tensor(list(slot_ids), device=self.device)
        weight = self.model.get_input_embeddings().weight
        one_hot = torch.zeros((slot_len, weight.shape[0]), device=self.device, dtype=weight.dtype)
        one_hot[torch.arange(slot_len), torch.tensor(list(slot_ids))] = 1.0
        one_hot.requires_grad_(True)
        with self.frozen(), torch.enable_grad():
            slot_embeds = one_hot @ weight  # [slot_len, d_model]
            embeds = weight[ids].detach()  # [batch, pos, d_model]
            pieces = []
            for j, slot in enumerate(slots):
                pieces.append(
                    torch.cat([embeds[j, :slot], slot_embeds, embeds[j, slot + slot_len :]])
                )
            logits = self.model(inputs_embeds=torch.stack(pieces), attention_mask=mask).logits
            losses = self._row_losses(logits, ids, starts, continuations, mode)
            losses.sum().backward()  # type: ignore[no-untyped-call]
        assert one_hot.grad is not None
        return one_hot.grad.detach().cpu(), losses.detach().cpu()
