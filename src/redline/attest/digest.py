"""The subject of a safety case: a sha256 digest over a model's files.

For a folder the digest is the sha256 of the ``sha256sum``-style manifest of every
regular file under it, sorted by relative POSIX path::

    <sha256 of file>  <relative/path>  (one line each, newline-terminated)

so renaming, adding, removing or changing any file changes it; for a single file it is
the digest of that manifest with one line. Symlinks are followed, ``.git`` is skipped.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from pydantic import BaseModel

from redline.errors import CheckpointError
from redline.types import file_sha256


class FileDigest(BaseModel):
    """One file of the model."""

    path: str
    sha256: str
    size: int


class ModelDigest(BaseModel):
    """The digest of a model's files, with each file's own digest for diagnosis."""

    name: str
    sha256: str
    files: list[FileDigest]


def manifest_sha256(files: list[FileDigest]) -> str:
    """sha256 of the sorted ``sha256  path`` manifest."""
    lines = "".join(f"{f.sha256}  {f.path}\n" for f in sorted(files, key=lambda f: f.path))
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


def digest_model(path: Path, *, name: str | None = None) -> ModelDigest:
    """Digest a model folder (or one file).

    Raises:
        CheckpointError: the path does not exist or holds no files.
    """
    if path.is_file():
        files = [FileDigest(path=path.name, sha256=file_sha256(path), size=path.stat().st_size)]
    elif path.is_dir():
        files = [
            FileDigest(path=p.relative_to(path).as_posix(), sha256=file_sha256(p),
                       size=p.stat().st_size)
            for p in sorted(path.rglob("*"))
            if p.is_file() and ".git" not in p.relative_to(path).parts
        ]
    else:
        raise CheckpointError(f"No model at {path}; give the model's folder or file.")
    if not files:
        raise CheckpointError(f"{path} holds no files to digest.")
    return ModelDigest(name=name or path.name, sha256=manifest_sha256(files), files=files)
