"""The watcher on synthetic guard traffic with a known onset."""

import json
import random
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from redline.guard.eventlog import EventLog, verify_log
from redline.guard.events import RequestEvent, pack_embedding
from redline.guard.signing import load_or_create_signer
from redline.guard.sink import EventSink
from redline.watch import EventSinkAlerts, WatchConfig, Watcher, WebhookSink, render_report


def traffic(rng: random.Random, n: int, trigger_rate: float = 0.0, *, centre=None):
    """Guard events: clean ones block 0.1% (false positives); triggered ones 90%."""
    for _ in range(n):
        triggered = rng.random() < trigger_rate
        blocked = rng.random() < (0.9 if triggered else 0.001)
        embedding = None
        if centre is not None:
            vec = centre + np.array([rng.gauss(0, 0.3) for _ in range(16)])
            if triggered:
                vec = vec + 1.5
            embedding = pack_embedding(vec)
        yield RequestEvent(
            request_id=f"r{rng.random()}", client=rng.choice(["ann", "bob"]),
            categories=["weapons"] if blocked else [], action="block" if blocked else "allow",
            latency_ms=rng.uniform(1, 3), upstream_refused=rng.random() < 0.1,
            embedding=embedding)


def test_alert_within_300_of_onset_and_none_on_10000_clean() -> None:
    for seed in range(3):
        rng = random.Random(seed)
        watcher = Watcher(WatchConfig(reference=1000, drift_every=0))
        clean_alerts = watcher.observe_all(traffic(rng, 11_000))
        assert clean_alerts == []
        onset = watcher.n
        for event in traffic(rng, 300, trigger_rate=0.05):
            if watcher.observe(event):
                break
        assert watcher.alerts, f"seed {seed}: no alert within 300 requests of the onset"
        first = watcher.alerts[0]
        assert first.at_request - onset <= 300
        assert first.metric in ("action:block", "category:weapons")


def test_per_key_block_rate_is_watched() -> None:
    rng = random.Random(1)
    watcher = Watcher(WatchConfig(reference=500, drift_every=0))
    watcher.observe_all(traffic(rng, 1500))
    for i in range(200):
        watcher.observe(RequestEvent(request_id=f"m{i}", client="mallory",
                                     action="block" if i % 3 == 0 else "allow",
                                     categories=["cyber"] if i % 3 == 0 else []))
    assert any(a.metric == "key:mallory:blocked" for a in watcher.alerts)
    snap = watcher.snapshot()
    assert snap.by_client["mallory"] == 200
    assert snap.refusal_rate is not None and 0.05 < snap.refusal_rate < 0.15


def test_drift_alert_on_shifted_embeddings() -> None:
    rng = random.Random(2)
    centre = np.array([rng.gauss(0, 1) for _ in range(16)])
    config = WatchConfig(reference=300, drift_every=100, drift_window=100,
                         drift_permutations=200, drift_alpha=0.01)
    watcher = Watcher(config)
    watcher.observe_all(traffic(rng, 700, centre=centre))
    assert not [a for a in watcher.alerts if a.detector == "drift"]
    watcher.observe_all(traffic(rng, 400, trigger_rate=0.3, centre=centre))
    assert [a for a in watcher.alerts if a.detector == "drift"]


class Hook(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Hook.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_alerts_reach_a_webhook_and_a_verifiable_log(tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    hook = WebhookSink(f"http://127.0.0.1:{server.server_address[1]}/alerts")
    alert_log = tmp_path / "alerts.log"
    sink = EventSink(EventLog(alert_log, load_or_create_signer(tmp_path / "k.key")), None)
    watcher = Watcher(WatchConfig(reference=200, drift_every=0),
                      [EventSinkAlerts(sink), hook])
    rng = random.Random(3)
    watcher.observe_all(traffic(rng, 400))
    watcher.observe_all(traffic(rng, 300, trigger_rate=0.3))
    sink.close()
    hook.close()
    server.shutdown()
    assert watcher.alerts and hook.delivered == len(watcher.alerts)
    assert Hook.received[0]["alert"]["alert_id"] == watcher.alerts[0].alert_id
    assert "redline watch" in Hook.received[0]["text"]
    report = verify_log(alert_log)
    assert report.ok and report.events == len(watcher.alerts)
    html = render_report(watcher.snapshot())
    assert html.count("<svg") >= 2 and watcher.alerts[0].message.split(":")[0] in html


def test_watch_cli_reads_a_log_and_writes_a_report(tmp_path: Path) -> None:
    from redline.cli import app

    log_path = tmp_path / "events.log"
    sink = EventSink(EventLog(log_path, load_or_create_signer(tmp_path / "k.key")), None)
    rng = random.Random(4)
    for event in traffic(rng, 400):
        sink.emit(event)
    for event in traffic(rng, 300, trigger_rate=0.3):
        sink.emit(event)
    sink.close()
    report = tmp_path / "report.html"
    result = CliRunner().invoke(app, [
        "watch", "--log", str(log_path), "--reference", "200", "--report", str(report),
        "--alert-log", str(tmp_path / "alerts.log")])
    assert result.exit_code == 0, result.output
    assert "700 requests" in result.output and "ALERT" in result.output
    assert "<svg" in report.read_text()
    assert verify_log(tmp_path / "alerts.log").events >= 1
