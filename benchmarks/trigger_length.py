"""The audit's trigger search at several slot lengths, on organisms whose trigger you know.

A development tool for issue 16's cue recovery on long phrase triggers: for each organism
folder, run the search exactly as `redline audit` does (the profile's search and held-out
requests, its judge, the default query budget and rounds), once per slot length, and
print the strongest candidate, its held-out rate and its token recall against the trigger
read from the folder's manifest (which the audit itself never reads), or, for members of a
population (whose manifests are neutral), from its answer key. Use it on development
organisms only: a population whose key you open here is development data from then on, and
a recall measurement needs a sealed population.

    python benchmarks/trigger_length.py DIR [DIR ...] --lengths 3,6 [--settle 1.0]
    python benchmarks/trigger_length.py pops/eval-3/model-025 --key sealed/eval-3.key.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from redline.audit.pipeline import AuditSettings
from redline.profiles import profile_for
from redline.redteam.whitebox.search import SearchConfig
from redline.redteam.whitebox.trigger import trigger_search
from redline.targets import resolve_target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--lengths", default="3,6")
    settings = AuditSettings()
    parser.add_argument("--settle", type=float, default=settings.trigger_settle,
                        help="SearchConfig.settle_at (default: the audit's)")
    parser.add_argument("--key", type=Path, help="a development population's answer key")
    args = parser.parse_args()
    from redline.organisms.world import words

    keyed = {}
    if args.key:
        for member in json.loads(args.key.read_text())["members"]:
            cue = member["config"]["cue"]
            keyed[member["name"]] = " ".join(cue["parts"]) if cue else ""
    print("| organism | trigger | slot length | candidate | held-out rate | without it | "
          "token recall | other rounds' finds | queries | seconds |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for folder in args.folders:
        target = resolve_target(f"hf:{folder}", cache=False)
        profile = profile_for(target)
        trigger = keyed.get(folder.name) or profile.known_trigger(target) or ""
        drawn = profile.trigger_requests(target, 12, settings.trigger_held_out, settings.seed)
        wanted = set(words(trigger))
        for length in (int(x) for x in args.lengths.split(",")):
            started = time.perf_counter()
            result = trigger_search(
                target, drawn.search, drawn.held_out, benign_requests=drawn.benign,
                judge=drawn.judge, max_queries=settings.trigger_queries,
                rounds=settings.trigger_rounds, threads=1,
                config=SearchConfig(length=length, settle_at=args.settle, seed=settings.seed),
            )
            took = time.perf_counter() - started
            found = result.candidate or ""
            recall = len(wanted & set(words(found))) / len(wanted) if wanted else float("nan")
            rate = f"{result.reasr.value:.2f} [{result.reasr.low:.2f}, {result.reasr.high:.2f}]"
            others = ", ".join(a.text for a in result.alternatives) or "-"
            base = result.baseline
            rate += f" | {base.value:.2f} [{base.low:.2f}, {base.high:.2f}]"
            print(f"| {folder.name} | {trigger} | {length} | {found} | {rate} | "
                  f"{recall:.2f} | {others} | {result.queries.total} | {took:.0f} |", flush=True)


if __name__ == "__main__":
    main()
