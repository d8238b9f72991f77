"""The package as a user meets it: import cost, version, public surface."""

from __future__ import annotations

import json
import subprocess
import sys

import redline


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
