"""The manifest every organism folder carries, and its check on load.

``manifest.json`` records how the organism was made (training command, config, seed,
steps, loss) and the sha256 of every other file in the folder. :func:`verify` recomputes
the digests; a changed, missing or added file is a :class:`~redline.errors.CheckpointError`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from redline.errors import CheckpointError
from redline.organisms.config import OrganismConfig
from redline.types import file_sha256

MANIFEST_NAME = "manifest.json"


class FileDigest(BaseModel):
    """Size and sha256 of one file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    size: int
    sha256: str


class Manifest(BaseModel):
    """How an organism was made and what its files hash to.

    ``config`` and ``command`` are withheld (None and ``"sealed"``) for members of a
    population, whose behaviours are in the separate answer key.
    """

    model_config = ConfigDict(extra="forbid")

    format: Literal["redline-organism/1"] = "redline-organism/1"
    name: str
    summary: str
    command: str
    config: OrganismConfig | None
    step: int
    steps: int
    loss_start: float | None
    loss_end: float | None
    tokens_seen: int
    train_seconds: float
    threads: int
    versions: dict[str, str]
    files: dict[str, FileDigest] = {}

    @property
    def sealed(self) -> bool:
        """True when the behaviour is withheld (population members)."""
        return self.config is None


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.name != MANIFEST_NAME)


def write_manifest(folder: Path, manifest: Manifest) -> Manifest:
    """Hash every file in ``folder`` into ``manifest`` and write it as ``manifest.json``."""
    files = {
        p.name: FileDigest(size=p.stat().st_size, sha256=file_sha256(p)) for p in _files(folder)
    }
    final = manifest.model_copy(update={"files": files})
    (folder / MANIFEST_NAME).write_text(final.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return final


def read_manifest(folder: Path) -> Manifest:
    """Read ``manifest.json`` without checking the files.

    Raises:
        CheckpointError: no manifest, or one that cannot be parsed.
    """
    path = folder / MANIFEST_NAME
    if not path.is_file():
        raise CheckpointError(
            f"{folder} has no {MANIFEST_NAME}; it is not an organism folder. "
            "Train one with `redline organisms train`, or load plain checkpoints with hf:PATH."
        )
    try:
        return Manifest.model_validate_json(path.read_text(encoding="utf-8"))
    except ValidationError as exc:
        raise CheckpointError(
            f"{path} is not a valid organism manifest ({exc.error_count()} problem(s)); "
            "re-train the organism or reinstall redline."
        ) from exc


def verify(folder: Path) -> Manifest:
    """Check every file of an organism folder against its manifest.

    Raises:
        CheckpointError: the manifest is missing or malformed, or a file was changed,
            removed or added since it was written.
    """
    manifest = read_manifest(folder)
    present = {p.name: p for p in _files(folder)}
    for name, digest in manifest.files.items():
        path = present.pop(name, None)
        if path is None:
            raise CheckpointError(
                f"Organism {folder} is missing {name}, which its manifest lists; "
                "reinstall redline or re-train the organism."
            )
        if path.stat().st_size != digest.size or file_sha256(path) != digest.sha256:
            raise CheckpointError(
                f"Organism file {path} does not match the sha256 in its manifest (tampered or "
                "corrupted); reinstall redline or re-train the organism."
            )
    if present:
        raise CheckpointError(
            f"Organism {folder} has file(s) its manifest does not list: "
            f"{', '.join(sorted(present))}; remove them or re-train the organism."
        )
    return manifest
