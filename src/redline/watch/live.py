"""The live terminal view of watch (rich): totals, latency, detectors and the latest alerts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from redline.watch.monitor import WatchSnapshot

if TYPE_CHECKING:
    from rich.console import RenderableType


def render_live(snapshot: WatchSnapshot, source: str) -> RenderableType:
    """One frame of the live view."""
    from rich.console import Group
    from rich.table import Table

    phase = "reference window" if snapshot.in_reference else "watching"
    latency = " / ".join(str(snapshot.latency_ms.get(q, "-")) for q in ("p50", "p95", "p99"))
    refusal = "n/a" if snapshot.refusal_rate is None else f"{snapshot.refusal_rate:.2%}"
    head = Table.grid(padding=(0, 2))
    head.add_row(f"[bold]redline watch[/] {source}", f"{snapshot.requests} requests ({phase})",
                 f"latency ms p50/p95/p99 {latency}", f"upstream refusals {refusal}")
    actions = "  ".join(f"{k}={v}" for k, v in sorted(snapshot.by_action.items()))
    head.add_row("actions", actions, "", "")
    detectors = Table(title="detectors", expand=True)
    for column in ("metric", "reference", "recent", "statistic / threshold", "alerts"):
        detectors.add_column(column)
    for m in snapshot.metrics:
        style = "red" if m.alerts else ""
        detectors.add_row(m.name, f"{m.reference_rate:.3%}", f"{m.current_rate:.3%}",
                          f"{m.statistic:.2f} / {m.threshold:.2f}", str(m.alerts), style=style)
    alerts = Table(title="latest alerts", expand=True)
    for column in ("at", "detector", "message"):
        alerts.add_column(column)
    for a in snapshot.alerts[-8:]:
        alerts.add_row(str(a.at_request), a.detector, a.message, style="bold red")
    return Group(head, detectors, alerts)


__all__ = ["render_live"]
