"""``python:pkg.module:function``: any Python callable as a target.

The callable receives the messages as a list of ``{"role", "content"}`` dicts, and the
:class:`~redline.types.GenerateParams` as a second argument if it takes one. It may be
sync or async and may return a string, a :class:`~redline.types.Completion` or an
OpenAI-style dict with ``choices[0].message.content``.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
from collections.abc import Callable, Sequence
from typing import Any

from redline.errors import TargetResponseError, TargetSpecError
from redline.targets.base import target_kind
from redline.types import Completion, GenerateParams, Message, messages_to_dicts


class PythonTarget:
    """Calls a Python function for every generation."""

    def __init__(self, fn: Callable[..., Any], spec: str) -> None:
        self._fn = fn
        self._spec = spec
        params = inspect.signature(fn).parameters
        self._takes_params = len(params) >= 2 or any(
            p.kind is inspect.Parameter.VAR_POSITIONAL for p in params.values()
        )

    @property
    def spec(self) -> str:
        """The spec string."""
        return self._spec

    @property
    def fingerprint(self) -> str:
        """The function's qualified name and code hash."""
        code = getattr(self._fn, "__code__", None)
        return f"{self._spec}:{hash(code.co_code) if code else ''}"

    async def generate(self, messages: Sequence[Message], params: GenerateParams) -> Completion:
        """Call the function (in a thread if it is synchronous) and normalise its answer."""
        args: tuple[Any, ...] = (messages_to_dicts(messages),)
        if self._takes_params:
            args += (params,)
        if inspect.iscoroutinefunction(self._fn):
            result = await self._fn(*args)
        else:
            result = await asyncio.to_thread(self._fn, *args)
        return _to_completion(result, self._spec)

    async def aclose(self) -> None:
        """Nothing to release."""


def _to_completion(result: Any, spec: str) -> Completion:
    if isinstance(result, Completion):
        return result
    if isinstance(result, str):
        return Completion(text=result, model=spec)
    if isinstance(result, dict):
        try:
            return Completion(text=str(result["choices"][0]["message"]["content"]), model=spec)
        except (KeyError, IndexError, TypeError):
            pass
    raise TargetResponseError(
        f"Target '{spec}' returned {type(result).__name__}; it must return a str, a "
        "Completion or an OpenAI-style dict with choices[0].message.content."
    )


@target_kind(
    "python",
    example="python:my_package.my_module:answer",
    summary="Any Python function, sync or async, that takes messages and returns text.",
)
def make_python(rest: str) -> PythonTarget:
    """Import ``module:function`` and wrap it."""
    module_name, sep, attr = rest.partition(":")
    if not sep or not module_name or not attr:
        raise TargetSpecError(
            f"Target 'python:{rest}' must name a module and a function. "
            "Example: python:my_package.my_module:answer"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise TargetSpecError(
            f"Cannot import module '{module_name}' for target 'python:{rest}': {exc}. "
            "Check the name and that it is on PYTHONPATH."
        ) from exc
    fn = module
    for part in attr.split("."):
        fn = getattr(fn, part, None)  # type: ignore[assignment]
        if fn is None:
            raise TargetSpecError(f"Module '{module_name}' has no attribute '{attr}'.")
    if not callable(fn):
        raise TargetSpecError(f"'{module_name}:{attr}' is not callable.")
    return PythonTarget(fn, f"python:{rest}")
