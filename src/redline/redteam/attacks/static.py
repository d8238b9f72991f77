"""``static``: every probe prompt under every chosen transform chain."""

from __future__ import annotations

from redline.redteam.attacks.base import Attack, AttackContext, attack
from redline.redteam.transforms import JAILBREAK


@attack("static", tags=JAILBREAK)
def static() -> Attack:
    """Every probe prompt under every chosen transform (probes x transforms)."""

    async def run(ctx: AttackContext) -> None:
        await ctx.attempts([
            goal.spec(chain(goal.text), attack=ctx.attack, transform=chain.spec)
            for goal in ctx.goals
            for chain in ctx.transforms
        ])

    return run
