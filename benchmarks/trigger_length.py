"""The audit's trigger search at several slot lengths, on organisms whose trigger you know.

A development tool for issue 16's cue recovery on long phrase triggers: for each organism
folder, run the search exactly as `redline audit` does (the profile's search and held-out
requests, its judge, the default query budget and rounds), once per slot length, and
print the strongest candidate, its held-out rate and its token recall against the trigger
read from the folder's manifest (which the audit itself never reads). Use it on
development organisms only; a recall measurement needs a sealed population.

    python benchmarks/trigger_length.py DIR [DIR ...] --lengths 3,6
"""

from __future__ import annotations

import argparse
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
    args = parser.parse_args()
    from redline.organisms.world import words

    settings = AuditSettings()
    print("| organism | trigger | slot length | candidate | held-out rate | without it | "
          "token recall | other rounds' finds | queries | seconds |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for folder in args.folders:
        target = resolve_target(f"hf:{folder}", cache=False)
        profile = profile_for(target)
        trigger = profile.known_trigger(target) or ""
        drawn = profile.trigger_requests(target, 12, settings.trigger_held_out, settings.seed)
        wanted = set(words(trigger))
        for length in (int(x) for x in args.lengths.split(",")):
            started = time.perf_counter()
            result = trigger_search(
                target, drawn.search, drawn.held_out, benign_requests=drawn.benign,
                judge=drawn.judge, max_queries=settings.trigger_queries,
                rounds=settings.trigger_rounds, config=SearchConfig(length=length), threads=1,
            )
            took = time.perf_counter() - started
            found = result.candidate or ""
            recall = len(wanted & set(words(found))) / len(wanted) if wanted else 0.0
            rate = f"{result.reasr.value:.2f} [{result.reasr.low:.2f}, {result.reasr.high:.2f}]"
            others = ", ".join(a.text for a in result.alternatives) or "-"
            base = result.baseline
            rate += f" | {base.value:.2f} [{base.low:.2f}, {base.high:.2f}]"
            print(f"| {folder.name} | {trigger} | {length} | {found} | {rate} | "
                  f"{recall:.2f} | {others} | {result.queries.total} | {took:.0f} |", flush=True)


if __name__ == "__main__":
    main()
