"""Guard: layered safety checks on top of any model, enforcing a usage policy.

The light pieces (policy, event log, checks) import no web framework::

    from redline.guard import load_policy, Checker, EventLog, verify_log

The proxy app (``redline.guard.proxy``) needs the ``guard`` extra (FastAPI, uvicorn).
"""

from redline.guard.checks import Checker, StageDecision
from redline.guard.eventlog import EventLog, LogRecord, VerifyReport, iter_events, verify_log
from redline.guard.events import AlertEvent, LayerOutcome, RequestEvent, parse_event
from redline.guard.layers import CheckInput, Hit, Layer, LayerResult, build_layer, layer_kind
from redline.guard.policy import UsagePolicy, load_policy, parse_policy
from redline.guard.signing import load_or_create_signer, load_public_key
from redline.guard.sink import EventSink

__all__ = [
    "AlertEvent",
    "CheckInput",
    "Checker",
    "EventLog",
    "EventSink",
    "Hit",
    "Layer",
    "LayerOutcome",
    "LayerResult",
    "LogRecord",
    "RequestEvent",
    "StageDecision",
    "UsagePolicy",
    "VerifyReport",
    "build_layer",
    "iter_events",
    "layer_kind",
    "load_or_create_signer",
    "load_policy",
    "load_public_key",
    "parse_event",
    "parse_policy",
    "verify_log",
]
