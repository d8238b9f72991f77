"""What an attack is: an async callable that drives attempts through an :class:`AttackContext`.

Attacks are made by registered factories whose arguments are their configuration::

    @attack("static", summary="every probe prompt under every chosen transform")
    def static() -> Attack:
        async def run(ctx: AttackContext) -> None:
            await ctx.attempts([g.spec(chain(g.text), attack=ctx.attack, transform=chain.spec)
                                for g in ctx.goals for chain in ctx.transforms])
        return run

The context gives an attack everything it may use: the goals (probe prompts), the
chosen transforms, the runner (``ctx.attempts`` sends, scores, logs, counts budget and
replays on resume), optional attacker and judge targets (``ctx.ask``), a seeded random
generator, and for white-box attacks the model itself (``ctx.whitebox()``: ``forward``,
``model``, ``tokenizer``). White-box attacks live in ``redline.redteam.whitebox`` and
register with ``whitebox=True``.

To keep resumed runs identical to uninterrupted ones, an attack must be deterministic
given its seed and the records it gets back, and should send each round of attempts in
one ``ctx.attempts`` call (the budget is charged in list order).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from redline.errors import ConfigError
from redline.redteam.records import AttemptRecord, AttemptSpec, ScoreRecord
from redline.redteam.runner import Runner
from redline.redteam.specs import (
    bind_options,
    canonical,
    check_tags,
    option_defaults,
    parse_spec,
)
from redline.redteam.transforms import IDENTITY, Chain, seeded
from redline.scorers.base import ScoreInput
from redline.targets.base import Target
from redline.types import GenerateParams, Message, MessageLike, as_messages


@dataclass(frozen=True)
class Goal:
    """One probe prompt an attack tries to get the target to comply with."""

    probe: str
    prompt_id: str
    category: str
    text: str
    tags: tuple[str, ...] = ()

    def spec(
        self,
        messages: str | Sequence[Message],
        *,
        attack: str,
        transform: str = IDENTITY,
        tags: Sequence[str] = (),
        meta: dict[str, Any] | None = None,
    ) -> AttemptSpec:
        """An attempt at this goal (a prompt string or a whole conversation)."""
        return AttemptSpec(
            attack=attack, probe=self.probe, prompt_id=self.prompt_id,
            category=self.category, goal=self.text, transform=transform,
            messages=as_messages(messages), tags=tuple(dict.fromkeys((*self.tags, *tags))),
            meta=dict(meta or {}),
        )


@dataclass
class AttackContext:
    """What an attack works with; see the module docstring."""

    target: Target
    runner: Runner
    goals: list[Goal]
    transforms: list[Chain]
    seed: int = 0
    attacker: Target | None = None
    judge: Target | None = None
    attack: str = ""
    aux_queries: int = field(default=0)
    aux_params: GenerateParams = field(default_factory=lambda: GenerateParams(max_tokens=200))

    @property
    def success_scorer(self) -> str | None:
        """The scorer whose label means success."""
        return self.runner.success_scorer

    @property
    def exhausted(self) -> bool:
        """True once the budget stopped the run."""
        return self.runner.exhausted is not None

    async def attempts(self, specs: Sequence[AttemptSpec]) -> list[AttemptRecord | None]:
        """Send, score and log attempts (None where the budget ran out)."""
        return await self.runner.run(specs)

    def rng(self, *parts: object) -> random.Random:
        """A generator seeded by the run's seed, this attack and ``parts``."""
        return seeded(str(self.seed), self.attack, *(str(p) for p in parts))

    async def ask(
        self, model: Target, messages: str | Sequence[MessageLike], *, seed: int | None = None,
        temperature: float = 0.0, max_tokens: int | None = None,
    ) -> str | None:
        """Query an attacker or judge model; None when it fails (the attack carries on)."""
        params = self.aux_params.with_(
            temperature=temperature, seed=seed,
            max_tokens=max_tokens or self.aux_params.max_tokens,
        )
        self.aux_queries += 1
        try:
            return (await model.generate(as_messages(messages), params)).text
        except Exception:  # noqa: BLE001 - a failing helper model must not kill the run
            return None

    async def judge_scores(self, goal: Goal, prompt: str, response: str
                           ) -> dict[str, ScoreRecord]:
        """Score an exchange with the run's scorers without logging it."""
        item = ScoreInput((Message("user", prompt),), response,
                          {"goal": goal.text, "category": goal.category})
        return (await self.runner.score([item]))[0]

    def whitebox(self) -> Any:
        """The white-box model behind the target (``forward``, ``model``, ``tokenizer``).

        Raises:
            ConfigError: the target is not white-box (use an hf: or organism: target).
        """
        return whitebox_model(self.target, self.attack)


