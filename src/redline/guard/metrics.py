"""Prometheus metrics of the guard, served at ``GET /metrics`` (``redline guard --metrics``).

Each guard has its own registry (several guards in one process, as in tests, never share
counters). Counted from each request's event when it is recorded, so the numbers agree
with the event log:

- ``redline_guard_requests_total{endpoint, action}``: requests by final action
  (allow, redact, block, error ...).
- ``redline_guard_categories_total{category, action}``: each category that fired, once
  per request, with the request's action.
- ``redline_guard_request_duration_seconds{endpoint, action}``: time in the guard,
  upstream included (a histogram).
- ``redline_guard_upstream_duration_seconds``: time waiting on the upstream.
- ``redline_guard_layer_bypasses_total``: failed layers let through by ``fail: open``.

Needs ``prometheus-client`` (``pip install 'redline[otel]'``).
"""

from __future__ import annotations

from typing import Any

from redline.errors import require
from redline.guard.events import RequestEvent

# Seconds: a rules-only refusal takes about a millisecond, a generation up to minutes.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
           30.0, 60.0, 120.0)


class GuardMetrics:
    """The guard's counters and histograms, in a registry of their own.

    Raises:
        MissingExtraError: ``prometheus-client`` is not installed.
    """

    def __init__(self) -> None:
        require("prometheus_client", extra="otel", feature="the guard's /metrics endpoint")
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("redline_guard_requests", "Guarded requests by final action.",
                                ["endpoint", "action"], registry=self.registry)
        self.categories = Counter("redline_guard_categories",
                                  "Categories that fired, once per request.",
                                  ["category", "action"], registry=self.registry)
        self.latency = Histogram("redline_guard_request_duration_seconds",
                                 "Time in the guard, upstream included.",
                                 ["endpoint", "action"], buckets=BUCKETS,
                                 registry=self.registry)
        self.upstream = Histogram("redline_guard_upstream_duration_seconds",
                                  "Time waiting on the upstream model.", buckets=BUCKETS,
                                  registry=self.registry)
        self.bypasses = Counter("redline_guard_layer_bypasses",
                                "Failed layers let through by their fail: open setting.",
                                registry=self.registry)

    def observe(self, event: RequestEvent) -> None:
        """Count one recorded request."""
        self.requests.labels(event.endpoint, event.action).inc()
        for category in event.categories:
            self.categories.labels(category, event.action).inc()
        self.latency.labels(event.endpoint, event.action).observe(event.latency_ms / 1000.0)
        if event.upstream_ms is not None:
            self.upstream.observe(event.upstream_ms / 1000.0)
        if event.bypasses:
            self.bypasses.inc(event.bypasses)

    def exposition(self) -> tuple[bytes, str]:
        """The text exposition format and its content type."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self.registry), CONTENT_TYPE_LATEST


def metrics_response(metrics: GuardMetrics) -> Any:
    """The ``/metrics`` answer."""
    from starlette.responses import Response

    body, content_type = metrics.exposition()
    return Response(body, media_type=content_type)


__all__ = ["BUCKETS", "GuardMetrics", "metrics_response"]
