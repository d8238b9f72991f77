"""Activation capture vs the baseline of a full forward pass with every hidden state.

Baseline (same process, same texts, same model): ``HFTarget.forward`` asks transformers
for ``output_hidden_states=True`` and all logits, then indexes the last token of one
layer. redline's ``capture`` hooks just that layer, keeps only the last position inside
the hook, and asks for the last position's logits only. Reports wall time and the bytes
each keeps per batch, as ratios.

    python benchmarks/interp_capture.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import torch


def make_model(folder: Path, vocab: int, width: int, layers: int) -> Path:
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    words = {f"w{i}": i + 3 for i in range(vocab - 3)}
    raw = Tokenizer(models.WordLevel({"<pad>": 0, "<eos>": 1, "<unk>": 2, **words}, "<unk>"))
    raw.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok = PreTrainedTokenizerFast(
        tokenizer_object=raw, pad_token="<pad>", eos_token="<eos>", unk_token="<unk>"
    )
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=vocab,
        hidden_size=width,
        intermediate_size=4 * width,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=256,
        pad_token_id=0,
        eos_token_id=1,
        bos_token_id=1,
    )
    LlamaForCausalLM(config).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def main() -> None:
    from redline.interp.capture import capture
    from redline.targets.hf import HFTarget

    torch.set_num_threads(1)
    vocab, width, layers, batch, length, n_texts = 32000, 256, 4, 16, 64, 128
    with tempfile.TemporaryDirectory() as tmp:
        target = HFTarget(make_model(Path(tmp) / "m", vocab, width, layers))
        gen = torch.Generator().manual_seed(0)
        ids = torch.randint(3, vocab, (n_texts, length), generator=gen)
        texts = [" ".join(f"w{i - 3}" for i in row.tolist()) for row in ids]
        hook, layer = "blocks.1.hook_resid_post", 1

        def baseline() -> tuple[list[torch.Tensor], int]:
            kept, peak = [], 0
            for s in range(0, n_texts, batch):
                out = target.forward(texts[s : s + batch])
                peak = max(
                    peak, sum(h.numel() * 4 for h in out.hidden_states) + out.logits.numel() * 4
                )
                rows = torch.arange(out.input_ids.shape[0])
                kept.append(out.hidden_states[layer + 1][rows, out.last_token_index()].clone())
            return kept, peak

        def redline() -> tuple[torch.Tensor, int]:
            cache = capture(target, texts, [hook], positions="last", batch_size=batch)
            return cache[hook], batch * width * 4 + batch * vocab * 4

        baseline(), redline()  # warm up
        results = {}
        for name, fn in (("baseline", baseline), ("redline", redline)):
            times = []
            for _ in range(3):
                start = time.perf_counter()
                value, peak = fn()
                times.append(time.perf_counter() - start)
            results[name] = (min(times), peak, value)
        base_acts = torch.cat(results["baseline"][2])
        assert torch.allclose(base_acts, results["redline"][2], atol=1e-4), "captures differ"
        tb, pb, _ = results["baseline"]
        tr, pr, _ = results["redline"]
        print(
            f"Llama vocab {vocab}, d_model {width}, {layers} layers; {n_texts} texts of "
            f"{length} tokens, batch {batch}, 1 thread; one hook at the last position."
        )
        print(
            f"- baseline (output_hidden_states + all logits): {tb:.3f} s, "
            f"{pb / 2**20:.1f} MiB of outputs per batch"
        )
        print(
            f"- redline capture (hook, last position, last logits): {tr:.3f} s, "
            f"{pr / 2**20:.1f} MiB per batch"
        )
        print(
            f"- speed-up {tb / tr:.2f}x; output memory {pb / pr:.1f}x smaller; "
            "activations identical (atol 1e-4)"
        )


if __name__ == "__main__":
    main()
