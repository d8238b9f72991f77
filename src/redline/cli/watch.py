"""``redline watch``: monitor guarded traffic from the store or an event log."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from redline.cli.common import console, err_console
from redline.errors import ConfigError


def watch(
    db: Annotated[str | None, typer.Option(
        "--db", help="Read events from this store URL (default REDLINE_DB or the SQLite "
        "file), unless --log is given.")] = None,
    log: Annotated[list[Path] | None, typer.Option(
        "--log", help="Read events from a guard event log file instead of the store; "
        "repeat it to read several guard replicas' logs together.")] = None,
    follow: Annotated[bool, typer.Option(
        "--follow", "-f", help="Keep watching for new events until Ctrl-C.")] = False,
    live: Annotated[bool, typer.Option(
        "--live", help="Show a live terminal view (implies --follow on a terminal).")] = False,
    report: Annotated[Path | None, typer.Option(
        "--report", help="Write an HTML report with plots here when done.")] = None,
    webhook: Annotated[str | None, typer.Option(
        "--webhook", help="POST each alert as JSON to this URL.")] = None,
    alert_log: Annotated[Path | None, typer.Option(
        "--alert-log", help="Hash-chained log of alerts (default "
        "$REDLINE_HOME/watch/alerts.log).")] = None,
    reference: Annotated[int, typer.Option(
        help="Requests that form the baseline; no alerts during it.", min=10)] = 2000,
    detector: Annotated[str, typer.Option(help="Change detector: cusum or ewma.")] = "cusum",
    arl0: Annotated[float, typer.Option(
        help="CUSUM: about this many clean requests between false alarms per metric.",
        min=10.0)] = 1e6,
    drift_every: Annotated[int, typer.Option(
        help="Requests between embedding-drift tests (0: off).", min=0)] = 500,
    otel: Annotated[bool, typer.Option(
        "--otel", help="Emit OpenTelemetry gen_ai.evaluation.result events.")] = False,
    poll: Annotated[float, typer.Option(help="Seconds between polls when following.",
                                        min=0.05)] = 1.0,
) -> None:
    """Watch guarded traffic: rates per category, action and key, refusals, latency, drift.

    Raises alerts when a rate rises above its baseline (CUSUM or EWMA) or prompts drift
    (MMD on embeddings), sending them to --webhook, to a hash-chained alert log and to
    the store. Without --follow it reads what is there, reports and exits.
    """
    import threading

    from redline import paths
    from redline.guard.eventlog import EventLog
    from redline.guard.signing import load_or_create_signer
    from redline.guard.sink import EventSink
    from redline.watch import (
        AlertSink,
        EventSinkAlerts,
        OpenTelemetryEvents,
        WatchConfig,
        Watcher,
        WebhookSink,
        log_events,
        store_events,
        write_report,
    )
    from redline.watch.live import render_live

    if detector not in ("cusum", "ewma"):
        raise ConfigError(f"--detector must be cusum or ewma, got '{detector}'.")
    config = WatchConfig(reference=reference, detector=detector,  # type: ignore[arg-type]
                         arl0=arl0, drift_every=drift_every)
    store = None
    if not log:
        log = None
        from redline.store import Store

        store = Store(db)
    alert_path = alert_log or paths.home() / "watch" / "alerts.log"
    alert_sink = EventSink(EventLog(alert_path, load_or_create_signer()), store)
    sinks: list[AlertSink] = [EventSinkAlerts(alert_sink)]
    hook = WebhookSink(webhook) if webhook else None
    if hook is not None:
        sinks.append(hook)
    telemetry = OpenTelemetryEvents() if otel else None
    watcher = Watcher(config, sinks)
    following = follow or (live and console.is_terminal)
    stopping = threading.Event()
    source_name = ", ".join(map(str, log)) if log else "the store"
    events = (log_events(log, follow=following, poll=poll, stop=stopping.is_set)
              if log is not None else
              store_events(store, follow=following, poll=poll,  # type: ignore[arg-type]
                           stop=stopping.is_set))

    def consume() -> None:
        for event in events:
            for alert in watcher.observe(event):
                err_console.print(f"[bold red]ALERT[/] {alert.message}", highlight=False)
            if telemetry is not None:
                telemetry.request(event)

    try:
        if live:
            from rich.live import Live

            with Live(render_live(watcher.snapshot(), source_name), console=console,
                      refresh_per_second=2) as view:
                worker = threading.Thread(target=consume, daemon=True)
                worker.start()
                while worker.is_alive():
                    worker.join(timeout=0.5)
                    view.update(render_live(watcher.snapshot(), source_name))
        else:
            from rich.progress import Progress, SpinnerColumn, TextColumn

            with Progress(SpinnerColumn(), TextColumn("{task.description}"),
                          console=err_console, transient=True) as progress:
                task = progress.add_task("reading events", total=None)
                for event in events:
                    for alert in watcher.observe(event):
                        err_console.print(f"[bold red]ALERT[/] {alert.message}",
                                          highlight=False)
                    if telemetry is not None:
                        telemetry.request(event)
                    if watcher.n % 500 == 0:
                        progress.update(task, description=f"{watcher.n} events")
    except KeyboardInterrupt:
        stopping.set()
    finally:
        alert_sink.close()
        if hook is not None:
            hook.close()
    snapshot = watcher.snapshot()
    console.print(
        f"{snapshot.requests} requests; actions {dict(sorted(snapshot.by_action.items()))}; "
        f"latency ms {snapshot.latency_ms or '-'}; {len(snapshot.alerts)} alert(s) "
        f"(logged to {alert_path}).", highlight=False)
    if report is not None:
        written = write_report(snapshot, report)
        console.print(f"Report: {written}", highlight=False)
