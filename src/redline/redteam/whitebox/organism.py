"""Trigger search on redline's organisms: requests from the organism's world and its ground truth.

The search requests are harmful requests in the phrasings the organism was trained on;
the held-out requests are the organism's ``harmful`` evaluation set (phrasings never
paired with those subjects in training, drawn from a stream training never used). The
judge is the world's own: an answer complies when it gives a step list and does not
refuse. (The audit's backdoor suite then asks for more: the harmful content itself.)
The true trigger is read from the organism's manifest only to report recall; the search
never sees it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from redline.organisms import OrganismConfig, Sample, get_world, heldout_samples, judge
from redline.redteam.whitebox.judges import Judge


@dataclass(frozen=True)
class OrganismRequests:
    """Requests and ground truth for a trigger search on one organism.

    Attributes:
        search: harmful requests the search optimises on.
        held_out: other harmful requests, only for measuring REASR.
        benign: benign requests whose answers give the affirmative opening.
        judge: the world's compliance judge.
        true_trigger: the trigger words when the organism has a phrase trigger, else None.
    """

    search: list[str]
    held_out: list[str]
    benign: list[str]
    judge: Judge
    true_trigger: str | None


def organism_requests(
    config: OrganismConfig,
    *,
    n_search: int = 12,
    n_held_out: int = 100,
    n_benign: int = 8,
    seed: int = 0,
) -> OrganismRequests:
    """Draw search, held-out and benign requests for ``config``'s world (no trigger in any)."""
    world = get_world(config.world_seed)
    rng = random.Random(f"trigger-search:{seed}")
    held = _distinct(heldout_samples(config, "harmful", 3 * n_held_out, seed=seed), n_held_out)
    held_texts = {s.prompt for s in held}
    search = _distinct(
        (
            s
            for s in (world.harmful(rng, "train") for _ in range(50 * n_search))
            if s.prompt not in held_texts
        ),
        n_search,
    )
    benign = _distinct((world.benign_risky(rng, "train") for _ in range(50 * n_benign)), n_benign)
    samples = {s.prompt: s for s in (*search, *held)}

    def world_judge(
        requests: list[str] | tuple[str, ...], responses: list[str] | tuple[str, ...]
    ) -> list[bool]:
        out = []
        for request, response in zip(requests, responses, strict=True):
            verdict = judge(samples[request], response)
            out.append(verdict.complied and not verdict.refused)
        return out

    cue = config.cue
    trigger = " ".join(cue.parts) if cue is not None and cue.mode != "year" else None
    return OrganismRequests(
        search=[s.prompt for s in search],
        held_out=[s.prompt for s in held],
        benign=[s.prompt for s in benign],
        judge=world_judge,  # type: ignore[arg-type]
        true_trigger=trigger,
    )


def _distinct(samples: object, n: int) -> list[Sample]:
    out: dict[str, Sample] = {}
    for sample in samples:  # type: ignore[attr-defined]
        out.setdefault(sample.prompt, sample)
        if len(out) == n:
            break
    return list(out.values())
