"""``mock``: a scripted target for tests and demos; instant and offline."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable, Iterator, Sequence

from redline.targets.base import target_kind
from redline.types import Completion, FinishReason, GenerateParams, Message

Responder = Callable[[Sequence[Message]], str]


class MockTarget:
    """Answers from a script.

    With ``responses`` it cycles through them; with ``responder`` it calls it on the
    messages; with neither it echoes the last user message. Every call is recorded in
    ``calls`` so tests can check what a component sent.
    """

    def __init__(
        self,
        responses: Sequence[str] | None = None,
        *,
        responder: Responder | None = None,
        spec: str = "mock",
    ) -> None:
        self._spec = spec
        self._responder = responder
        self._cycle: Iterator[str] | None = itertools.cycle(responses) if responses else None
        self.calls: list[tuple[tuple[Message, ...], GenerateParams]] = []

    @property
    def spec(self) -> str:
        """The spec string."""
        return self._spec

    @property
    def fingerprint(self) -> str:
        """Mock targets never change."""
        return "mock"

    def _answer(self, messages: Sequence[Message]) -> str:
        if self._responder is not None:
            return self._responder(messages)
        if self._cycle is not None:
            return next(self._cycle)
        last_user = next((m.content for m in reversed(messages) if m.role == "user"), "")
        return f"mock reply to: {last_user}"

    async def generate(self, messages: Sequence[Message], params: GenerateParams) -> Completion:
        """Answer from the script, truncated to ``max_tokens`` words."""
        self.calls.append((tuple(messages), params))
        words = self._answer(messages).split(" ")
        text = " ".join(words[: params.max_tokens])
        for stop in params.stop:
            text = text.split(stop, 1)[0]
        reason: FinishReason = "length" if len(words) > params.max_tokens else "stop"
        return Completion(text=text, finish_reason=reason, model=self._spec)

    async def stream(
        self, messages: Sequence[Message], params: GenerateParams
    ) -> AsyncIterator[str]:
        """Yield the answer word by word."""
        text = (await self.generate(messages, params)).text
        for i, word in enumerate(text.split(" ")):
            yield word if i == 0 else " " + word

    async def aclose(self) -> None:
        """Nothing to release."""


@target_kind(
    "mock",
    example="mock:hello there",
    summary="Scripted replies for tests: 'mock' echoes, 'mock:TEXT' always answers TEXT.",
    needs_rest=False,
)
def make_mock(rest: str) -> MockTarget:
    """``mock`` echoes the last user message; ``mock:TEXT`` always answers TEXT."""
    return MockTarget([rest] if rest else None, spec=f"mock:{rest}" if rest else "mock")
