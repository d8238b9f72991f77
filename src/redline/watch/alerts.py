"""Where watch's alerts go: a webhook, a hash-chained alert log, the store, OpenTelemetry.

An alert sink is any callable taking an :class:`~redline.guard.events.AlertEvent`. A sink
that fails is reported through the logger and never stops the watch.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from redline.guard.events import AlertEvent, RequestEvent

if TYPE_CHECKING:
    from redline.guard.sink import EventSink

log = logging.getLogger(__name__)

AlertSink = Callable[[AlertEvent], None]


class WebhookSink:
    """POSTs each alert as JSON to a URL (Slack-style ``text`` plus the full alert).

    Args:
        url: the webhook URL.
        timeout: seconds per try.
        retries: extra tries on connection errors and 5xx answers, with backoff.
        headers: extra headers (an auth token, for instance); never logged.
    """

    def __init__(
        self, url: str, *, timeout: float = 5.0, retries: int = 2,
        headers: dict[str, str] | None = None,
    ) -> None:
        import httpx

        self.url = url
        self.retries = retries
        self.delivered = 0
        self.failed = 0
        self._client = httpx.Client(timeout=timeout, headers=headers or {})

    def __call__(self, alert: AlertEvent) -> None:
        """Deliver one alert."""
        import httpx

        body = {"text": f"[redline watch] {alert.severity}: {alert.message}",
                "alert": alert.model_dump(mode="json")}
        for attempt in range(self.retries + 1):
            try:
                response = self._client.post(self.url, json=body)
                if response.status_code < 500:
                    if response.status_code >= 400:
                        log.warning("webhook refused the alert: HTTP %d", response.status_code)
                        self.failed += 1
                    else:
                        self.delivered += 1
                    return
            except httpx.HTTPError as exc:
                log.debug("webhook try %d failed: %s", attempt + 1, type(exc).__name__)
            time.sleep(min(2.0, 0.2 * 2**attempt))
        self.failed += 1
        log.warning("could not deliver an alert to the webhook after %d tries", self.retries + 1)

    def close(self) -> None:
        """Release the connection pool."""
        self._client.close()


class EventSinkAlerts:
    """Sends alerts to an :class:`~redline.guard.sink.EventSink` (hash-chained log, store)."""

    def __init__(self, sink: EventSink) -> None:
        self.sink = sink

    def __call__(self, alert: AlertEvent) -> None:
        """Record one alert."""
        self.sink.emit(alert)


class OpenTelemetryEvents:
    """Emits OpenTelemetry GenAI ``gen_ai.evaluation.result`` events (optional).

    One event per scored layer of each request, with ``gen_ai.evaluation.name``,
    ``gen_ai.evaluation.score.value`` and ``gen_ai.evaluation.score.label``, through the
    globally configured OpenTelemetry logger provider (configure an SDK and exporter in
    your process; with none configured the events go nowhere).

    Raises:
        MissingExtraError: ``opentelemetry-api`` is not installed.
    """

    def __init__(self) -> None:
        from redline.errors import require

        require("opentelemetry", extra="otel", feature="OpenTelemetry events")
        from opentelemetry import _logs

        self._logger: Any = _logs.get_logger("redline.watch")
        self._record = _logs.LogRecord
        self.emitted = 0

    def request(self, event: RequestEvent) -> None:
        """Emit the evaluation results of one request."""
        from redline.telemetry import evaluation_attributes

        for result in evaluation_attributes(event):  # the guard's spans carry the same
            attributes: dict[str, Any] = {"event.name": "gen_ai.evaluation.result", **result}
            self._logger.emit(self._record(attributes=attributes,
                                           event_name="gen_ai.evaluation.result"))
            self.emitted += 1


__all__ = ["AlertSink", "EventSinkAlerts", "OpenTelemetryEvents", "WebhookSink"]
