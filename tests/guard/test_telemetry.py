"""Guard spans (OpenTelemetry GenAI conventions) and /metrics, on real guards on 127.0.0.1.

Spans go to the SDK's in-memory exporter through a real TracerProvider; the guard is
served by uvicorn in this process, so the exporter sees what a collector would get.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("opentelemetry.sdk")
pytest.importorskip("prometheus_client")

from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (  # noqa: E402
    InMemorySpanExporter,
)
from opentelemetry.trace import SpanKind, StatusCode  # noqa: E402

from redline.guard.auth import add_key, load_keys  # noqa: E402
from redline.guard.checks import Checker  # noqa: E402
from redline.guard.layers import CheckInput, Hit, LayerResult, build_layer  # noqa: E402
from redline.guard.loadtest import free_port, wait_until_ok  # noqa: E402
from redline.guard.metrics import GuardMetrics  # noqa: E402
from redline.guard.policy import LayerSpec, load_policy  # noqa: E402
from redline.targets import MockTarget  # noqa: E402
from redline.telemetry import Telemetry  # noqa: E402

from .conftest import policy_with  # noqa: E402

PROMPT = "what is the capital of France, dear assistant"
ANSWER = "Paris is the capital of France"


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


def telemetry(exporter: InMemorySpanExporter, capture: bool = False) -> Telemetry:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return Telemetry(provider, service="redline.guard", capture_content=capture)


def chat(url: str, text: str, headers: dict[str, str] | None = None,
         **extra: object) -> httpx.Response:
    body = {"model": "client-model", "messages": [{"role": "user", "content": text}],
            "max_tokens": 32, "temperature": 0.5, **extra}
    return httpx.post(f"{url}/chat/completions", json=body, headers=headers, timeout=30)


def every_value(span: Any) -> str:
    """All of a span's attribute and event values as one string, to search for leaks."""
    values = [str(v) for v in span.attributes.values()]
    values += [str(v) for e in span.events for v in e.attributes.values()]
    return " ".join(values + [span.name])


class ScoredLayer:
    """An input layer that scores every prompt and fires ``weapons`` on 'crossbow'."""

    def __init__(self) -> None:
        self.spec = LayerSpec(name="judge", kind="judge", stages=("input",))

    async def __call__(self, item: CheckInput) -> LayerResult:
        fired = any("crossbow" in t for t in item.texts)
        hits = (Hit("weapons", "judge", 0.97),) if fired else ()
        return LayerResult(hits, scores={"harm": 0.97 if fired else 0.02})


def test_chat_span_has_genai_attributes_and_no_content_or_key(
    start_guard, exporter, tmp_path: Path
) -> None:
    keys_path = tmp_path / "keys.json"
    key = add_key(keys_path, "alice")
    with start_guard(upstream=MockTarget([ANSWER]), keys=load_keys(keys_path),
                     telemetry=telemetry(exporter)) as g:
        r = chat(g.url, PROMPT, headers={"Authorization": f"Bearer {key}"})
        assert r.status_code == 200
    [span] = exporter.get_finished_spans()
    a = span.attributes
    assert span.name == f"chat {g.guard.model_name}" and span.kind == SpanKind.SERVER
    assert a["gen_ai.operation.name"] == "chat"
    assert a["gen_ai.provider.name"] == "redline"
    assert a["gen_ai.request.model"] == "client-model"
    assert a["gen_ai.request.max_tokens"] == 32 and a["gen_ai.request.temperature"] == 0.5
    assert a["gen_ai.response.model"] == g.guard.model_name
    assert a["gen_ai.response.finish_reasons"] == ("stop",)
    usage = r.json()["usage"]
    assert a["gen_ai.usage.input_tokens"] == usage["prompt_tokens"] > 0
    assert a["gen_ai.usage.output_tokens"] == usage["completion_tokens"] > 0
    assert a["redline.guard.action"] == "allow" and a["redline.guard.client"] == "alice"
    assert a["redline.request_id"] == r.headers["x-request-id"]
    assert span.status.status_code != StatusCode.ERROR
    text = every_value(span)
    assert key not in text and key[-12:] not in text  # the client's key never reaches a span
    assert "capital" not in text and "Paris" not in text  # no content unless configured
    assert not any(k.startswith(("http.request.header", "gen_ai.input", "gen_ai.output"))
                   for k in a)


def test_content_goes_into_spans_only_when_capture_is_on(start_guard, exporter) -> None:
    with start_guard(upstream=MockTarget([ANSWER]),
                     telemetry=telemetry(exporter, capture=True)) as g:
        chat(g.url, PROMPT)
    [span] = exporter.get_finished_spans()
    assert json.loads(span.attributes["gen_ai.input.messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": PROMPT}]}]
    [out] = json.loads(span.attributes["gen_ai.output.messages"])
    assert out["parts"][0]["content"] == ANSWER and out["finish_reason"] == "stop"


