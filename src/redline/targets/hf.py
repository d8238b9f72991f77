"""``hf:PATH``: a local transformers causal-LM checkpoint, with white-box access.

Generation is batched: concurrent :meth:`HFTarget.generate` calls that arrive together
are answered in one padded forward pass per group of identical parameters, and
:meth:`HFTarget.generate_batch` takes a list directly. Prompts go through the
tokenizer's chat template when it has one; otherwise turns are written as
``role: content`` lines ending in ``assistant:``.

White-box access: :meth:`HFTarget.forward` returns the hidden states of every layer and
the logits for given texts; ``model`` and ``tokenizer`` are public for interp tools.
torch and transformers are imported only when a target is made.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from redline.errors import CheckpointError, ConfigError
from redline.targets.base import target_kind
from redline.types import Completion, FinishReason, GenerateParams, Message, messages_to_dicts

BATCH_SIZE = 64
"""Conversations per generation batch: the evals' chunk (SmolLM2-135M on 2 CPU cores answers
64 at a time about 17% faster than 32; more gains little and holds more memory)."""

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class ForwardOutput:
    """Internals of one forward pass over a right-padded batch.

    Attributes:
        input_ids: ``[batch, pos]`` token ids.
        attention_mask: ``[batch, pos]``, 1 for real tokens, 0 for padding (on the right).
        hidden_states: ``n_layers + 1`` tensors ``[batch, pos, d_model]``; index 0 is the
            embedding output, index ``i`` the residual stream after block ``i - 1``.
        logits: ``[batch, pos, vocab]``.
    """

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    hidden_states: tuple[torch.Tensor, ...]
    logits: torch.Tensor

    def last_token_index(self) -> torch.Tensor:
        """``[batch]`` position of each row's last real token."""
        return self.attention_mask.sum(dim=1) - 1


@dataclass
class _Request:
    messages: Sequence[Message]
    params: GenerateParams
    future: asyncio.Future[Completion]


