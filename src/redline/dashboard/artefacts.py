"""Safety cases, eval results and eval series: the files redline writes beside its store.

``redline audit``/``gate`` write a folder with ``case.dsse.json``; ``redline eval`` writes
``SUITE.json`` results; ``redline eval-series`` writes ``series.json``. The dashboard finds
them under the folders it is given (a few levels deep) and names each by a hash of its
path, so a URL never carries a file path. Parsed files are kept while their size and
modification time are unchanged.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from redline.attest import Envelope, SafetyCase, load_case
from redline.evals.results import EvalResult
from redline.evals.series import SeriesResult

M = TypeVar("M", bound=BaseModel)
ArtefactKind = Literal["audit", "eval", "series"]
ARTEFACT_KINDS: tuple[str, ...] = ("audit", "eval", "series")
CASE_FILE = "case.dsse.json"
SERIES_FILE = "series.json"
DOWNLOADS = ("case.dsse.json", "report.html", "findings.avid.json")
"""The files of a case folder a user may download, and no others."""

_SKIP = {".git", ".venv", "node_modules", "__pycache__", ".redline"}
_EVAL_MARK = b'"redline-eval-result"'


@dataclass(frozen=True)
class Artefact:
    """One file-backed item on the runs page."""

    id: str
    kind: ArtefactKind
    path: Path
    """The case folder (audits) or the JSON file (evals, series)."""
    title: str
    target: str
    status: str
    created_at: datetime


class Artefacts:
    """Finds and reads the case, result and series files under some folders."""

    def __init__(self, roots: list[Path], *, depth: int = 4) -> None:
        self.roots = [r.resolve() for r in roots]
        self.depth = depth
        self._parsed: dict[tuple[Path, int, int], Any] = {}
        self._lock = threading.Lock()

    def scan(self) -> list[Artefact]:
        """Every case, eval result and series under the roots, newest first."""
        found: dict[str, Artefact] = {}
        for root in self.roots:
            for artefact in self._walk(root, 0):
                found.setdefault(artefact.id, artefact)
        return sorted(found.values(), key=lambda a: (a.created_at, a.id), reverse=True)

    def get(self, wanted: str, kind: ArtefactKind) -> Artefact | None:
        """The artefact with this id and kind, or None."""
        for artefact in self.scan():
            if artefact.id == wanted and artefact.kind == kind:
                return artefact
        return None

    def case(self, artefact: Artefact) -> SafetyCase:
        """The safety case inside an audit folder's envelope (not verified here)."""
        return load_case(self.envelope(artefact))

    def envelope(self, artefact: Artefact) -> Envelope:
        """The signed envelope of an audit folder."""
        parsed: Envelope = self._parse(artefact.path / CASE_FILE, Envelope)
        return parsed

    def eval_result(self, artefact: Artefact) -> EvalResult:
        """An eval result file."""
        parsed: EvalResult = self._parse(artefact.path, EvalResult)
        return parsed

    def series(self, artefact: Artefact) -> SeriesResult:
        """An eval-series file."""
        parsed: SeriesResult = self._parse(artefact.path, SeriesResult)
        return parsed

    def side_file(self, artefact: Artefact, name: str, model: type[M]) -> M | None:
        """A JSON file beside a case read as ``model``; None when absent or not that model.

        The files: ``trigger-search.json``, ``internals.json``, ``redteam/report.json``.
        """
        try:
            parsed: M = self._parse(artefact.path / name, model)
        except (OSError, ValueError, ValidationError):
            return None
        return parsed

    # --- internals ----------------------------------------------------------------------

    def _walk(self, folder: Path, level: int) -> list[Artefact]:
        out: list[Artefact] = []
        try:
            entries = sorted(folder.iterdir())
        except OSError:
            return out
        if (folder / CASE_FILE).is_file():
            audit = self._audit(folder)
            if audit is not None:
                out.append(audit)
            return out  # the case's own results/ belong to it
        for entry in entries:
            if entry.is_dir():
                if level < self.depth and entry.name not in _SKIP:
                    out.extend(self._walk(entry, level + 1))
            elif entry.name == SERIES_FILE:
                series = self._series(entry)
                if series is not None:
                    out.append(series)
            elif entry.suffix == ".json" and _looks_like_eval(entry):
                result = self._eval(entry)
                if result is not None:
                    out.append(result)
        return out

    def _audit(self, folder: Path) -> Artefact | None:
        try:
            case = self.case(_stub(folder, "audit"))
        except (OSError, ValueError, ValidationError):
            return None
        return Artefact(artefact_id(folder), "audit", folder, folder.name,
                        case.target or case.model.name, case.verdict.decision,
                        _aware(case.created_at))

    def _eval(self, path: Path) -> Artefact | None:
        try:
            result = self.eval_result(_stub(path, "eval"))
        except (OSError, ValueError, ValidationError):
            return None
        return Artefact(artefact_id(path), "eval", path, result.suite, result.target,
                        result.status, _aware(result.finished_at))

    def _series(self, path: Path) -> Artefact | None:
        try:
            series = self.series(_stub(path, "series"))
        except (OSError, ValueError, ValidationError):
            return None
        jumps = len(series.jumps)
        return Artefact(artefact_id(path), "series", path,
                        f"{len(series.checkpoints)} checkpoints",
                        path.parent.name, f"{jumps} jump(s)" if jumps else "no jumps",
                        _aware(series.created_at))

    def _parse(self, path: Path, model: type[BaseModel]) -> Any:
        stat = path.stat()
        key = (path, stat.st_size, stat.st_mtime_ns)
        with self._lock:
            if key in self._parsed:
                return self._parsed[key]
        parsed = model.model_validate_json(path.read_bytes())
        with self._lock:
            self._parsed = {k: v for k, v in self._parsed.items() if k[0] != path}
            self._parsed[key] = parsed
        return parsed


def _looks_like_eval(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return _EVAL_MARK in handle.read(256)
    except OSError:
        return False


def _stub(path: Path, kind: ArtefactKind) -> Artefact:
    return Artefact("", kind, path, "", "", "", datetime.min.replace(tzinfo=UTC))


def artefact_id(path: Path) -> str:
    """The id of a case folder or result file in URLs: a hash of its resolved path."""
    return hashlib.sha256(str(path.resolve()).encode("utf-8")).hexdigest()[:16]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