def test_block_is_a_content_filter_span_with_evaluation_events(start_guard, exporter) -> None:
    policy = load_policy()
    checker = Checker(policy, [build_layer(policy.layers[0]), ScoredLayer()])
    upstream = MockTarget([ANSWER])
    with start_guard(upstream=upstream, policy=policy, checker=checker,
                     telemetry=telemetry(exporter)) as g:
        blocked = chat(g.url, "how do I build a crossbow at home")
        allowed = chat(g.url, PROMPT)
    assert blocked.json()["choices"][0]["finish_reason"] == "content_filter"
    first, second = exporter.get_finished_spans()
    assert first.attributes["redline.guard.action"] == "block"
    assert first.attributes["redline.guard.stage"] == "input"
    assert first.attributes["redline.guard.categories"] == ("weapons",)
    assert first.attributes["gen_ai.response.finish_reasons"] == ("content_filter",)
    [evaluation] = [e for e in first.events if e.name == "gen_ai.evaluation.result"]
    assert dict(evaluation.attributes) == {
        "gen_ai.evaluation.name": "judge/harm", "gen_ai.evaluation.score.value": 0.97,
        "gen_ai.evaluation.score.label": "fired",
        "gen_ai.response.id": blocked.headers["x-request-id"],
        "redline.guard.action": "block"}
    assert "crossbow" not in every_value(first)
    assert allowed.status_code == 200
    [passed] = [e for e in second.events if e.name == "gen_ai.evaluation.result"]
    assert passed.attributes["gen_ai.evaluation.score.label"] == "pass"


def test_streams_errors_and_bad_bodies_each_end_one_span(start_guard, exporter) -> None:
    def fail(messages: object) -> str:
        raise RuntimeError("upstream down")

    with start_guard(upstream=MockTarget([ANSWER]), telemetry=telemetry(exporter),
                     policy=policy_with(stream={"mode": "stream-first", "chunk_chars": 8})) as g:
        streamed = chat(g.url, PROMPT, stream=True)
        bad = httpx.post(f"{g.url}/chat/completions", content=b"{not json", timeout=30)
        still = chat(g.url, PROMPT)
    with start_guard(upstream=MockTarget(responder=fail), telemetry=telemetry(exporter)) as g:
        failed = chat(g.url, PROMPT)
    assert streamed.status_code == 200 and "[DONE]" in streamed.text
    assert bad.status_code == 400 and still.status_code == 200 and failed.status_code == 502
    stream_span, bad_span, ok_span, failed_span = exporter.get_finished_spans()
    assert stream_span.attributes["gen_ai.request.stream"] is True
    assert stream_span.attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert stream_span.attributes["gen_ai.usage.output_tokens"] == len(ANSWER.split())
    assert bad_span.status.status_code == StatusCode.ERROR
    assert bad_span.attributes["http.response.status_code"] == 400
    assert bad_span.attributes["error.type"] == "400"
    assert ok_span.status.status_code != StatusCode.ERROR
    assert failed_span.status.status_code == StatusCode.ERROR
    assert failed_span.attributes["http.response.status_code"] == 502


def test_checks_endpoint_has_its_span(start_guard, exporter) -> None:
    with start_guard(telemetry=telemetry(exporter)) as g:
        r = httpx.post(f"{g.url}/checks", json={"messages": [
            {"role": "user", "content": PROMPT}]}, timeout=30)
    assert r.status_code == 200
    [span] = exporter.get_finished_spans()
    assert span.attributes["gen_ai.operation.name"] == "checks"
    assert span.attributes["redline.guard.endpoint"] == "checks"


def test_metrics_count_requests_by_action_and_category(start_guard) -> None:
    policy = policy_with(layers=[
        {"name": "rules", "kind": "rules", "blocklist": {"blocklist": ["plutonium"]}}])
    with start_guard(upstream=MockTarget([ANSWER]), policy=policy,
                     metrics=GuardMetrics()) as g:
        for _ in range(3):
            chat(g.url, PROMPT)
        chat(g.url, "refine plutonium")
        httpx.post(f"{g.url}/chat/completions", content=b"[]", timeout=30)
        base = g.url.removesuffix("/v1")
        r = httpx.get(f"{base}/metrics", timeout=30)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    lines = set(r.text.splitlines())
    assert 'redline_guard_requests_total{action="allow",endpoint="chat"} 3.0' in lines
    assert 'redline_guard_requests_total{action="block",endpoint="chat"} 1.0' in lines
    assert 'redline_guard_requests_total{action="error",endpoint="chat"} 1.0' in lines
    assert 'redline_guard_categories_total{action="block",category="blocklist"} 1.0' in lines
    assert ('redline_guard_request_duration_seconds_count{action="allow",endpoint="chat"} 3.0'
            in lines)
    assert "redline_guard_upstream_duration_seconds_count 3.0" in lines


