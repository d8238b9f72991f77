"""Rebuild the shipped outcome head from its recipe and compare it with the shipped one.

The shipped head says how it was made (`provenance.recipe`): a refit of the linear head on
the shipped fine-tuned encoder (`redline scorers train outcome --refit-head`, about 12
minutes on two cores) or the whole fine-tune (`redline scorers train outcome`, about two
hours). This runs that command's function into a temporary folder and checks that the
result is the shipped head: the same data digest, sizes, command, seed, recipe, features,
classes, calibration and adapter exactly, and weights, thresholds and cross-validated F1
within `CROSS_MACHINE` (float rounding differs between CPUs and library builds, which
moves L-BFGS's stopping point a little). Exit status 0 when it is, 1 when it is not.

    python benchmarks/outcome_rebuild.py

Run it whenever the outcome head, its data or its recipe changes, and on a new machine
or library build; benchmarks/RESULTS.md ("Rebuilding the shipped outcome head") keeps
each run. The test suite checks the cheap half on every run (the head's data digest and
sizes match the shipped files: tests/scorers/test_data.py) and the refit's mechanics on a
twelfth of the answers (tests/scorers/test_training.py).
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

# What a rebuild may differ by on another machine or library build. Measured (2026-12-07,
# a fresh machine and environment; same data digest, recipe and CPU family as the fit):
# refit weights moved by at most 0.021 (largest 9.4), the refusal threshold 0.40 -> 0.39,
# its leave-one-file-out F1 0.7626 -> 0.7623.
CROSS_MACHINE = {"weights": 0.05, "bias": 0.05, "threshold": 0.011, "cv_f1": 0.002}
SHIPPED_FILES = ("outcome.head.json", "outcome.adapter.safetensors", "outcome.request.head.json")


def differences(again: dict[str, Any], shipped: dict[str, Any]) -> list[str]:
    """Where ``again`` is not the shipped head (beyond ``CROSS_MACHINE``); empty when it is."""
    a, b = _without_date(again), _without_date(shipped)
    found: list[str] = []

    def near(what: str, x: Any, y: Any, tolerance: float) -> None:
        gap = float(np.max(np.abs(np.asarray(x, dtype=float) - np.asarray(y, dtype=float))))
        print(f"  {what}: largest difference {gap:.4f} (allowed {tolerance})")
        if gap > tolerance:
            found.append(f"{what} differs by {gap:.4f} > {tolerance}")

    def per_scorer(what: str, x: dict[str, float], y: dict[str, float], tolerance: float) -> None:
        if x.keys() != y.keys():
            found.append(f"{what}: scorers {sorted(x)} != {sorted(y)}")
            return
        for k in y:
            near(f"{what}[{k}]", x[k], y[k], tolerance)

    for key in ("weights", "bias"):
        near(key, a.pop(key), b.pop(key), CROSS_MACHINE[key])
    near("threshold", a.pop("threshold"), b.pop("threshold"), CROSS_MACHINE["threshold"])
    per_scorer("thresholds", a.pop("thresholds"), b.pop("thresholds"), CROSS_MACHINE["threshold"])
    pa, pb = dict(a.pop("provenance")), dict(b.pop("provenance"))
    near("cv_f1", pa.pop("cv_f1"), pb.pop("cv_f1"), CROSS_MACHINE["cv_f1"])
    per_scorer(
        "cv_f1_by_scorer", pa.pop("cv_f1_by_scorer"), pb.pop("cv_f1_by_scorer"),
        CROSS_MACHINE["cv_f1"],
    )
    for key in sorted(set(pa) | set(pb)):  # command, seed, data digest, sizes, encoder, recipe
        if pa.get(key) != pb.get(key):
            found.append(f"provenance.{key}: {pa.get(key)!r} != {pb.get(key)!r}")
    for key in sorted(set(a) | set(b)):  # format, features, classes, calibration, adapter
        if a.get(key) != b.get(key):
            found.append(f"{key}: {a.get(key)!r} != {b.get(key)!r}")
    return found


def _without_date(head: dict[str, Any]) -> dict[str, Any]:
    provenance = dict(head["provenance"])
    provenance.pop("created", None)
    return {**head, "provenance": provenance}


def main() -> int:
    from redline.scorers.heads import data_dir
    from redline.scorers.outcome_training import refit_outcome, refit_recipe, train_outcome

    shipped = json.loads((data_dir() / "outcome.head.json").read_text(encoding="utf-8"))
    made = shipped["provenance"]
    refit = made["recipe"] == refit_recipe()
    seed = int(made["seed"])
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.monotonic()
        if refit:
            for name in SHIPPED_FILES:  # the refit keeps the shipped encoder and request copy
                shutil.copy(data_dir() / name, folder / name)
            print(f"refitting the linear head (seed {seed}) on the shipped encoder", flush=True)
            refit_outcome(seed=seed, folder=folder, progress=lambda line: print(line, flush=True))
        else:
            print(f"fine-tuning the encoder and head from scratch (seed {seed})", flush=True)
            train_outcome(seed=seed, folder=folder, progress=lambda line: print(line, flush=True))
        again = json.loads((folder / "outcome.head.json").read_text(encoding="utf-8"))
        minutes = (time.monotonic() - started) / 60
    print(f"rebuilt in {minutes:.1f} min; compared with the shipped head:")
    found = differences(again, shipped)
    for line in found:
        print(f"  NOT THE SAME: {line}")
    print("the rebuild is the shipped head" if not found else f"{len(found)} differences")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
