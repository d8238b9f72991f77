"""Plots as hand-written inline SVG.

Why not matplotlib: a report must be one self-contained file, deterministic (the same
data gives the same bytes, which matters for artefacts that get hashed and signed), and
makeable without a 40 MB plotting stack on a release machine. The two plots redline
needs — a metric across checkpoints with its trend band, and intervals against policy
values — are a few dozen SVG elements each.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

from redline.evals.series import MetricTrend
from redline.gate.decide import EvalAssessment

INK = "#1f2933"
MUTED = "#7b8794"
GRID = "#e4e7eb"
OBSERVED = "#2563eb"
BAND = "#cbd5e1"
JUMP = "#dc2626"
ALERT = "#d97706"
SAFE = "#16a34a"


def _num(x: float) -> str:
    return f"{x:.1f}"


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    if high <= low:
        return [low]
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step) * step
    out = []
    value = first
    while value <= high + 1e-9:
        out.append(round(value, 10))
        value += step
    return out


def _covering_ticks(high: float, count: int = 4) -> list[float]:
    """Ticks from 0 whose last one is at or above ``high``, so the top line is labelled."""
    ticks = _ticks(0.0, high, count)
    if len(ticks) > 1 and ticks[-1] < high - 1e-12:
        ticks.append(round(ticks[-1] + ticks[1] - ticks[0], 10))
    return ticks


def _label(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1e4 or abs(value) < 1e-2:
        return f"{value:.2g}"
    return f"{value:g}"


def trend_plot(trend: MetricTrend, *, width: int = 680, height: int = 300) -> str:
    """A metric across checkpoints, as an SVG document string.

    Values with 95% intervals, the one-step-ahead prediction band, jumps in red, the
    alert value as a dashed line.
    """
    left, right, top, bottom = 56, 16, 48, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    points = trend.points
    title = f"{trend.suite}/{trend.metric}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" class="plot" '
        f'data-metric="{escape(title)}">',
        f"<title>{escape(title)} across checkpoints</title>",
        f'<text x="{left}" y="20" font-size="14" font-weight="600" fill="{INK}">'
        f"{escape(title)}</text>",
    ]
    if not points:
        parts.append(f'<text x="{left}" y="{top + 20}" fill="{MUTED}">no values</text></svg>')
        return "".join(parts)

    xs = [p.x for p in points]
    values = [v for p in points for v in (p.low, p.high)]
    values += [v for p in points for v in (p.predicted_low, p.predicted_high) if v is not None]
    if trend.alert is not None:
        values.append(trend.alert.value)
    y_low, y_high = min(values), max(values)
    if 0 <= min(p.low for p in points) and max(p.high for p in points) <= 1:
        y_low, y_high = 0.0, 1.0
    if y_high - y_low < 1e-9:
        y_low, y_high = y_low - 0.5, y_high + 0.5
    x_low, x_high = min(xs), max(xs)
    if x_high - x_low < 1e-12:
        x_low, x_high = x_low - 1, x_high + 1
    pad = (x_high - x_low) * 0.04

    def px(x: float) -> float:
        return left + (x - x_low + pad) / (x_high - x_low + 2 * pad) * plot_w

    def py(y: float) -> float:
        y = min(max(y, y_low), y_high)
        return top + (1 - (y - y_low) / (y_high - y_low)) * plot_h

    for tick in _ticks(y_low, y_high):
        y = py(tick)
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{_num(y)}" y2="{_num(y)}" '
                     f'stroke="{GRID}"/>')
        parts.append(f'<text x="{left - 6}" y="{_num(y + 4)}" font-size="11" text-anchor="end" '
                     f'fill="{MUTED}">{_label(tick)}</text>')
    last_label = -math.inf
    for p in points:  # label steps that do not collide with the previous label
        if px(p.x) - last_label >= 38:
            last_label = px(p.x)
            parts.append(f'<text x="{_num(px(p.x))}" y="{top + plot_h + 16}" font-size="11" '
                         f'text-anchor="middle" fill="{MUTED}">{p.step}</text>')
    axis = "compute" if trend.axis == "compute" else "training step"
    parts.append(f'<text x="14" y="{top + plot_h / 2:.1f}" font-size="11" text-anchor="middle" '
                 f'fill="{MUTED}" transform="rotate(-90 14 {top + plot_h / 2:.1f})">'
                 f"{escape(trend.metric)}</text>")
    parts.append(f'<text x="{left + plot_w / 2}" y="{height - 8}" font-size="11" '
                 f'text-anchor="middle" fill="{MUTED}">{axis} ({trend.scale} axis)</text>')
    parts.append(f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}" stroke="{MUTED}"/>')
    parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" '
                 f'y2="{top + plot_h}" stroke="{MUTED}"/>')

    forecast = [p for p in points if p.predicted_low is not None and p.predicted_high is not None]
    for p in forecast:
        assert p.predicted_low is not None and p.predicted_high is not None
        x, half = px(p.x), 7
        band_h = max(1.0, py(p.predicted_low) - py(p.predicted_high))
        parts.append(
            f'<rect class="band" x="{_num(x - half)}" y="{_num(py(p.predicted_high))}" '
            f'width="{2 * half}" height="{_num(band_h)}" '
            f'fill="{BAND}" opacity="0.8"><title>predicted {p.predicted:.3f} '
            f"[{p.predicted_low:.3f}, {p.predicted_high:.3f}]</title></rect>"
        )

    if trend.alert is not None:
        y = py(trend.alert.value)
        parts.append(f'<line class="alert" x1="{left}" x2="{left + plot_w}" y1="{_num(y)}" '
                     f'y2="{_num(y)}" stroke="{ALERT}" stroke-dasharray="6 4"/>')
        parts.append(f'<text x="{left + plot_w - 4}" y="{_num(y - 5)}" font-size="11" '
                     f'text-anchor="end" fill="{ALERT}">alert {trend.alert.value:g}</text>')

    line = " ".join(f"{_num(px(p.x))},{_num(py(p.value))}" for p in points)
    parts.append(f'<polyline points="{line}" fill="none" stroke="{OBSERVED}" stroke-width="1.5"/>')
    for p in points:
        x = px(p.x)
        colour = JUMP if p.jump else OBSERVED
        parts.append(f'<line x1="{_num(x)}" x2="{_num(x)}" y1="{_num(py(p.low))}" '
                     f'y2="{_num(py(p.high))}" stroke="{colour}" stroke-width="1.5"/>')
        stroke = f' stroke="{ALERT}" stroke-width="2"' if p.alert else ""
        radius = 6 if p.jump else 3.5
        css = "point jump" if p.jump else "point"
        parts.append(
            f'<circle class="{css}" cx="{_num(x)}" cy="{_num(py(p.value))}" r="{radius}" '
            f'fill="{colour}"{stroke}><title>step {p.step}: {p.value:.3f} '
            f"[{p.low:.3f}, {p.high:.3f}] n={p.n}</title></circle>"
        )
        if p.jump:
            arrow = "\u2191" if p.jump == "up" else "\u2193"
            parts.append(f'<text x="{_num(x + 9)}" y="{_num(py(p.value) + 4)}" font-size="12" '
                         f'font-weight="600" fill="{JUMP}">jump {arrow}</text>')

    legend_x = left
    parts.append(
        f'<g font-size="11" fill="{MUTED}">'
        f'<circle cx="{legend_x + 4}" cy="32" r="3.5" fill="{OBSERVED}"/>'
        f'<text x="{legend_x + 12}" y="36">value, 95% CI</text>'
        f'<rect x="{legend_x + 104}" y="26" width="12" height="12" fill="{BAND}"/>'
        f'<text x="{legend_x + 120}" y="36">trend prediction, 95% PI</text>'
        f'<circle cx="{legend_x + 278}" cy="32" r="5" fill="{JUMP}"/>'
        f'<text x="{legend_x + 287}" y="36">capability jump</text></g>'
    )
    parts.append("</svg>")
    return "".join(parts)


CHAR_W = 6.6
"""Average width of a character of 12 px sans-serif text, for laying out labels."""


def _fit(text: str, room: float, size: int = 12) -> str:
    """``text`` cut with an ellipsis to fit ``room`` pixels at ``size``."""
    most = max(4, int(room / (CHAR_W * size / 12)))
    return text if len(text) <= most else text[: most - 1] + "\u2026"


def is_difference(e: EvalAssessment) -> bool:
    """Whether a metric is one rate minus another (its values and interval can be negative)."""
    return (e.metric.endswith(("_increase", "_difference", "_effect"))
            or min(e.rule_out, e.rule_in) < 0 or (e.low is not None and e.low < 0))


def interval_chart(
    evals: Sequence[EvalAssessment],
    *,
    labels: Sequence[str] | None = None,
    title: str = "Eval intervals against policy values",
    axis_label: str = "rate",
    width: int = 960,
) -> str:
    """Each required eval's 95% interval against its rule-out and rule-in values.

    Rates are drawn on a 0-1 axis; differences of two rates (pass only those, see
    :func:`is_difference`) on an axis that spans their own values and zero.
    """
    names = list(labels) if labels is not None else [f"{e.suite}/{e.metric}" for e in evals]
    row, right, top, bottom = 30, 24, 30, 40
    longest = max((len(n) for n in names), default=10)
    left = int(min(max(CHAR_W * longest + 18, 100), width * 0.5))
    height = top + row * max(1, len(evals)) + bottom
    plot_w = width - left - right
    difference = any(is_difference(e) for e in evals)
    values = [-0.05, 0.05] if difference else [0.0, 1.0]
    for e in evals:
        values += [e.rule_out, e.rule_in]
        values += [v for v in (e.low, e.high) if v is not None]
    low, high = min(values), max(values)
    if difference:
        low, high = max(-1.0, low - 0.05), min(1.0, high + 0.05)
    ticks = _ticks(low, high)
    if difference and len(ticks) > 1:  # end the axis on ticks, so both ends are labelled
        step = ticks[1] - ticks[0]
        if ticks[0] > low + 1e-9:
            ticks.insert(0, round(ticks[0] - step, 10))
        if ticks[-1] < high - 1e-9:
            ticks.append(round(ticks[-1] + step, 10))
    low, high = min(low, ticks[0]), max(high, ticks[-1])

    def px(x: float) -> float:
        return left + (x - low) / (high - low) * plot_w

    css = "plot intervals differences" if difference else "plot intervals"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" class="{css}">',
        f"<title>{escape(title)}</title>",
        f'<text x="{left}" y="16" font-size="13" font-weight="600" fill="{INK}">'
        f"{escape(title)}</text>",
    ]
    for tick in ticks:
        x = px(tick)
        stroke = MUTED if difference and abs(tick) < 1e-12 else GRID
        parts.append(f'<line x1="{_num(x)}" x2="{_num(x)}" y1="{top - 4}" '
                     f'y2="{height - bottom + 4}" stroke="{stroke}"/>')
        parts.append(f'<text x="{_num(x)}" y="{height - bottom + 18}" font-size="11" '
                     f'text-anchor="middle" fill="{MUTED}">{_label(tick)}</text>')
    parts.append(f'<text x="8" y="{height - 6}" font-size="11" fill="{MUTED}">'
                 f"{escape(axis_label)} (dot: value, bar: 95% interval, green tick: rule-out, "
                 "red tick: rule-in)</text>")
    for i, (name, e) in enumerate(zip(names, evals, strict=True)):
        y = top + i * row + row / 2
        crossed = e.status in ("ruled_in", "not_ruled_out")
        colour = JUMP if crossed else SAFE if e.status == "ruled_out" else MUTED
        parts.append(f'<text x="{left - 8}" y="{_num(y + 4)}" font-size="12" text-anchor="end" '
                     f'fill="{INK}"><title>{escape(name)}</title>'
                     f"{escape(_fit(name, left - 14))}</text>")
        for value, tick_colour in ((e.rule_out, SAFE), (e.rule_in, JUMP)):
            parts.append(f'<line x1="{_num(px(value))}" x2="{_num(px(value))}" '
                         f'y1="{_num(y - 10)}" y2="{_num(y + 10)}" stroke="{tick_colour}" '
                         f'stroke-width="2"/>')
        if e.low is not None and e.high is not None and e.value is not None:
            parts.append(f'<line x1="{_num(px(e.low))}" x2="{_num(px(e.high))}" y1="{_num(y)}" '
                         f'y2="{_num(y)}" stroke="{colour}" stroke-width="4" '
                         f'stroke-linecap="round"/>')
            parts.append(f'<circle cx="{_num(px(e.value))}" cy="{_num(y)}" r="4.5" fill="#fff" '
                         f'stroke="{colour}" stroke-width="2"><title>{escape(e.detail)}</title>'
                         "</circle>")
        else:
            parts.append(f'<text x="{left + 6}" y="{_num(y + 4)}" font-size="12" '
                         f'fill="{MUTED}">{escape(e.status)}</text>')
    parts.append("</svg>")
    return "".join(parts)


LINE_COLOURS = ("#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
                "#7f7f7f", "#bcbd22", "#17becf")


def line_chart(
    title: str,
    xs: Sequence[float],
    lines: Mapping[str, Sequence[float]],
    *,
    marks: Sequence[float] = (),
    x_label: str = "requests",
    y_label: str = "",
    width: int = 760,
    height: int = 240,
) -> str:
    """Lines against a shared x axis; ``marks`` are x positions drawn dashed (alerts)."""
    names = list(lines)
    legend_w = int(min(max((len(n) for n in names), default=4) * CHAR_W * 11 / 12 + 24, 200))
    left, right, top, bottom = 60, legend_w + 12, 30, 42
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for ys in lines.values() for v in ys]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" class="plot lines">',
             f"<title>{escape(title)}</title>",
             f'<text x="{left}" y="16" font-size="13" font-weight="600" fill="{INK}">'
             f"{escape(title)}</text>"]
    if not xs or not values:
        parts.append(f'<text x="{left}" y="{top + 20}" fill="{MUTED}">no data yet</text></svg>')
        return "".join(parts)
    x0, x1 = min(xs), max(xs)
    span_x = (x1 - x0) or 1.0
    y_ticks = _covering_ticks(max(values) or 1.0)
    y1 = max(y_ticks[-1], max(values)) or 1.0

    def px(x: float) -> float:
        return left + (x - x0) / span_x * plot_w

    def py(y: float) -> float:
        return top + plot_h - y / y1 * plot_h

    for tick in y_ticks:
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{py(tick):.1f}" '
                     f'y2="{py(tick):.1f}" stroke="{GRID}"/>')
        parts.append(f'<text x="{left - 6}" y="{py(tick) + 4:.1f}" font-size="11" '
                     f'text-anchor="end" fill="{MUTED}">{_label(tick)}</text>')
    for tick in _ticks(x0, x1, 5) if x1 > x0 else [x0]:
        parts.append(f'<text x="{px(tick):.1f}" y="{top + plot_h + 16}" font-size="11" '
                     f'text-anchor="middle" fill="{MUTED}">{_label(tick)}</text>')
    parts.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" '
                 f'y2="{top + plot_h}" stroke="{MUTED}"/>')
    parts.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" '
                 f'stroke="{MUTED}"/>')
    parts.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 8}" font-size="11" '
                 f'text-anchor="middle" fill="{MUTED}">{escape(x_label)}</text>')
    if y_label:
        mid = top + plot_h / 2
        parts.append(f'<text x="14" y="{mid:.1f}" font-size="11" text-anchor="middle" '
                     f'fill="{MUTED}" transform="rotate(-90 14 {mid:.1f})">'
                     f"{escape(y_label)}</text>")
    for x in marks:
        if x0 <= x <= x1:
            parts.append(f'<line class="mark" x1="{px(x):.1f}" y1="{top}" x2="{px(x):.1f}" '
                         f'y2="{top + plot_h}" stroke="{JUMP}" stroke-dasharray="4 3"/>')
    for i, (name, ys) in enumerate(lines.items()):
        colour = LINE_COLOURS[i % len(LINE_COLOURS)]
        points = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in zip(xs, ys, strict=False))
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.6" '
                     f'points="{points}"/>')
        parts.append(f'<text x="{left + plot_w + 10}" y="{top + 10 + 15 * i}" font-size="11" '
                     f'fill="{colour}"><title>{escape(name)}</title>'
                     f"{escape(_fit(name, legend_w, 11))}</text>")
    parts.append("</svg>")
    return "".join(parts)


def histogram(
    values: Sequence[float],
    *,
    title: str,
    x_label: str,
    low: float = -1.0,
    high: float = 1.0,
    bins: int = 20,
    good_from: float | None = None,
    width: int = 480,
    height: int = 190,
) -> str:
    """Counts of ``values`` in ``bins`` equal bins from ``low`` to ``high``.

    Bins whose lower edge is at least ``good_from`` are green.
    """
    left, right, top, bottom = 48, 12, 28, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    counts = [0] * bins
    step = (high - low) / bins
    for v in values:
        if low <= v <= high:
            counts[min(bins - 1, int((v - low) / step))] += 1
    y_ticks = _covering_ticks(max(max(counts), 1))
    y1 = max(y_ticks[-1], max(counts), 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" class="plot histogram">',
             f"<title>{escape(title)}</title>",
             f'<text x="{left}" y="16" font-size="13" font-weight="600" fill="{INK}">'
             f"{escape(title)}</text>"]
    for tick in y_ticks:
        y = top + plot_h - tick / y1 * plot_h
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="{GRID}"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end" '
                     f'fill="{MUTED}">{_label(tick)}</text>')
    bar = plot_w / bins
    for i, count in enumerate(counts):
        edge = low + i * step
        h = plot_h * count / y1
        colour = SAFE if good_from is not None and edge >= good_from - 1e-9 else MUTED
        parts.append(f'<rect x="{left + i * bar:.1f}" y="{top + plot_h - h:.1f}" '
                     f'width="{bar - 1:.1f}" height="{h:.1f}" fill="{colour}"><title>'
                     f"{edge:.2f} to {edge + step:.2f}: {count}</title></rect>")
    for tick in _ticks(low, high, 4):
        x = left + (tick - low) / (high - low) * plot_w
        parts.append(f'<text x="{x:.1f}" y="{top + plot_h + 16}" font-size="11" '
                     f'text-anchor="middle" fill="{MUTED}">{_label(tick)}</text>')
    parts.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" '
                 f'y2="{top + plot_h}" stroke="{MUTED}"/>')
    parts.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 8}" font-size="11" '
                 f'text-anchor="middle" fill="{MUTED}">{escape(x_label)}</text>')
    mid = top + plot_h / 2
    parts.append(f'<text x="14" y="{mid:.1f}" font-size="11" text-anchor="middle" '
                 f'fill="{MUTED}" transform="rotate(-90 14 {mid:.1f})">count</text>')
    parts.append("</svg>")
    return "".join(parts)
