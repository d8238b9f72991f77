from __future__ import annotations

import threading
from pathlib import Path

import pytest

from redline.errors import ConfigError
from redline.interp.capture import (
    ActivationCache,
    Positions,
    as_white_box,
    blocks_of,
    cached_capture,
    capture,
    expand_hooks,
    hooked,
    parse_hook_name,
)
from redline.targets.mock import MockTarget

from .conftest import make_tiny_gpt2

torch = pytest.importorskip("torch")

TEXTS = ["the cat sat on the mat", "a dog ran", "red blue green big small one two", "yes"]


def _hook_count(model) -> int:  # type: ignore[no-untyped-def]
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())


def test_hook_names_parse_and_expand() -> None:
    assert parse_hook_name("blocks.3.mlp.hook_post") == (3, "mlp.hook_post")
    assert expand_hooks("resid_post", 2) == ["blocks.0.hook_resid_post", "blocks.1.hook_resid_post"]
    assert expand_hooks("mlp.hook_post@1,resid_pre@0+1", 3) == [
        "blocks.1.mlp.hook_post",
        "blocks.0.hook_resid_pre",
        "blocks.1.hook_resid_pre",
    ]
    with pytest.raises(ConfigError, match="not a hook point"):
        parse_hook_name("blocks.x.resid")
    with pytest.raises(ConfigError, match="layers 0..1"):
        expand_hooks("resid_post@5", 2)
    with pytest.raises(ConfigError, match="Unknown hook kind"):
        expand_hooks("residual", 2)


def test_residual_hooks_match_hidden_states(llama_target) -> None:  # type: ignore[no-untyped-def]
    hooks = expand_hooks("resid_pre,resid_post", llama_target.n_layers)
    cache = capture(llama_target, TEXTS, hooks, batch_size=3)
    out = llama_target.forward(TEXTS)
    rows, last = torch.arange(len(TEXTS)), out.last_token_index()
    for layer in range(llama_target.n_layers):
        pre = cache[f"blocks.{layer}.hook_resid_pre"]
        assert pre.shape == (len(TEXTS), llama_target.d_model)
        assert torch.allclose(pre, out.hidden_states[layer][rows, last], atol=1e-5)
    # The last hidden state in transformers is after the final norm, so compare the others.
    for layer in range(llama_target.n_layers - 1):
        post = cache[f"blocks.{layer}.hook_resid_post"]
        assert torch.allclose(post, out.hidden_states[layer + 1][rows, last], atol=1e-5)


def test_positions_and_batching_agree(llama_target) -> None:  # type: ignore[no-untyped-def]
    hooks = ["blocks.1.hook_resid_post", "blocks.2.mlp.hook_post", "blocks.0.hook_attn_out"]
    one = capture(llama_target, TEXTS, hooks, positions="all", batch_size=1)
    many = capture(llama_target, TEXTS, hooks, positions="all", batch_size=4)
    assert torch.equal(one.mask, many.mask)
    assert many["blocks.2.mlp.hook_post"].shape == (4, 7, 64)
    mask = many.mask.bool()
    for hook in hooks:
        assert torch.allclose(one[hook][mask], many[hook][mask], atol=1e-5)
    last = capture(llama_target, TEXTS, hooks, positions="last")
    offsets = capture(llama_target, TEXTS, hooks, positions="-1,-2")
    mean = capture(llama_target, TEXTS, hooks, positions="mean")
    lengths = mask.sum(dim=1)
    for i, n in enumerate(lengths.tolist()):
        full = many["blocks.1.hook_resid_post"][i]
        assert torch.allclose(last["blocks.1.hook_resid_post"][i], full[n - 1], atol=1e-5)
        assert torch.allclose(
            offsets["blocks.1.hook_resid_post"][i, 1], full[max(n - 2, 0)], atol=1e-5
        )
        assert torch.allclose(mean["blocks.1.hook_resid_post"][i], full[:n].mean(0), atol=1e-5)


def test_hooks_are_removed_even_on_error(llama_target) -> None:  # type: ignore[no-untyped-def]
    llama_target.forward(["warm up"])  # transformers adds its own hooks on first use
    before = _hook_count(llama_target.model)
    with pytest.raises(RuntimeError), hooked(llama_target.model, ["blocks.0.hook_resid_post"]):
        assert _hook_count(llama_target.model) == before + 1
        raise RuntimeError("boom")
    assert _hook_count(llama_target.model) == before
    capture(llama_target, TEXTS, ["blocks.0.mlp.hook_post"])
    assert _hook_count(llama_target.model) == before


def test_hooks_ignore_other_threads(llama_target) -> None:  # type: ignore[no-untyped-def]
    with hooked(llama_target.model, ["blocks.0.hook_resid_post"]) as store:
        worker = threading.Thread(target=llama_target.forward, args=(["a dog ran"],))
        worker.start()
        worker.join()
        assert store == {}
        llama_target.forward(["a dog ran"])
        assert store["blocks.0.hook_resid_post"].shape == (1, 3, llama_target.d_model)


def test_gpt2_architecture(tmp_path: Path) -> None:
    from redline.targets.hf import HFTarget

    target = HFTarget(make_tiny_gpt2(tmp_path / "gpt2"))
    hooks = expand_hooks("resid_post,mlp.hook_post,mlp_out,attn_out", 2)
    cache = capture(target, TEXTS, hooks)
    assert cache["blocks.1.mlp.hook_post"].shape == (4, 128)
    assert cache["blocks.0.hook_mlp_out"].shape == (4, 32)
    out = target.forward(TEXTS)
    rows, last = torch.arange(4), out.last_token_index()
    assert torch.allclose(
        cache["blocks.0.hook_resid_post"], out.hidden_states[1][rows, last], atol=1e-5
    )


def test_save_load_and_disk_cache(llama_target, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cache = capture(llama_target, TEXTS, ["blocks.1.hook_resid_post"], positions="all")
    loaded = ActivationCache.load(cache.save(tmp_path / "acts.safetensors"))
    assert loaded.texts == TEXTS and loaded.positions == Positions("all")
    assert torch.equal(loaded["blocks.1.hook_resid_post"], cache["blocks.1.hook_resid_post"])
    assert torch.equal(loaded.tokens, cache.tokens)

    folder = tmp_path / "cache"
    first = cached_capture(llama_target, TEXTS, ["blocks.0.hook_resid_post"], cache_dir=folder)
    files = list(folder.iterdir())
    assert len(files) == 1
    again = cached_capture(llama_target, TEXTS, ["blocks.0.hook_resid_post"], cache_dir=folder)
    assert torch.equal(first["blocks.0.hook_resid_post"], again["blocks.0.hook_resid_post"])
    assert list(folder.iterdir()) == files  # read back, not recomputed into a new file
    cached_capture(llama_target, TEXTS[:2], ["blocks.0.hook_resid_post"], cache_dir=folder)
    assert len(list(folder.iterdir())) == 2


def test_clear_errors(llama_target, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="not white-box"):
        as_white_box(MockTarget())
    with pytest.raises(ConfigError, match="empty"):
        capture(llama_target, [], ["blocks.0.hook_resid_post"])
    with pytest.raises(ConfigError, match="Positions"):
        Positions.parse("first")
    with pytest.raises(ConfigError, match="does not exist"):
        ActivationCache.load(tmp_path / "missing.safetensors")
    cache = capture(llama_target, TEXTS, ["blocks.0.hook_resid_post"])
    with pytest.raises(ConfigError, match="was not captured"):
        cache["blocks.1.hook_resid_post"]
    assert len(blocks_of(llama_target.model)) == 3
