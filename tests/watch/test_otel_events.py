"""`redline watch --otel` emits the same gen_ai.evaluation.result attributes as guard spans."""

import pytest

pytest.importorskip("opentelemetry.sdk")

from opentelemetry import _logs  # noqa: E402
from opentelemetry.sdk._logs import LoggerProvider  # noqa: E402
from opentelemetry.sdk._logs.export import (  # noqa: E402
    InMemoryLogRecordExporter,
    SimpleLogRecordProcessor,
)

from redline.guard.events import LayerOutcome, RequestEvent  # noqa: E402
from redline.telemetry import evaluation_attributes  # noqa: E402
from redline.watch.alerts import OpenTelemetryEvents  # noqa: E402


def test_watch_events_match_the_guards_span_events() -> None:
    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    _logs.set_logger_provider(provider)
    if _logs.get_logger_provider() is not provider:
        pytest.skip("another test set the global logger provider first")
    event = RequestEvent(request_id="r1", action="block", categories=["weapons"], layers=[
        LayerOutcome(layer="judge", stage="input", status="ok", ms=1.0,
                     categories=["weapons"], scores={"harm": 0.9, "intent": 0.4}),
        LayerOutcome(layer="rules", stage="input", status="ok", ms=0.1)])
    events = OpenTelemetryEvents()
    events.request(event)
    records = [d.log_record for d in exporter.get_finished_logs()]
    assert events.emitted == 2 and len(records) == 2
    expected = list(evaluation_attributes(event))
    assert [{k: v for k, v in r.attributes.items() if k != "event.name"}
            for r in records] == expected
    assert expected[0]["gen_ai.evaluation.name"] == "judge/harm"
    assert expected[0]["gen_ai.evaluation.score.label"] == "fired"
    assert all(r.event_name == "gen_ai.evaluation.result" for r in records)