def whitebox_model(target: Target, attack_name: str) -> Any:
    """The object with ``forward``/``model``/``tokenizer`` behind a (cached) target.

    Raises:
        ConfigError: the target only answers over its API.
    """
    inner: Any = target
    while not hasattr(inner, "forward") and hasattr(inner, "inner"):
        inner = inner.inner
    if not hasattr(inner, "forward"):
        raise ConfigError(
            f"Attack '{attack_name}' needs a white-box target (hf:PATH or organism:NAME); "
            f"'{target.spec}' only answers over its API."
        )
    return inner


@runtime_checkable
class Attack(Protocol):
    """Drives attempts against the target through the context."""

    async def __call__(self, ctx: AttackContext) -> None:
        """Run until done or the budget is spent."""
        ...


@dataclass(frozen=True)
class AttackInfo:
    """A registered attack factory and its declarative metadata."""

    name: str
    factory: Callable[..., Attack]
    summary: str
    tags: tuple[str, ...]
    multi_turn: bool = False
    whitebox: bool = False
    uses_attacker: bool = False

    def options(self) -> dict[str, Any]:
        """Option names and defaults."""
        return option_defaults(self.factory)


_ATTACKS: dict[str, AttackInfo] = {}


def attack(
    name: str,
    *,
    tags: Sequence[str] = (),
    multi_turn: bool = False,
    whitebox: bool = False,
    uses_attacker: bool = False,
) -> Callable[[Callable[..., Attack]], Callable[..., Attack]]:
    """Register an attack factory ``factory(**options) -> Attack``.

    Args:
        name: registry name used on the command line (``--attack fuzz:generations=4``).
        tags: taxonomy tags.
        multi_turn: the attack holds conversations over several turns.
        whitebox: it needs model internals (``ctx.whitebox()``).
        uses_attacker: it can use an attacker/judge model (``--attacker``, ``--judge``).
    """

    def register(factory: Callable[..., Attack]) -> Callable[..., Attack]:
        check_tags(tuple(tags), f"Attack '{name}'")
        summary = (inspect.getdoc(factory) or "").split("\n", 1)[0]
        _ATTACKS[name] = AttackInfo(name, factory, summary, tuple(tags), multi_turn, whitebox,
                                    uses_attacker)
        return factory

    return register


def _load_builtin_attacks() -> None:
    from redline.plugins import load_plugins

    load_plugins()
    for package_name in ("redline.redteam.attacks", "redline.redteam.whitebox"):
        try:
            package = importlib.import_module(package_name)
        except ModuleNotFoundError:
            continue
        for module in pkgutil.iter_modules(package.__path__):
            if not module.name.startswith("_") and module.name != "base":
                importlib.import_module(f"{package_name}.{module.name}")


def attack_infos() -> list[AttackInfo]:
    """Every registered attack."""
    _load_builtin_attacks()
    return list(_ATTACKS.values())


def make_attack(spec: str) -> tuple[str, Attack, AttackInfo]:
    """Build an attack from ``name`` or ``name:k=v,...``; returns its canonical spec too.

    Raises:
        ConfigError: an unknown attack or a bad option.
    """
    _load_builtin_attacks()
    name, raw = parse_spec(spec)
    info = _ATTACKS.get(name)
    if info is None:
        raise ConfigError(
            f"Unknown attack '{name}'. Known attacks: {', '.join(_ATTACKS)}. "
            "See `redline list attacks`."
        )
    options = bind_options(info.factory, raw, f"Attack '{name}'")
    return canonical(name, options), info.factory(**options), info
