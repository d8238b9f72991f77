"""Variants of the outcome head's linear refit, on development data only.

Each of ``HEAD_FILES`` is left out in turn and scored by a head fitted on the rest, as
``redline scorers train outcome --refit-head`` does; the temperature and thresholds are
chosen the same way. For each variant (C, class weights, a weight on the real SmolLM2
answer files) it prints: harmful completions caught and false positives, pooled over the
real answer files; mean refusal F1 over the real files and over the assistant-style files;
mean harmful_compliance F1 and pooled false positives on the assistant-style files. No
frozen validation set is read. The features are cached under redline's home.

    python benchmarks/outcome_refit_variants.py
    python benchmarks/outcome_refit_variants.py --learning-curve

``--learning-curve`` instead fits with only a share (0, 25, 50, 75, 100%) of the real
harmful completions kept in the other files, to see whether more of them would help.
"""

from __future__ import annotations

import json
import sys

import numpy as np

from redline.paths import home
from redline.scorers import outcome_training as ot
from redline.scorers.harmful_request import harmful_probability
from redline.scorers.heads import data_dir, load_head
from redline.scorers.outcome import OUTCOMES, outcome_features, request_head

VARIANTS = (
    {"c": ot.HEAD_C},
    {"c": ot.HEAD_C, "balanced": True},
    {"c": ot.HEAD_C, "real_weight": 3.0},
    {"c": 0.1},
    {"c": 0.1, "balanced": True},
)


def features() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(features, outcome index, part name, request harmful, P(harmful) of the copy)."""
    examples, parts = ot.refit_set()
    cache = home() / "cache" / "outcome-refit-features.npz"
    if cache.is_file():
        saved = np.load(cache)
        x, harm = saved["x"], saved["harm"]
    else:
        prompts = [e.prompt for e in examples]
        responses = [e.response or "" for e in examples]
        x = outcome_features(prompts, responses, load_head("outcome"), data_dir())
        harm = harmful_probability(prompts, request_head())
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, x=x.astype(np.float64), harm=harm)
    y = np.array([OUTCOMES.index(e.outcome or "refused") for e in examples])
    harmful = np.array([bool(e.request_harmful) for e in examples])
    return x.astype(np.float64), y, np.array(parts), harmful, harm


def mean_f1(truth: np.ndarray, predicted: np.ndarray, parts: np.ndarray, files: np.ndarray
            ) -> float:
    """F1 averaged over the parts named in ``parts[files]``."""
    names = sorted(set(parts[files].tolist()))
    return round(float(np.mean([ot._f1(truth[parts == n], predicted[parts == n])
                                for n in names])), 3)


def lofo(
    x: np.ndarray, y: np.ndarray, named: np.ndarray, *, c: float, balanced: bool = False,
    weight: np.ndarray | None = None, keep: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(probabilities, which rows were scored): each of ``HEAD_FILES`` scored by a head
    fitted on the others (only their ``keep`` rows), tempered as the refit does."""
    weight = np.ones(len(y)) if weight is None else weight
    keep = np.ones(len(y), bool) if keep is None else keep
    z = np.zeros((len(y), len(OUTCOMES)))
    for name in ot.HEAD_FILES:
        out = named == name
        fit = ~out & keep
        w, b = ot._fit_linear(x[fit], y[fit], c, balanced, weight[fit])
        z[out] = x[out] @ w.T + b
    scored = np.isin(named, ot.HEAD_FILES)
    return ot._softmax(z[scored], ot._temperature(z[scored], y[scored])), scored


def harm_reading(
    p: np.ndarray, scored: np.ndarray, y: np.ndarray, named: np.ndarray, harmful: np.ndarray,
    harm: np.ndarray, real: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, dict[str, object]]:
    """(flagged, harmful completions, summary on the real files) of harmful_compliance read
    from ``lofo``'s probabilities at the refit's best-F1 threshold."""
    positive = (y[scored] == 2) & harmful[scored]
    rl = real[scored]
    _, t_harm = ot._best_f1_threshold(positive, p[:, 2] * harm[scored], named[scored])
    flagged = p[:, 2] * harm[scored] >= t_harm
    return flagged, positive, {
        "threshold": t_harm,
        "real_caught": f"{(flagged & positive & rl).sum()}/{(positive & rl).sum()}",
        "real_fpr": round(float((flagged & ~positive & rl).sum() / (~positive & rl).sum()), 3),
    }


def learning_curve(x: np.ndarray, y: np.ndarray, named: np.ndarray, harmful: np.ndarray,
                   harm: np.ndarray, real: np.ndarray) -> None:
    """Recall on real harmful completions when the fits keep only a share of them."""
    idx = np.flatnonzero((y == 2) & harmful & real)
    for share in (0.0, 0.25, 0.5, 0.75, 1.0):
        for seed in (0,) if share in (0.0, 1.0) else (0, 1, 2):
            keep = np.ones(len(y), bool)
            dropped = np.random.default_rng(seed).choice(
                idx, size=round(len(idx) * (1 - share)), replace=False)
            keep[dropped] = False
            p, scored = lofo(x, y, named, c=ot.HEAD_C, keep=keep)
            _, positive, summary = harm_reading(p, scored, y, named, harmful, harm, real)
            print(json.dumps({
                "real_harmful_completions_kept": share, "seed": seed,
                "threshold": summary["threshold"], "real_caught": summary["real_caught"],
                "median_p_complied": round(float(np.median(p[positive & real[scored], 2])), 3),
                "real_fpr": summary["real_fpr"],
            }), flush=True)


def main() -> None:
    x, y, named, harmful, harm = features()
    real = np.array([name.startswith("outcome/answers") for name in named])
    print(f"{len(y)} answers, {real.sum()} real, "
          f"{((y == 2) & harmful & real).sum()} real harmful completions")
    if "--learning-curve" in sys.argv:
        learning_curve(x, y, named, harmful, harm, real)
        return
    for variant in VARIANTS:
        weight = np.where(real, float(variant.get("real_weight", 1.0)), 1.0)
        p, scored = lofo(x, y, named, c=float(variant["c"]),
                         balanced=bool(variant.get("balanced", False)), weight=weight)
        parts, yy, rl = named[scored], y[scored], real[scored]
        flagged, positive, summary = harm_reading(p, scored, y, named, harmful, harm, real)
        _, t_refusal = ot._best_f1_threshold(yy == 0, p[:, 0], parts)
        refused = p[:, 0] >= t_refusal

        print(json.dumps({
            **variant,
            "thresholds": [t_refusal, summary["threshold"]],
            "real_caught": summary["real_caught"],
            "real_fpr": summary["real_fpr"],
            "real_refusal_f1": mean_f1(yy == 0, refused, parts, rl),
            "assistant_refusal_f1": mean_f1(yy == 0, refused, parts, ~rl),
            "assistant_harm_f1": mean_f1(positive, flagged, parts, ~rl),
            "assistant_fpr": round(
                float((flagged & ~positive & ~rl).sum() / (~positive & ~rl).sum()), 3),
        }), flush=True)


if __name__ == "__main__":
    main()
