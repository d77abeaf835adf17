"""Predicted plasma concentration curves as server-side SVG (pure Python), in the
style of the score and vitals charts: presentation attributes only (CSP), a
title and description for screen readers, and the "predicted, not measured"
label on the chart itself."""

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 150, 14, 34
COLOURS = ("#1f5f8b", "#d9822b", "#1e5631", "#6b4a9b")
DASHES = ("0", "6 3", "2 3", "8 3 2 3")


@dataclass(frozen=True)
class Curve:
    label: str
    minutes: Sequence[float]
    ng_ml: Sequence[float]


def _nice_top(peak: float) -> float:
    for step in (50, 100, 200, 250, 500, 1000, 2000, 5000):
        if peak <= step:
            return float(step)
    return float(int(peak / 1000 + 1) * 1000)


def concentration_svg(
    curves: Sequence[Curve],
    *,
    chart_id: str,
    reference_ng_ml: float | None = None,
    reference_label: str = "",
    now_minute: float | None = None,
) -> str:
    if not curves or not curves[0].minutes:
        return ""
    last = max(max(c.minutes) for c in curves)
    peak = max(max(c.ng_ml) for c in curves)
    top = _nice_top(max(peak, reference_ng_ml or 0) * 1.05)
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(minute: float) -> float:
        return LEFT + inner_w * minute / (last or 1)

    def y(value: float) -> float:
        return TOP + inner_h * (1 - min(value, top) / top)

    names = ", ".join(c.label for c in curves)
    parts = [
        f'<svg class="progress-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-title">Predicted plasma ketamine (not measured)</title>',
        f'<desc id="{chart_id}-desc">Model predictions ({escape(names)}) in ng/mL over '
        f"{last:.0f} minutes from the dose start; peak {peak:.0f} ng/mL. The table "
        "below gives the values.</desc>",
    ]
    for fraction in (0, 0.25, 0.5, 0.75, 1):
        value = top * fraction
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" '
            f'y2="{y(value):.1f}" stroke="#d5dbe3" stroke-width="1"/>'
            f'<text x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end" '
            f'font-size="11" fill="#55606e">{value:.0f}</text>'
        )
    for minute in range(0, int(last) + 1, 60 if last > 120 else 20):
        parts.append(
            f'<text x="{x(minute):.1f}" y="{HEIGHT - 14}" text-anchor="middle" '
            f'font-size="11" fill="#55606e">{minute} min</text>'
        )
    if reference_ng_ml is not None:
        ry = y(reference_ng_ml)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{ry:.1f}" y2="{ry:.1f}" '
            'stroke="#55606e" stroke-dasharray="4 4" stroke-width="1"/>'
            f'<text x="{WIDTH - RIGHT + 4}" y="{ry + 4:.1f}" font-size="10" '
            f'fill="#55606e">{escape(reference_label)}</text>'
        )
    if now_minute is not None and 0 <= now_minute <= last:
        parts.append(
            f'<line x1="{x(now_minute):.1f}" x2="{x(now_minute):.1f}" y1="{TOP}" '
            f'y2="{HEIGHT - BOTTOM}" stroke="#a32020" stroke-width="1"/>'
            f'<text x="{x(now_minute) + 3:.1f}" y="{TOP + 10}" font-size="10" '
            'fill="#a32020">now</text>'
        )
    legend_y = TOP + 30
    for n, curve in enumerate(curves):
        colour, dash = COLOURS[n % len(COLOURS)], DASHES[n % len(DASHES)]
        step = max(1, len(curve.minutes) // 300)
        points = " ".join(
            f"{x(m):.1f},{y(v):.1f}"
            for m, v in list(zip(curve.minutes, curve.ng_ml, strict=True))[::step]
        )
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" '
            f'stroke-width="2" stroke-dasharray="{dash}"/>'
            f'<text x="{WIDTH - RIGHT + 4}" y="{legend_y}" font-size="11" '
            f'fill="{colour}">{escape(curve.label)}</text>'
        )
        legend_y += 16
    parts.append(
        f'<text x="{LEFT + 4}" y="{TOP + 12}" font-size="12" font-weight="bold" '
        'fill="#1b2430">Predicted, not measured</text>'
    )
    parts.append("</svg>")
    return "".join(parts)
