"""Attacks: strategies that drive probes and transforms against a target.

Built in: ``static`` (probes x transforms), ``fuzz`` (genetic search over transform
chains and templates, guided by scorer feedback), ``pair`` and ``tap`` (an attacker model
refines prompts, a judge rates answers), ``crescendo`` (multi-turn escalation).
White-box attacks (gradient-guided search, trigger search) live in
``redline.redteam.whitebox`` and plug in through the same :class:`Attack` interface.
"""

from redline.redteam.attacks.base import (
    Attack,
    AttackContext,
    AttackInfo,
    Goal,
    attack,
    attack_infos,
    make_attack,
)

__all__ = ["Attack", "AttackContext", "AttackInfo", "Goal", "attack", "attack_infos",
           "make_attack"]
