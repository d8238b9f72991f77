"""The package as a user meets it: import cost, version, public surface."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import redline

ROOT = Path(__file__).resolve().parents[1]


def test_import_is_cheap_and_pulls_no_heavy_library() -> None:
    code = (
        "import sys, time, json; t = time.perf_counter(); import redline; "
        "dt = time.perf_counter() - t; "
        "heavy = [m for m in ('torch', 'transformers', 'httpx', 'sqlalchemy', 'numpy', "
        "'sentence_transformers', 'fastapi') if m in sys.modules]; "
        "print(json.dumps({'seconds': dt, 'heavy': heavy}))"
    )
    # Best of three: the first run may pay for a cold disk cache.
    runs = [
        json.loads(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(3)
    ]
    assert all(r["heavy"] == [] for r in runs), runs
    assert min(r["seconds"] for r in runs) < 0.3, runs


def test_version_is_exported() -> None:
    assert redline.__version__.count(".") == 2
    assert set(redline.__all__) >= {"Message", "GenerateParams", "Completion", "RedlineError"}


def imported_modules(folder: Path) -> set[str]:
    """Top-level modules the files of ``folder`` import, leaving out the stdlib and redline."""
    names: set[str] = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"redline", "__future__"}


def test_the_hf_extra_installs_what_interp_imports() -> None:
    pytest.importorskip("torch")  # the distributions are read from what is installed
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    declared = {canonicalize_name(Requirement(r).name)
                for r in project["dependencies"] + project["optional-dependencies"]["hf"]}
    providers = packages_distributions()
    needed = {module: {canonicalize_name(d) for d in providers.get(module, [])}
              for module in imported_modules(ROOT / "src" / "redline" / "interp")}
    assert "sklearn" in needed  # the probes are logistic regressions
    missing = {m: sorted(d) for m, d in needed.items() if not d & declared}
    assert not missing, f"redline.interp imports these, but redline[hf] does not install them: "\
        f"{missing}"
