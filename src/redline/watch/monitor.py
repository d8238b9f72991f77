"""The watcher: rates, latency and drift over guard events, with change detection and alerts.

Feed it :class:`~redline.guard.events.RequestEvent` objects in arrival order. The first
``reference`` requests are the baseline: they set each metric's in-control rate and the
reference embeddings. After that every request updates one change detector per metric:

- ``category:NAME`` — the request fired the category (at either stage);
- ``action:NAME`` — the guard's decision was NAME (``block``, ``flag``, ``redact``, ``error``);
- ``refusal`` — the upstream refused (when a refusal layer runs);
- ``key:NAME:blocked`` — a request of client NAME was blocked (rate per API key).

and every ``drift_every`` requests the last ``drift_window`` prompt embeddings are tested
against the reference (MMD); two significant tests in a row raise a drift alert.
"""

from __future__ import annotations

import uuid
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel

from redline.guard.events import AlertEvent, RequestEvent, unpack_embedding
from redline.watch.alerts import AlertSink
from redline.watch.detect import BernoulliCusum, EwmaChart, smoothed_rate
from redline.watch.drift import mmd_test

ACTIONS = ("block", "flag", "redact", "error")


@dataclass(frozen=True)
class WatchConfig:
    """How the watcher decides.

    Attributes:
        reference: requests that form the baseline (no alerts during it).
        detector: ``cusum`` (default) or ``ewma``.
        arl0: CUSUM: about this many clean requests between false alarms per metric.
        ratio: CUSUM: tuned to catch a rate ``ratio`` times the baseline ...
        min_shift: ... or the baseline plus this, whichever is larger.
        cooldown: requests after an alert before the same metric may alert again.
        bucket: requests per point of the plotted series.
        drift_every: requests between drift tests (0 turns drift off).
        drift_window: recent embeddings per test (and most reference embeddings kept).
        drift_permutations: permutations per drift test.
        drift_alpha: p-value at or below which a test counts as significant.
    """

    reference: int = 2000
    detector: Literal["cusum", "ewma"] = "cusum"
    arl0: float = 1e6
    ratio: float = 3.0
    min_shift: float = 0.03
    cooldown: int = 1000
    bucket: int = 100
    drift_every: int = 500
    drift_window: int = 300
    drift_permutations: int = 500
    drift_alpha: float = 0.002


class MetricState(BaseModel):
    """One watched series, as the report shows it."""

    name: str
    reference_rate: float
    current_rate: float
    statistic: float
    threshold: float
    alerts: int


class WatchSnapshot(BaseModel):
    """Where the traffic stands: totals, rates, latency, detectors, alerts and series."""

    requests: int
    in_reference: bool
    by_action: dict[str, int]
    by_category: dict[str, int]
    by_client: dict[str, int]
    refusal_rate: float | None
    latency_ms: dict[str, float]
    metrics: list[MetricState]
    alerts: list[AlertEvent]
    series: list[dict[str, Any]]
    drift: list[dict[str, float]]


@dataclass
class _Metric:
    name: str
    detector: BernoulliCusum | EwmaChart
    reference_rate: float
    recent: deque[int] = field(default_factory=lambda: deque(maxlen=500))
    alerts: int = 0
    quiet_until: int = 0