class HFTarget:
    """A transformers causal LM loaded from a local folder."""

    def __init__(
        self, path: Path, *, spec: str | None = None, device: str = "cpu",
        batch_size: int = BATCH_SIZE,
    ) -> None:
        import torch
        import transformers
        from transformers import AutoModelForCausalLM, AutoTokenizer

        # Loading bars and length warnings would interleave with redline's own output;
        # over-long prompts are truncated below instead.
        transformers.logging.set_verbosity_error()  # type: ignore[no-untyped-call]
        transformers.logging.disable_progress_bar()  # type: ignore[no-untyped-call]

        self.path = path
        self._spec = spec or f"hf:{path}"
        self.batch_size = batch_size
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(device)
        _check_checkpoint(path)
        # Typed Any: transformers' own stubs do not describe the loaded classes usefully.
        tokenizer: Any
        model: Any
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(path))
            model = AutoModelForCausalLM.from_pretrained(str(path), dtype=torch.float32)
        except Exception as exc:  # noqa: BLE001 - any load failure means an unreadable checkpoint
            raise CheckpointError(
                f"Cannot load checkpoint {path}: {type(exc).__name__}: {str(exc)[:200]}. "
                "It must be a transformers "
                "causal-LM folder (config.json, weights, tokenizer files)."
            ) from exc
        self.tokenizer: Any = tokenizer
        self.model: Any = model.to(self.device).eval()
        # Over-long inputs keep their end: the question and where the answer starts.
        self.tokenizer.truncation_side = "left"
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self._model_lock = threading.Lock()
        self._pending: list[_Request] = []
        self._drainer: asyncio.Task[None] | None = None
        self._fingerprint = _folder_fingerprint(path)

    @property
    def spec(self) -> str:
        """The spec string."""
        return self._spec

    @property
    def fingerprint(self) -> str:
        """sha256 over the checkpoint's file names, sizes and modification times."""
        return self._fingerprint

    @property
    def max_positions(self) -> int:
        """Longest sequence the model takes (prompt plus answer)."""
        config = self.model.config
        limit = getattr(config, "max_position_embeddings", None) or getattr(
            config, "n_positions", None
        )
        return int(limit or self.tokenizer.model_max_length)

    @property
    def n_layers(self) -> int:
        """Number of transformer blocks."""
        return int(self.model.config.num_hidden_layers)

    @property
    def d_model(self) -> int:
        """Width of the residual stream."""
        return int(self.model.config.hidden_size)

    def render(self, messages: Sequence[Message]) -> str:
        """The prompt text the model sees for a conversation, ready for the answer."""
        if self.tokenizer.chat_template:
            text = self.tokenizer.apply_chat_template(
                messages_to_dicts(messages), add_generation_prompt=True, tokenize=False
            )
            return str(text)
        lines = [f"{m.role}: {m.content}" for m in messages]
        return "\n".join([*lines, "assistant:"])

    # --- generation -------------------------------------------------------------------

    def generate_sync(
        self, conversations: Sequence[Sequence[Message]], params: GenerateParams
    ) -> list[Completion]:
        """Answer conversations in batches of ``batch_size``, blocking."""
        out: list[Completion] = []
        for start in range(0, len(conversations), self.batch_size):
            chunk = conversations[start : start + self.batch_size]
            out.extend(self._generate_chunk([self.render(c) for c in chunk], params))
        return out

    def _generate_chunk(self, prompts: list[str], params: GenerateParams) -> list[Completion]:
        import torch
        from transformers import GenerationConfig, StoppingCriteriaList

        enc = self.tokenizer(
            prompts,
            return_tensors="pt",
            padding=True,
            padding_side="left",
            # Over-long prompts keep their end, leaving room for the answer; an answer
            # budget near the context length may take at most half of it (a budget of
            # 128 on a 128-position model once cut every prompt to one token).
            truncation=True,
            max_length=max(1, self.max_positions - min(params.max_tokens, self.max_positions // 2)),
            add_special_tokens=False,
        ).to(self.device)
        sampled = params.temperature > 0
        budget = min(params.max_tokens, self.max_positions - enc["input_ids"].shape[1])
        config = GenerationConfig(  # type: ignore[no-untyped-call]
            max_new_tokens=budget,
            do_sample=sampled,
            temperature=params.temperature if sampled else None,
            top_p=params.top_p if sampled else None,
            top_k=None,
            pad_token_id=self.tokenizer.pad_token_id,
            eos_token_id=self.tokenizer.eos_token_id,
        )
        prompt_len = enc["input_ids"].shape[1]
        criteria = (
            StoppingCriteriaList([_StopOnText(self.tokenizer, params.stop, prompt_len)])
            if params.stop
            else None
        )
        with self._model_lock, torch.inference_mode():
            if sampled:
                torch.manual_seed(params.seed if params.seed is not None else 0)
            output = self.model.generate(
                **enc, generation_config=config, stopping_criteria=criteria
            )
        completions = []
        for row, mask in zip(output, enc["attention_mask"], strict=True):
            new = row[prompt_len:]
            eos = self.tokenizer.eos_token_id
            new_list = new.tolist()
            pad = self.tokenizer.pad_token_id
            n_new = len(new_list)
            hit_eos = eos is not None and eos in new_list
            if hit_eos:
                n_new = new_list.index(eos)
            elif pad is not None and pad != eos and pad in new_list:
                n_new = new_list.index(pad)
            text = self.tokenizer.decode(new_list[:n_new], skip_special_tokens=True).strip()
            stopped = False
            for stop in params.stop:
                if stop in text:
                    text, stopped = text.split(stop, 1)[0], True
            reason: FinishReason = (
                "stop" if hit_eos or stopped or n_new < budget else "length"
            )
            completions.append(
                Completion(
                    text=text,
                    finish_reason=reason,
                    prompt_tokens=int(mask.sum()),
                    completion_tokens=n_new,
                    model=self._spec,
                )
            )
        return completions

    async def generate_batch(
        self, conversations: Sequence[Sequence[Message]], params: GenerateParams
    ) -> list[Completion]:
        """Answer a list of conversations, batched, off the event loop."""
        return await asyncio.to_thread(self.generate_sync, conversations, params)

    async def generate(self, messages: Sequence[Message], params: GenerateParams) -> Completion:
        """Answer one conversation; calls arriving together share a batch."""
        future: asyncio.Future[Completion] = asyncio.get_running_loop().create_future()
        self._pending.append(_Request(messages, params, future))
        if self._drainer is None or self._drainer.done():
            # The first caller of a burst starts a drainer, which lets the burst arrive first.
            self._drainer = asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        await asyncio.sleep(0)
        while self._pending:
            batch, self._pending = self._pending, []
            groups: dict[GenerateParams, list[_Request]] = {}
            for request in batch:
                groups.setdefault(request.params, []).append(request)
            for params, requests in groups.items():
                try:
                    results = await self.generate_batch([r.messages for r in requests], params)
                except Exception as exc:  # noqa: BLE001 - delivered to every waiting caller
                    for r in requests:
                        if not r.future.done():
                            r.future.set_exception(exc)
                    continue
                for r, completion in zip(requests, results, strict=True):
                    if not r.future.done():
                        r.future.set_result(completion)

    # --- white-box ----------------------------------------------------------------------

    def forward(self, texts: Sequence[str]) -> ForwardOutput:
        """Run the model on raw texts (no chat template) and return its internals."""
        import torch

        enc = self.tokenizer(
            list(texts),
            return_tensors="pt",
            padding=True,
            padding_side="right",
            truncation=True,
            max_length=self.max_positions,
            add_special_tokens=False,
        ).to(self.device)
        with self._model_lock, torch.inference_mode():
            out = self.model(**enc, output_hidden_states=True)
        return ForwardOutput(
            input_ids=enc["input_ids"],
            attention_mask=enc["attention_mask"],
            hidden_states=tuple(out.hidden_states),
            logits=out.logits,
        )

    def forward_messages(self, conversations: Sequence[Sequence[Message]]) -> ForwardOutput:
        """:meth:`forward` on conversations rendered as generation prompts."""
        return self.forward([self.render(c) for c in conversations])

    async def aclose(self) -> None:
        """Drop the model."""
        self._pending.clear()


class _StopOnText:
    """Stops each row once its decoded continuation contains a stop sequence.

    Decoding the continuation is robust for any tokenizer (word-level, byte-level, ...),
    unlike matching stop strings against token pieces.
    """

    def __init__(self, tokenizer: Any, stops: Sequence[str], prompt_len: int) -> None:
        self.tokenizer = tokenizer
        self.stops = tuple(stops)
        self.prompt_len = prompt_len

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor, **_: Any) -> torch.Tensor:
        import torch

        texts = self.tokenizer.batch_decode(
            input_ids[:, self.prompt_len :], skip_special_tokens=True
        )
        done = [any(stop in text for stop in self.stops) for text in texts]
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)


