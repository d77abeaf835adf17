"""The vitals chart of one dosing session: server-side SVG, pure Python.

Blood pressure (systolic and diastolic), heart rate and SpO₂ against minutes from the
dose start, each on the same 0-200 scale; a dashed line marks the protocol's
systolic limit. Presentation attributes only (no inline CSS), for the CSP.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 40, 110, 12, 30
SCALE_TOP = 200

SERIES = (
    ("systolic", "Systolic", "#a32020", "0"),
    ("diastolic", "Diastolic", "#d9822b", "0"),
    ("heart_rate", "Heart rate", "#1f5f8b", "6 3"),
    ("spo2", "SpO₂ %", "#1e5631", "2 3"),
)


@dataclass(frozen=True)
class ChartVital:
    minute: float
    systolic: int | None
    diastolic: int | None
    heart_rate: int | None
    spo2: int | None


def _y(value: float) -> float:
    inner = HEIGHT - TOP - BOTTOM
    return TOP + inner * (1 - min(value, SCALE_TOP) / SCALE_TOP)


def vitals_svg(
    vitals: Sequence[ChartVital], *, systolic_limit: int | None, chart_id: str
) -> str:
    """An accessible SVG (title and description) of the session's vitals."""
    if not vitals:
        return ""
    first = min(v.minute for v in vitals)
    last = max(v.minute for v in vitals)
    span = (last - first) or 1.0
    inner_w = WIDTH - LEFT - RIGHT

    def x(minute: float) -> float:
        if last == first:
            return LEFT + inner_w / 2
        return LEFT + inner_w * (minute - first) / span

    parts = [
        f'<svg class="progress-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-title">Vital signs over the session</title>',
        f'<desc id="{chart_id}-desc">{len(vitals)} readings from minute '
        f"{first:.0f} to minute {last:.0f} after the dose start. The table below "
        "lists every value.</desc>",
    ]
    for tick in range(0, SCALE_TOP + 1, 50):
        y = _y(tick)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            'stroke="#d5dbe3" stroke-width="1"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#55606e">{tick}</text>'
        )
    if systolic_limit is not None:
        y = _y(systolic_limit)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            'stroke="#a32020" stroke-dasharray="4 4" stroke-width="1"/>'
            f'<text x="{LEFT + 4}" y="{y - 4:.1f}" font-size="11" '
            f'fill="#a32020">systolic limit {systolic_limit}</text>'
        )
    for minute in sorted({round(first), round(last)}):
        parts.append(
            f'<text x="{x(minute):.1f}" y="{HEIGHT - 10}" text-anchor="middle" '
            f'font-size="11" fill="#55606e">{minute:+d} min</text>'
        )
    legend_y = TOP + 40
    for field, label, colour, dash in SERIES:
        points = [
            (x(v.minute), _y(value))
            for v in vitals
            if (value := getattr(v, field)) is not None
        ]
        if not points:
            continue
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{colour}" '
            f'stroke-width="2" stroke-dasharray="{dash}"/>'
        )
        parts.extend(
            f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}"/>'
            for px, py in points
        )
        parts.append(
            f'<text x="{WIDTH - RIGHT + 4}" y="{legend_y}" font-size="11" '
            f'fill="{colour}">{escape(label)}</text>'
        )
        legend_y += 16
    parts.append("</svg>")
    return "".join(parts)


def weekly_minutes_svg(weeks: Sequence[tuple[str, int]], *, chart_id: str) -> str:
    """Bars of minutes practised per week (label, minutes), oldest first."""
    if not weeks:
        return ""
    width, height, bottom = 320, 120, 20
    peak = max(m for _, m in weeks) or 1
    step = width / len(weeks)
    total = sum(m for _, m in weeks)
    parts = [
        f'<svg class="mini-chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-title">Minutes of practice per week: {total} in '
        f"{len(weeks)} weeks. The table lists each week.</title>",
    ]
    for index, (label, minutes) in enumerate(weeks):
        bar = (height - bottom - 14) * minutes / peak
        x = index * step + 4
        y = height - bottom - bar
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{step - 8:.1f}" height="{bar:.1f}" '
            'fill="#1f5f8b"/>'
            f'<text x="{x + (step - 8) / 2:.1f}" y="{max(y - 3, 10):.1f}" '
            f'text-anchor="middle" font-size="10" fill="#1b2430">{minutes}</text>'
            f'<text x="{x + (step - 8) / 2:.1f}" y="{height - 6}" text-anchor="middle" '
            f'font-size="10" fill="#55606e">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
