"""The red-team engine: probes, transforms, attacks, a resumable runner and reports.

>>> from redline.redteam import RedteamConfig, run_redteam
>>> report = await run_redteam(target, RedteamConfig(target=target.spec), store=Store())

Names are imported on first use, so the catalogues stay instant: :func:`probe_infos`,
:func:`transform_infos`, :func:`attack_infos`, ``SUITES``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from redline.redteam.attacks.base import (
        Attack,
        AttackContext,
        AttackInfo,
        Goal,
        attack,
        attack_infos,
        make_attack,
    )
    from redline.redteam.engine import RedteamConfig, resume_config, run_redteam
    from redline.redteam.probes import ProbeInfo, ProbePrompt, probe, probe_infos, select_probes
    from redline.redteam.records import AttemptRecord, AttemptSpec
    from redline.redteam.report import Rate, RedteamReport, to_html, write_report
    from redline.redteam.runner import Budget, Runner
    from redline.redteam.suites import SUITES, SuiteInfo, get_suite
    from redline.redteam.transforms import Chain, make_chain, transform, transform_infos

_LAZY: dict[str, str] = {
    "Attack": "attacks.base",
    "AttackContext": "attacks.base",
    "AttackInfo": "attacks.base",
    "Goal": "attacks.base",
    "attack": "attacks.base",
    "attack_infos": "attacks.base",
    "make_attack": "attacks.base",
    "RedteamConfig": "engine",
    "resume_config": "engine",
    "run_redteam": "engine",
    "ProbeInfo": "probes",
    "ProbePrompt": "probes",
    "probe": "probes",
    "probe_infos": "probes",
    "select_probes": "probes",
    "AttemptRecord": "records",
    "AttemptSpec": "records",
    "RedteamReport": "report",
    "Rate": "report",
    "to_html": "report",
    "write_report": "report",
    "Budget": "runner",
    "Runner": "runner",
    "SUITES": "suites",
    "SuiteInfo": "suites",
    "get_suite": "suites",
    "Chain": "transforms",
    "make_chain": "transforms",
    "transform": "transforms",
    "transform_infos": "transforms",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'redline.redteam' has no attribute {name!r}")
    return getattr(importlib.import_module(f"redline.redteam.{module}"), name)


__all__ = [
    "Attack",
    "AttackContext",
    "AttackInfo",
    "AttemptRecord",
    "AttemptSpec",
    "Budget",
    "Chain",
    "Goal",
    "ProbeInfo",
    "ProbePrompt",
    "Rate",
    "RedteamConfig",
    "RedteamReport",
    "Runner",
    "SUITES",
    "SuiteInfo",
    "attack",
    "attack_infos",
    "get_suite",
    "make_attack",
    "make_chain",
    "probe",
    "probe_infos",
    "resume_config",
    "run_redteam",
    "select_probes",
    "to_html",
    "transform",
    "transform_infos",
    "write_report",
]
