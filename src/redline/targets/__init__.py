"""Targets: models under test or under guard, made from spec strings.

>>> from redline.targets import resolve_target
>>> target = resolve_target("mock:hello")
"""

from redline.targets.base import (
    BatchTarget,
    StreamingTarget,
    Target,
    TargetKind,
    generate_many,
    parse_spec,
    resolve_target,
    stream,
    target_kind,
    target_kinds,
)
from redline.targets.mock import MockTarget

__all__ = [
    "BatchTarget",
    "MockTarget",
    "StreamingTarget",
    "Target",
    "TargetKind",
    "generate_many",
    "parse_spec",
    "resolve_target",
    "stream",
    "target_kind",
    "target_kinds",
]
