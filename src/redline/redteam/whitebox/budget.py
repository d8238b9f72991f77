"""Query budgets: each prompt a target evaluates, by forward pass or by generation, is one query."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from redline.errors import ConfigError


class BudgetExhausted(Exception):  # noqa: N818 - a control-flow signal, not an error
    """Raised inside a search when the next evaluation would pass the query budget."""


@dataclass
class QueryBudget:
    """Counts target queries and refuses to spend past ``limit``.

    A query is one prompt evaluated by the target: one row of a forward pass (with or
    without a backward pass through it) or one generated answer. ``spent`` keeps the
    count per purpose (``gradient``, ``candidates``, ``generate``, ...), so a result can
    say where its queries went.
    """

    limit: int
    used: int = 0
    reserved: int = 0
    spent: dict[str, int] = field(default_factory=dict)
    deadline: float | None = None
    """A ``time.monotonic()`` after which nothing more may be spent (a wall-time budget);
    the search sets it back to None before its final measurement."""

    def __post_init__(self) -> None:
        if self.limit < 1:
            raise ConfigError(f"The query budget must be at least 1, got {self.limit}.")

    @property
    def left(self) -> int:
        """Queries that may still be spent."""
        return self.limit - self.reserved - self.used

    def can_spend(self, n: int) -> bool:
        """True when ``n`` more queries fit in the budget, outside what is reserved, in time."""
        if self.deadline is not None and time.monotonic() > self.deadline:
            return False
        return self.used + n <= self.limit - self.reserved

    def reserve(self, n: int) -> None:
        """Hold back ``n`` queries for later work (a final evaluation); ``reserved = 0`` frees them.

        Raises:
            ConfigError: the budget cannot hold them back.
        """
        if n > self.limit - self.used:
            raise ConfigError(
                f"The query budget of {self.limit} cannot cover the {n} queries of the final "
                "evaluation; raise the budget or use fewer held-out requests."
            )
        self.reserved = n

    def spend(self, n: int, purpose: str) -> None:
        """Count ``n`` queries for ``purpose``.

        Raises:
            BudgetExhausted: they do not fit; nothing is counted.
        """
        if not self.can_spend(n):
            raise BudgetExhausted(f"{n} more queries for {purpose} would pass {self.limit}")
        self.used += n
        self.spent[purpose] = self.spent.get(purpose, 0) + n
