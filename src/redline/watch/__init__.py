"""Watch: monitoring of guarded traffic (rates, latency, drift, change detection, alerts).

>>> from redline.watch import Watcher
>>> watcher = Watcher()
>>> alerts = watcher.observe_all(events)  # doctest: +SKIP
"""

from redline.watch.alerts import AlertSink, EventSinkAlerts, OpenTelemetryEvents, WebhookSink
from redline.watch.detect import BernoulliCusum, EwmaChart
from redline.watch.drift import DriftResult, mmd_test
from redline.watch.monitor import WatchConfig, Watcher, WatchSnapshot
from redline.watch.report import render_report, write_report
from redline.watch.source import log_events, store_events

__all__ = [
    "AlertSink",
    "BernoulliCusum",
    "DriftResult",
    "EventSinkAlerts",
    "EwmaChart",
    "OpenTelemetryEvents",
    "WatchConfig",
    "WatchSnapshot",
    "Watcher",
    "WebhookSink",
    "log_events",
    "mmd_test",
    "render_report",
    "store_events",
    "write_report",
]