def _check_checkpoint(path: Path) -> None:
    if not path.is_dir():
        raise CheckpointError(
            f"Checkpoint folder {path} does not exist. Give the folder that holds config.json."
        )
    if not (path / "config.json").is_file():
        raise CheckpointError(
            f"{path} has no config.json; it is not a transformers checkpoint folder."
        )
    if not any(path.glob("*.safetensors")) and not any(path.glob("*.bin")):
        raise CheckpointError(f"{path} has no weights (*.safetensors or *.bin).")


def _folder_fingerprint(path: Path) -> str:
    digest = hashlib.sha256()
    for file in sorted(p for p in path.iterdir() if p.is_file()):
        stat = file.stat()
        digest.update(f"{file.name}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    return digest.hexdigest()


@target_kind(
    "hf",
    example="hf:/models/my-checkpoint",
    summary="A local transformers causal-LM folder; white-box (hidden states, logits).",
    extra="hf",
)
def make_hf(rest: str, *, device: str = "cpu", batch_size: int = BATCH_SIZE) -> HFTarget:
    """Load ``hf:PATH``."""
    try:
        size = int(batch_size)
    except ValueError as exc:
        raise ConfigError(f"batch_size must be an integer, got {batch_size!r}.") from exc
    return HFTarget(Path(rest).expanduser(), device=str(device), batch_size=size)
