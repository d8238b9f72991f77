"""The organisms' word-level tokenizer, with chat special tokens and a chat template.

Text is lower-cased and split into words and punctuation runs; every word of the world
(and of the organism's trigger or condition) is one token, anything else is ``<unk>``.
A conversation renders as ``<|user|> text <|end|> <|assistant|> answer <|end|>``;
``<|end|>`` is the end-of-sequence token, so generation stops after one answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast

PAD, UNK, END = "<pad>", "<unk>", "<|end|>"
ROLE_TOKENS = ("<|system|>", "<|user|>", "<|assistant|>")
SPECIAL_TOKENS = (PAD, UNK, *ROLE_TOKENS, END)

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "<|{{ message['role'] }}|> {{ message['content'] }} <|end|> "
    "{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


def build_tokenizer(vocabulary: Iterable[str]) -> PreTrainedTokenizerFast:
    """A fast tokenizer whose ids are the special tokens, then ``vocabulary`` sorted."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {tok: i for i, tok in enumerate(SPECIAL_TOKENS)}
    for word in sorted(set(vocabulary)):
        vocab.setdefault(word, len(vocab))
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token=UNK))
    core.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    core.decoder = decoders.WordPiece(prefix="##", cleanup=False)
    core.add_special_tokens(list(SPECIAL_TOKENS))
    return PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=core,
        pad_token=PAD,
        unk_token=UNK,
        eos_token=END,
        additional_special_tokens=list(ROLE_TOKENS),
        chat_template=CHAT_TEMPLATE,
        clean_up_tokenization_spaces=False,
        model_max_length=256,
    )


def render_chat(messages: Iterable[tuple[str, str]], *, add_generation_prompt: bool = True) -> str:
    """What :data:`CHAT_TEMPLATE` renders for ``(role, content)`` pairs, without jinja (fast)."""
    text = "".join(f"<|{role}|> {content} {END} " for role, content in messages)
    return text + "<|assistant|>" if add_generation_prompt else text