def _percentiles(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {}
    p50, p95, p99 = np.percentile(np.asarray(values), [50, 95, 99])
    return {"p50": round(float(p50), 3), "p95": round(float(p95), 3), "p99": round(float(p99), 3)}


class Watcher:
    """Watches guard events and raises alerts.

    Args:
        config: thresholds and windows.
        sinks: called with every alert (webhook, alert log, ...).
    """

    def __init__(self, config: WatchConfig | None = None, sinks: Sequence[AlertSink] = ()) -> None:
        self.config = config or WatchConfig()
        self.sinks = list(sinks)
        self.n = 0
        self.alerts: list[AlertEvent] = []
        self.by_action: Counter[str] = Counter()
        self.by_category: Counter[str] = Counter()
        self.by_client: Counter[str] = Counter()
        self._ref_hits: Counter[str] = Counter()
        self._ref_clients: Counter[str] = Counter()
        self._metrics: dict[str, _Metric] = {}
        self._refusals = [0, 0]  # refused, judged
        self._latency: deque[float] = deque(maxlen=5000)
        self._ref_embeddings: list[np.ndarray] = []
        self._embeddings: deque[np.ndarray] = deque(maxlen=self.config.drift_window)
        self._drift_strikes = 0
        self._drift: list[dict[str, float]] = []
        self._series: list[dict[str, Any]] = []
        self._bucket: Counter[str] = Counter()
        self._bucket_latency: list[float] = []

    # --- feeding --------------------------------------------------------------------------

    def observe_all(self, events: Iterable[RequestEvent | AlertEvent]) -> list[AlertEvent]:
        """Observe many events; alert events (from the store or a log) are skipped."""
        raised: list[AlertEvent] = []
        for event in events:
            if isinstance(event, RequestEvent):
                raised += self.observe(event)
        return raised

    def observe(self, event: RequestEvent) -> list[AlertEvent]:
        """Observe one request; returns the alerts it raised (already sent to the sinks)."""
        self.n += 1
        hits = self._hits(event)
        self.by_action[event.action] += 1
        self.by_client[event.client] += 1
        for category in event.categories:
            self.by_category[category] += 1
        if event.upstream_refused is not None:
            self._refusals[0] += int(event.upstream_refused)
            self._refusals[1] += 1
        self._latency.append(event.latency_ms)
        self._add_to_bucket(hits, event.latency_ms)
        embedding = unpack_embedding(event.embedding) if event.embedding else None
        raised: list[AlertEvent] = []
        if self.n <= self.config.reference:
            self._ref_hits.update(hits)
            self._ref_clients[event.client] += 1
            if embedding is not None and len(self._ref_embeddings) < self.config.drift_window:
                self._ref_embeddings.append(embedding)
            return raised
        raised += self._detect(hits, event.client)
        if embedding is not None:
            self._embeddings.append(embedding)
        every = self.config.drift_every
        if every and (self.n - self.config.reference) % every == 0:
            raised += self._drift_test()
        for alert in raised:
            self._send(alert)
        return raised

    @staticmethod
    def _hits(event: RequestEvent) -> set[str]:
        hits = {f"category:{c}" for c in event.categories}
        if event.action in ACTIONS:
            hits.add(f"action:{event.action}")
        if event.upstream_refused:
            hits.add("refusal")
        if event.action == "block":
            hits.add(f"key:{event.client}:blocked")
        return hits

    # --- detection ------------------------------------------------------------------------

    def _metric(self, name: str) -> _Metric:
        found = self._metrics.get(name)
        if found is not None:
            return found
        reference_n = min(self.n - 1, self.config.reference)
        if name.startswith("key:"):
            # A client's block rate is judged against the block rate of all traffic.
            p0 = smoothed_rate(self._ref_hits["action:block"], reference_n)
        else:
            p0 = smoothed_rate(self._ref_hits[name], reference_n)
        cfg = self.config
        detector: BernoulliCusum | EwmaChart
        if cfg.detector == "ewma":
            detector = EwmaChart(p0)
        else:
            detector = BernoulliCusum.tuned(p0, arl0=cfg.arl0, ratio=cfg.ratio,
                                            min_shift=cfg.min_shift)
        metric = _Metric(name, detector, p0)
        self._metrics[name] = metric
        return metric

    def _watched(self, hits: set[str], client: str) -> set[str]:
        names = {m for m in self._metrics if not m.startswith("key:")}
        names |= {h for h in hits if not h.startswith("key:")}
        names |= {f"action:{a}" for a in ACTIONS}
        names.add(f"key:{client}:blocked")
        return names

    def _detect(self, hits: set[str], client: str) -> list[AlertEvent]:
        raised = []
        for name in sorted(self._watched(hits, client)):
            metric = self._metric(name)
            hit = name in hits
            metric.recent.append(int(hit))
            fired = metric.detector.update(hit)
            if fired and self.n >= metric.quiet_until:
                metric.alerts += 1
                metric.quiet_until = self.n + self.config.cooldown
                raised.append(self._rate_alert(metric))
        return raised

    def _rate_alert(self, metric: _Metric) -> AlertEvent:
        recent = float(np.mean(metric.recent)) if metric.recent else 0.0
        detector = metric.detector
        kind = "ewma" if isinstance(detector, EwmaChart) else "cusum"
        return AlertEvent(
            alert_id=uuid.uuid4().hex,
            detector=kind,
            metric=metric.name,
            severity="critical" if metric.name.startswith(("action:block", "category:")) else
            "warning",
            message=f"{metric.name} rose: {recent:.2%} of the last {len(metric.recent)} "
            f"requests, baseline {metric.reference_rate:.2%} ({kind} fired at request {self.n})",
            value=round(float(detector.h), 6),
            threshold=round(float(detector.h), 6),
            at_request=self.n,
            details={"recent_rate": recent, "reference_rate": metric.reference_rate},
        )

    def _drift_test(self) -> list[AlertEvent]:
        if len(self._ref_embeddings) < 20 or len(self._embeddings) < 20:
            return []
        result = mmd_test(np.stack(self._ref_embeddings), np.stack(list(self._embeddings)),
                          permutations=self.config.drift_permutations, seed=self.n)
        self._drift.append({"at_request": float(self.n), "mmd2": result.mmd2,
                            "p_value": result.p_value})
        significant = result.p_value <= self.config.drift_alpha
        self._drift_strikes = self._drift_strikes + 1 if significant else 0
        if self._drift_strikes < 2:
            return []
        self._drift_strikes = 0
        return [AlertEvent(
            alert_id=uuid.uuid4().hex, detector="drift", metric="prompt_embedding",
            severity="warning",
            message=f"prompt embeddings drifted from the reference window (MMD^2 "
            f"{result.mmd2:.4f}, p={result.p_value:.4f}, twice in a row, at request {self.n})",
            value=result.mmd2, threshold=self.config.drift_alpha, at_request=self.n,
            details={"p_value": result.p_value, "n_reference": result.n_reference,
                     "n_current": result.n_current},
        )]

    def _send(self, alert: AlertEvent) -> None:
        self.alerts.append(alert)
        for sink in self.sinks:
            try:
                sink(alert)
            except Exception:  # noqa: BLE001 - one broken sink must not silence the others
                import logging

                logging.getLogger(__name__).exception("alert sink %r failed", sink)

    # --- reporting ------------------------------------------------------------------------

    def _add_to_bucket(self, hits: set[str], latency: float) -> None:
        self._bucket.update(h for h in hits if not h.startswith("key:"))
        self._bucket_latency.append(latency)
        if len(self._bucket_latency) >= self.config.bucket:
            size = len(self._bucket_latency)
            point: dict[str, Any] = {"at_request": self.n,
                                     "rates": {k: v / size for k, v in self._bucket.items()},
                                     "latency": _percentiles(self._bucket_latency)}
            self._series.append(point)
            self._bucket = Counter()
            self._bucket_latency = []

    def snapshot(self) -> WatchSnapshot:
        """The current state, for the live view and the report."""
        metrics = [
            MetricState(
                name=m.name, reference_rate=m.reference_rate,
                current_rate=float(np.mean(m.recent)) if m.recent else 0.0,
                statistic=round(float(m.detector.statistic), 4),
                threshold=round(float(m.detector.h), 4), alerts=m.alerts,
            )
            for m in sorted(self._metrics.values(), key=lambda m: m.name)
        ]
        refused, judged = self._refusals
        return WatchSnapshot(
            requests=self.n, in_reference=self.n <= self.config.reference,
            by_action=dict(self.by_action), by_category=dict(self.by_category),
            by_client=dict(self.by_client),
            refusal_rate=refused / judged if judged else None,
            latency_ms=_percentiles(list(self._latency)),
            metrics=metrics, alerts=list(self.alerts), series=list(self._series),
            drift=list(self._drift),
        )


__all__ = ["MetricState", "WatchConfig", "WatchSnapshot", "Watcher"]