def test_no_metrics_route_unless_asked(start_guard) -> None:
    with start_guard() as g:
        r = httpx.get(f"{g.url.removesuffix('/v1')}/metrics", timeout=30)
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


class Collector(BaseHTTPRequestHandler):
    """An OTLP/HTTP receiver: keeps the bodies POSTed to /v1/traces."""

    bodies: list[bytes] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.path == "/v1/traces":
            type(self).bodies.append(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[tuple[str, list[bytes]]]:
    Collector.bodies = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", Collector.bodies
    finally:
        server.shutdown()


def exported_spans(bodies: list[bytes]) -> list[dict[str, Any]]:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    spans = []
    for body in bodies:
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        for resource in request.resource_spans:
            service = {a.key: a.value.string_value for a in resource.resource.attributes}
            for scope in resource.scope_spans:
                for span in scope.spans:
                    attributes = {a.key: a.value for a in span.attributes}
                    spans.append({"name": span.name, "service": service["service.name"],
                                  "attributes": attributes, "raw": body})
    return spans


@pytest.mark.slow
def test_guard_cli_exports_spans_by_otlp_without_the_key(collector, tmp_path: Path) -> None:
    """`redline guard` configured by the standard variables sends OTLP to a collector."""
    url, bodies = collector
    keys_path = tmp_path / "keys.json"
    key = add_key(keys_path, "alice")
    port = free_port()
    env = {**os.environ, "REDLINE_HOME": str(tmp_path), "OTEL_EXPORTER_OTLP_ENDPOINT": url,
           "OTEL_BSP_SCHEDULE_DELAY": "100"}
    env.pop("OTEL_SDK_DISABLED", None)
    guard = subprocess.Popen(
        [sys.executable, "-c", "from redline.cli import main; main()", "guard",
         "--upstream", "mock", "--keys", str(keys_path), "--no-store", "--port", str(port),
         "--metrics"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert wait_until_ok(f"http://127.0.0.1:{port}/health", 60,
                             alive=lambda: guard.poll() is None), guard.stdout.read()
        r = chat(f"http://127.0.0.1:{port}/v1", PROMPT,
                 headers={"Authorization": f"Bearer {key}"})
        assert r.status_code == 200
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=30)
        assert 'redline_guard_requests_total{action="allow",endpoint="chat"} 1.0' in metrics.text
    finally:
        guard.send_signal(signal.SIGTERM)  # shutdown flushes the last batch
        guard.wait(timeout=30)
    deadline = time.monotonic() + 10
    while not bodies and time.monotonic() < deadline:
        time.sleep(0.1)
    [span] = [s for s in exported_spans(bodies) if s["name"].startswith("chat ")]
    assert span["service"] == "redline-guard"
    a = span["attributes"]
    assert a["gen_ai.operation.name"].string_value == "chat"
    assert a["gen_ai.request.model"].string_value == "client-model"
    assert a["gen_ai.usage.output_tokens"].int_value > 0
    assert a["redline.guard.client"].string_value == "alice"
    raw = b"".join(bodies)
    assert key.encode() not in raw and PROMPT.encode() not in raw


def test_middleware_sees_the_chat_route(tmp_path: Path, signer, exporter) -> None:
    """CORS (and any instrumentation middleware) added to the guard's app sees chat calls."""
    from starlette.middleware.cors import CORSMiddleware

    from redline.guard.eventlog import EventLog
    from redline.guard.proxy import Guard, create_guard_app
    from redline.guard.sink import EventSink
    from redline.serve.server import background_server

    sink = EventSink(EventLog(tmp_path / "events.log", signer), None)
    app = create_guard_app(Guard(MockTarget([ANSWER]), load_policy(), sink,
                                 telemetry=telemetry(exporter)))
    app.add_middleware(CORSMiddleware, allow_origins=["https://app.example"],
                       allow_methods=["POST"], allow_headers=["*"])
    origin = {"Origin": "https://app.example"}
    with background_server(app) as url:
        preflight = httpx.options(f"{url}/chat/completions", timeout=30, headers={
            **origin, "Access-Control-Request-Method": "POST"})
        r = chat(url, PROMPT, headers=origin)
    assert preflight.status_code == 200
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "https://app.example"
    assert [s.name for s in exporter.get_finished_spans()] == [f"chat {MockTarget().spec}"]
